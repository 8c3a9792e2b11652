// Contacts (/admin/user/contacts CRUD, /me/contacts) and buddies (/me/buddies CRUD) of the users plugin, without
// Asterisk. Contact passwords are stored but always answered as "".
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Gateway } from '../../core/gateway.ts';
import { testLogger } from '../support/log.ts';
import { type TempGateway, tempGateway } from '../support/gateway.ts';
import { client } from '../support/http.ts';

let gateway: TempGateway;
let dir: string;
let gw: Gateway;
let admin: ReturnType<typeof client>;
let alice: ReturnType<typeof client>;
let bob: ReturnType<typeof client>;
const uuid: Record<string, string> = {};

before(async () => {
  gateway = await tempGateway({
    prefix: 'gw-contacts',
    yaml: (d) =>
      `ami: {port: 1, username: u, secret: s}\ndata_dir: ${d}\nauth: {bootstrap_admin: {username: admin, password: pw}}\nplugins: [users]\n`,
    known: ['core', 'users', 'chat'],
    logger: testLogger('test'),
  });
  ({ gw, dir } = gateway);
  admin = client(gw.http.fetch);
  await admin.login('admin', 'pw');
  uuid.admin = gw.accounts.byUsername('admin')!.uuid;
  const users: ReturnType<typeof client>[] = [];
  for (const name of ['alice', 'bob']) {
    const a = await admin.post('/v1/admin/user/users', { username: name, password: `pw-${name}` });
    assert.equal(a.status, 200, a.text);
    uuid[name] = a.body.result.uuid;
    const c = client(gw.http.fetch);
    await c.login(name, `pw-${name}`, 'me');
    users.push(c);
  }
  [alice, bob] = users as [ReturnType<typeof client>, ReturnType<typeof client>];
});
after(() => gateway?.close());

const spec = () => ({
  user_uuid: uuid.alice,
  type: 'pjsip_endpoint',
  target: '199',
  name: 'test target',
  detail: 'test target detail 4',
  info: { id: '199', password: 'contact-pw-199', public_url: 'sip:199@192.168.200.10', realm: 'localhost' },
});

test('contacts: admin CRUD; passwords stored but answered as ""', async () => {
  const created = await admin.post('/v1/admin/user/contacts', spec());
  assert.equal(created.status, 200, created.text);
  const c = created.body.result;
  assert.deepEqual(
    { ...c, uuid: undefined, tm_create: undefined, tm_update: undefined },
    { ...spec(), info: { ...spec().info, password: '' }, uuid: undefined, tm_create: undefined, tm_update: undefined },
  );
  assert.match(c.uuid, /^[0-9a-f-]{36}$/);
  await gw.store.flush();
  assert.match(readFileSync(path.join(dir, 'gateway.json'), 'utf8'), /contact-pw-199/, 'the password is kept');

  const other = (await admin.post('/v1/admin/user/contacts', { user_uuid: uuid.bob, type: 'pjsip_endpoint', target: '200' })).body.result;
  assert.deepEqual([other.name, other.detail, other.info], ['', '', {}]);
  const all = await admin.get('/v1/admin/user/contacts');
  assert.deepEqual(
    all.body.result.list.map((x: { uuid: string }) => x.uuid),
    [c.uuid, other.uuid],
  );
  const onlyAlice = await admin.get(`/v1/admin/user/contacts?user_uuid=${uuid.alice}`);
  assert.deepEqual(
    onlyAlice.body.result.list.map((x: { uuid: string }) => x.uuid),
    [c.uuid],
  );
  assert.doesNotMatch(all.text, /contact-pw-199/);
  assert.deepEqual((await admin.get(`/admin/user/contacts/${c.uuid}`)).body.result, c);

  // a client sends back what it read: "" keeps the stored password; a new value replaces it; leaving it out removes it
  const renamed = await admin.put(`/v1/admin/user/contacts/${c.uuid}`, { ...c, name: 'desk phone' });
  assert.equal(renamed.status, 200, renamed.text);
  assert.equal(renamed.body.result.name, 'desk phone');
  assert.equal(renamed.body.result.info.password, '');
  const stored = () => (gw.store.rows('contacts').find((r) => r.uuid === c.uuid) as unknown as { info: Record<string, unknown> }).info;
  assert.equal(stored().password, 'contact-pw-199');
  await admin.put(`/v1/admin/user/contacts/${c.uuid}`, { info: { ...c.info, password: 'new-pw' } });
  assert.equal(stored().password, 'new-pw');
  await admin.put(`/v1/admin/user/contacts/${c.uuid}`, { info: { id: '199', port: 5060, tls: false } });
  assert.deepEqual(stored(), { id: '199', port: 5060, tls: false });
  const moved = await admin.put(`/v1/admin/user/contacts/${other.uuid}`, { user_uuid: uuid.alice });
  assert.equal(moved.body.result.user_uuid, uuid.alice);

  assert.equal((await admin.del(`/v1/admin/user/contacts/${other.uuid}`)).status, 200);
  assert.equal((await admin.get(`/v1/admin/user/contacts/${other.uuid}`)).status, 404);
  assert.equal((await admin.del(`/v1/admin/user/contacts/${other.uuid}`)).status, 404);
});

test("/me/contacts lists the caller's own only; /admin/user/contacts needs admin", async () => {
  const mine = (await admin.post('/v1/admin/user/contacts', spec())).body.result;
  const bobs = (await admin.post('/v1/admin/user/contacts', { ...spec(), user_uuid: uuid.bob, target: '300' })).body.result;
  const a = await alice.get('/v1/me/contacts');
  assert.equal(a.status, 200);
  assert.ok(a.body.result.list.some((x: { uuid: string }) => x.uuid === mine.uuid));
  assert.ok(a.body.result.list.every((x: { user_uuid: string }) => x.user_uuid === uuid.alice));
  assert.ok(a.body.result.list.every((x: { info: { password?: string } }) => !x.info.password));
  assert.deepEqual(
    (await bob.get('/me/contacts')).body.result.list.map((x: { uuid: string }) => x.uuid),
    [bobs.uuid],
  );
  assert.equal((await alice.get('/v1/admin/user/contacts')).status, 403);
  assert.equal((await alice.post('/v1/admin/user/contacts', spec())).status, 403);
  assert.equal((await alice.del(`/v1/admin/user/contacts/${mine.uuid}`)).status, 403);
  assert.equal((await client(gw.http.fetch).get('/v1/me/contacts')).status, 401);
  // without the chat plugin, /me/info still carries both keys
  const info = (await alice.get('/v1/me/info')).body.result;
  assert.deepEqual(info.chats, []);
  assert.ok(info.contacts.some((x: { uuid: string }) => x.uuid === mine.uuid));
});

test('contacts: bad input', async () => {
  const c = (await admin.post('/v1/admin/user/contacts', spec())).body.result;
  const cases: [string, string, unknown, number, RegExp][] = [
    ['POST', '/v1/admin/user/contacts', '{"type": ', 400, /malformed JSON/],
    ['POST', '/v1/admin/user/contacts', { ...spec(), user_uuid: undefined }, 400, /user_uuid: is required/],
    ['POST', '/v1/admin/user/contacts', { ...spec(), user_uuid: 'no-such-user' }, 404, /no user with uuid no-such-user/],
    ['POST', '/v1/admin/user/contacts', { ...spec(), type: 5 }, 400, /type: must be a string/],
    ['POST', '/v1/admin/user/contacts', { ...spec(), type: '' }, 400, /type: must not be empty/],
    ['POST', '/v1/admin/user/contacts', { ...spec(), target: '   ' }, 400, /target: must not be empty/],
    ['POST', '/v1/admin/user/contacts', { ...spec(), name: 'a\r\nb' }, 400, /name: must not contain CR, LF/],
    ['POST', '/v1/admin/user/contacts', { ...spec(), target: '1\n2' }, 400, /target: must not contain CR, LF/],
    ['POST', '/v1/admin/user/contacts', { ...spec(), info: 'x' }, 400, /info: must be a JSON object/],
    ['POST', '/v1/admin/user/contacts', { ...spec(), info: { nested: { a: 1 } } }, 400, /info.nested: must be a string, number or boolean/],
    ['POST', '/v1/admin/user/contacts', { ...spec(), info: { realm: 'a\nb' } }, 400, /info.realm: must not contain CR, LF/],
    ['POST', '/v1/admin/user/contacts', { ...spec(), info: { 'x\r\ny': 1 } }, 400, /must not contain CR, LF/],
    ['POST', '/v1/admin/user/contacts', { ...spec(), info: { id: null } }, 400, /info.id: must be a string, number or boolean/],
    ['POST', '/v1/admin/user/contacts', { ...spec(), colour: 'red' }, 400, /colour: unknown field/],
    ['PUT', `/v1/admin/user/contacts/${c.uuid}`, { user_uuid: 'nobody' }, 404, /no user/],
    ['PUT', `/v1/admin/user/contacts/${c.uuid}`, { detail: 'x\ry' }, 400, /detail: must not contain CR, LF/],
    ['PUT', '/v1/admin/user/contacts/nope', { name: 'x' }, 404, /no contact with uuid nope/],
    ['GET', '/v1/admin/user/contacts/nope', undefined, 404, /no contact/],
  ];
  for (const [method, p, body, status, msg] of cases) {
    const a = await admin.call(method, p, body);
    assert.equal(a.status, status, `${method} ${p} ${JSON.stringify(body)}: ${a.text}`);
    assert.match(a.body.result.message, msg, `${method} ${p} ${JSON.stringify(body)}`);
  }
  assert.equal((await admin.get(`/v1/admin/user/contacts/${c.uuid}`)).body.result.detail, c.detail, 'unchanged by the bad PUTs');
});

test("buddies: CRUD on the caller's own list", async () => {
  const created = await alice.post('/v1/me/buddies', { uuid_user: uuid.bob });
  assert.equal(created.status, 200, created.text);
  const b = created.body.result;
  assert.equal(b.uuid_user, uuid.bob);
  assert.equal(b.name, null, 'unset, as in the spec');
  assert.equal(b.detail, null);
  assert.deepEqual(Object.keys(b).sort(), ['detail', 'name', 'tm_create', 'tm_update', 'uuid', 'uuid_user']);
  const list = await alice.get('/v1/me/buddies');
  assert.ok(Array.isArray(list.body.result), 'the spec answers a JSON array');
  assert.deepEqual(list.body.result, [b]);
  assert.deepEqual((await bob.get('/me/buddies')).body.result, [], "alice's list is hers");
  assert.deepEqual((await alice.get(`/v1/me/buddies/${b.uuid}`)).body.result, b);

  // a client may send back what it read: uuid and tm_* are ignored
  const named = await alice.put(`/v1/me/buddies/${b.uuid}`, { ...b, name: 'Bob', detail: 'from sales' });
  assert.equal(named.status, 200, named.text);
  assert.deepEqual([named.body.result.name, named.body.result.detail], ['Bob', 'from sales']);
  const swapped = await alice.put(`/v1/me/buddies/${b.uuid}`, { uuid_user: uuid.admin });
  assert.equal(swapped.body.result.uuid_user, uuid.admin);
  const two = await alice.post('/v1/me/buddies', { uuid_user: uuid.bob, name: 'Bob again' });
  assert.equal(two.status, 200);
  const clash = await alice.put(`/v1/me/buddies/${b.uuid}`, { uuid_user: uuid.bob });
  assert.equal(clash.status, 409);

  // another user's entry is 403, an unknown one 404
  assert.equal((await bob.get(`/v1/me/buddies/${b.uuid}`)).status, 403);
  assert.equal((await bob.put(`/v1/me/buddies/${b.uuid}`, { name: 'x' })).status, 403);
  assert.equal((await bob.del(`/v1/me/buddies/${b.uuid}`)).status, 403);
  assert.equal((await alice.del(`/v1/me/buddies/${b.uuid}`)).status, 200);
  assert.equal((await alice.get(`/v1/me/buddies/${b.uuid}`)).status, 404);
  assert.deepEqual(
    (await alice.get('/v1/me/buddies')).body.result.map((x: { uuid: string }) => x.uuid),
    [two.body.result.uuid],
  );
});

test('buddies: bad input', async () => {
  const cases: [string, string, unknown, number, RegExp][] = [
    ['POST', '/v1/me/buddies', '{"uuid_user": ', 400, /malformed JSON/],
    ['POST', '/v1/me/buddies', {}, 400, /uuid_user: is required/],
    ['POST', '/v1/me/buddies', { uuid_user: 7 }, 400, /uuid_user: must be a string/],
    ['POST', '/v1/me/buddies', { uuid_user: 'no-such-user' }, 404, /no user with uuid no-such-user/],
    ['POST', '/v1/me/buddies', { uuid_user: uuid.bob }, 409, /already your buddy/],
    ['POST', '/v1/me/buddies', { uuid_user: uuid.alice }, 400, /your own buddy/],
    ['POST', '/v1/me/buddies', { uuid_user: uuid.admin, name: 'a\nb' }, 400, /name: must not contain CR, LF/],
    ['POST', '/v1/me/buddies', { uuid_user: uuid.admin, nick: 'x' }, 400, /nick: unknown field/],
    ['PUT', '/v1/me/buddies/nope', { name: 'x' }, 404, /no buddy with uuid nope/],
    ['PUT', '/v1/me/buddies/nope', { detail: 5 }, 400, /detail: must be a string/],
    ['DELETE', '/v1/me/buddies/nope', undefined, 404, /no buddy/],
  ];
  for (const [method, p, body, status, msg] of cases) {
    const a = await alice.call(method, p, body);
    assert.equal(a.status, status, `${method} ${p} ${JSON.stringify(body)}: ${a.text}`);
    assert.match(a.body.result.message, msg, `${method} ${p} ${JSON.stringify(body)}`);
  }
  assert.ok(!(await alice.get('/v1/me/buddies')).body.result.some((x: { uuid_user: string }) => x.uuid_user === uuid.admin));
});

test('deleting a user takes their contacts, their buddy list and buddy entries naming them along', async () => {
  const made = await admin.post('/v1/admin/user/users', { username: 'dora', password: 'pw-dora' });
  const dora = made.body.result.uuid as string;
  const doraClient = client(gw.http.fetch);
  await doraClient.login('dora', 'pw-dora', 'me');
  assert.equal((await admin.post('/v1/admin/user/contacts', { ...spec(), user_uuid: dora })).status, 200);
  assert.equal((await doraClient.post('/v1/me/buddies', { uuid_user: uuid.alice })).status, 200);
  assert.equal((await alice.post('/v1/me/buddies', { uuid_user: dora })).status, 200);
  const aliceBuddiesBefore = (await alice.get('/v1/me/buddies')).body.result.length;

  assert.equal((await admin.del(`/v1/admin/user/users/${dora}`)).status, 200);
  const contacts = (await admin.get(`/v1/admin/user/contacts?user_uuid=${dora}`)).body.result.list;
  assert.deepEqual(contacts, []);
  const aliceBuddies = (await alice.get('/v1/me/buddies')).body.result as { uuid_user: string }[];
  assert.equal(aliceBuddies.length, aliceBuddiesBefore - 1);
  assert.ok(aliceBuddies.every((b) => b.uuid_user !== dora));
  await gw.store.flush();
  assert.doesNotMatch(readFileSync(path.join(dir, 'gateway.json'), 'utf8'), new RegExp(dora));
});
