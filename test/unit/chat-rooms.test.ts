// The chat plugin without Asterisk: /me/chats CRUD, membership (403), message paging, messages kept out of
// gateway.json, chat.message.created over a real WebSocket, and /me/info embedding chats and contacts.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import WebSocket from 'ws';
import type { Gateway } from '../../core/gateway.ts';
import { testLogger } from '../support/log.ts';
import { gatewayIn, type TempGateway, tempGateway } from '../support/gateway.ts';
import { client } from '../support/http.ts';
import { parseTimestamp } from '../../plugins/chat/schemas.ts';

let gateway: TempGateway;
let dir: string;
let gw: Gateway;
let base: string;
let admin: ReturnType<typeof client>;
let alice: ReturnType<typeof client>;
let bob: ReturnType<typeof client>;
let carol: ReturnType<typeof client>;
const uuid: Record<string, string> = {};
/** Every bus payload that did not match its declared schema (the bus checks them when this is set). */
const invalidEvents: string[] = [];

const KNOWN = ['core', 'users', 'chat'];
const yaml = (d: string) =>
  `http: {port: 0}\nami: {port: 1, username: u, secret: s}\ndata_dir: ${d}\nauth: {bootstrap_admin: {username: admin, password: pw}}\nplugins: [users, chat]\n`;

before(async () => {
  gateway = await tempGateway({ prefix: 'gw-chat', yaml, known: KNOWN, logger: testLogger('test') });
  ({ gw, dir } = gateway);
  gw.bus.onInvalid = (type, problem) => invalidEvents.push(`${type}: ${problem}`);
  const server = await gw.start();
  base = `127.0.0.1:${server.port}`;
  admin = client(gw.http.fetch);
  await admin.login('admin', 'pw');
  const users: Record<string, ReturnType<typeof client>> = {};
  for (const name of ['alice', 'bob', 'carol']) {
    const a = await admin.post('/v1/admin/user/users', { username: name, password: `pw-${name}` });
    assert.equal(a.status, 200, a.text);
    uuid[name] = a.body.result.uuid;
    users[name] = client(gw.http.fetch);
    await users[name]!.login(name, `pw-${name}`, 'me');
  }
  ({ alice, bob, carol } = users as Record<'alice' | 'bob' | 'carol', ReturnType<typeof client>>);
});
after(() => gateway?.close());

async function newChat(by: ReturnType<typeof client>, members: string[], name = 'room') {
  const a = await by.post('/v1/me/chats', { name, detail: 'd', type: 1, members });
  assert.equal(a.status, 200, a.text);
  return a.body.result;
}

const entryOf = async (who: ReturnType<typeof client>, roomUuid: string) =>
  ((await who.get('/v1/me/chats')).body.result as any[]).find((c) => c.room.uuid === roomUuid);

test('chats CRUD: every member gets an entry; name and detail are per user', async () => {
  const chat = await newChat(alice, [uuid.bob!], 'lunch');
  assert.match(chat.uuid, /^[0-9a-f-]{36}$/);
  assert.equal(chat.name, 'lunch');
  assert.equal(chat.detail, 'd');
  assert.deepEqual(chat.room.members, [uuid.bob, uuid.alice], 'the creator is added to the members');
  assert.equal(chat.room.type, 1);
  assert.equal(chat.room.uuid_creator, uuid.alice);
  assert.equal(chat.room.uuid_owner, uuid.alice);
  for (const k of ['tm_create', 'tm_update']) assert.equal(typeof chat[k], 'string');

  const list = await alice.get('/v1/me/chats');
  assert.equal(list.status, 200);
  assert.ok(Array.isArray(list.body.result), 'the spec answers a JSON array');
  assert.deepEqual(
    list.body.result.map((c: { uuid: string }) => c.uuid),
    [chat.uuid],
  );
  const bobs = await entryOf(bob, chat.room.uuid);
  assert.ok(bobs && bobs.uuid !== chat.uuid, 'bob has an entry of his own for the room');
  assert.deepEqual((await carol.get('/me/chats')).body.result, []);

  assert.deepEqual((await alice.get(`/v1/me/chats/${chat.uuid}`)).body.result, chat);
  const renamed = await alice.put(`/v1/me/chats/${chat.uuid}`, { name: 'lunch on friday' });
  assert.equal(renamed.status, 200, renamed.text);
  assert.equal(renamed.body.result.name, 'lunch on friday');
  assert.equal((await bob.get(`/v1/me/chats/${bobs.uuid}`)).body.result.name, 'lunch', "bob's name is his own");

  // the owner changes the members: bob out, carol in
  const moved = await alice.put(`/v1/me/chats/${chat.uuid}`, { members: [uuid.alice, uuid.carol] });
  assert.equal(moved.status, 200, moved.text);
  assert.deepEqual(moved.body.result.room.members, [uuid.alice, uuid.carol]);
  assert.equal(await entryOf(bob, chat.room.uuid), undefined);
  assert.equal((await bob.get(`/v1/me/chats/${bobs.uuid}`)).status, 404, "bob's entry went with his membership");
  assert.equal((await entryOf(carol, chat.room.uuid)).name, 'lunch on friday');

  // DELETE leaves; the owner's leaving hands the room on; the last to leave deletes it
  assert.equal((await alice.del(`/v1/me/chats/${chat.uuid}`)).status, 200);
  assert.equal((await alice.get(`/v1/me/chats/${chat.uuid}`)).status, 404);
  const carols = await entryOf(carol, chat.room.uuid);
  assert.deepEqual(carols.room.members, [uuid.carol]);
  assert.equal(carols.room.uuid_owner, uuid.carol);
  assert.equal((await carol.del(`/me/chats/${carols.uuid}`)).status, 200);
  assert.equal(
    gw.store.rows('chat_rooms').some((r) => r.uuid === chat.room.uuid),
    false,
    'an empty room is deleted',
  );
});

test("membership: only members read or post (403); only the owner changes members; others' entries are 403", async () => {
  const chat = await newChat(alice, [uuid.bob!]);
  const bobs = await entryOf(bob, chat.room.uuid);
  assert.equal((await carol.get(`/v1/me/chats/${chat.uuid}/messages`)).status, 403);
  const post = await carol.post(`/v1/me/chats/${chat.uuid}/messages`, { message: 'let me in' });
  assert.equal(post.status, 403);
  assert.match(post.body.result.message, /only members/);
  assert.equal((await carol.get(`/v1/me/chats/${chat.uuid}`)).status, 403);
  assert.equal((await carol.put(`/v1/me/chats/${chat.uuid}`, { name: 'mine' })).status, 403);
  assert.equal((await carol.del(`/v1/me/chats/${chat.uuid}`)).status, 403);
  // a member may reach the room through another member's entry uuid (the room is what counts)
  assert.equal((await bob.post(`/v1/me/chats/${chat.uuid}/messages`, { message: 'hi' })).status, 200);
  const notOwner = await bob.put(`/v1/me/chats/${bobs.uuid}`, { members: [uuid.bob, uuid.carol] });
  assert.equal(notOwner.status, 403);
  assert.match(notOwner.body.result.message, /owner/);
  assert.equal((await bob.put(`/v1/me/chats/${bobs.uuid}`, { type: 2 })).status, 403);
  const ownerOut = await alice.put(`/v1/me/chats/${chat.uuid}`, { members: [uuid.bob] });
  assert.equal(ownerOut.status, 400);
  // no token at all
  const anon = client(gw.http.fetch);
  assert.equal((await anon.get('/v1/me/chats')).status, 401);
});

test('messages: CR/LF kept, newest first, paged by ?timestamp=&count= without repeats or gaps', async () => {
  const chat = await newChat(alice, [uuid.bob!]);
  const bobs = await entryOf(bob, chat.room.uuid);
  const first = await alice.post(`/v1/me/chats/${chat.uuid}/messages`, { message: 'line one\r\nline two\nline three' });
  assert.equal(first.status, 200, first.text);
  assert.deepEqual(Object.keys(first.body.result).sort(), ['message', 'tm_create', 'uuid', 'uuid_owner']);
  assert.deepEqual(first.body.result.message, { message: 'line one\r\nline two\nline three' });
  assert.equal(first.body.result.uuid_owner, uuid.alice);
  const sent = [first.body.result];
  for (let i = 1; i <= 6; i++) {
    const who = i % 2 ? bob : alice;
    const a = await who.post(`/v1/me/chats/${i % 2 ? bobs.uuid : chat.uuid}/messages`, { message: `m${i}` });
    assert.equal(a.status, 200, a.text);
    sent.push(a.body.result);
  }
  const times = sent.map((m) => Date.parse(m.tm_create));
  for (let i = 1; i < times.length; i++) assert.ok(times[i]! > times[i - 1]!, 'tm_create strictly increases within a room');

  const all = await bob.get(`/v1/me/chats/${bobs.uuid}/messages`);
  assert.equal(all.status, 200);
  assert.ok(Array.isArray(all.body.result));
  assert.deepEqual(
    all.body.result.map((m: { uuid: string }) => m.uuid),
    sent.map((m) => m.uuid).reverse(),
  );

  const seen: string[] = [];
  let ts: string | undefined;
  for (;;) {
    const q = `count=3${ts ? `&timestamp=${encodeURIComponent(ts)}` : ''}`;
    const page = await alice.get(`/v1/me/chats/${chat.uuid}/messages?${q}`);
    assert.equal(page.status, 200, page.text);
    assert.ok(page.body.result.length <= 3);
    if (page.body.result.length === 0) break;
    seen.push(...page.body.result.map((m: { uuid: string }) => m.uuid));
    ts = page.body.result.at(-1).tm_create;
  }
  assert.deepEqual(seen, sent.map((m) => m.uuid).reverse(), 'the pages together are every message once, newest first');

  // the spec's nanosecond timestamps: a message at .364Z is older than .364443446Z but not than .364000000Z
  const t = sent[3].tm_create as string;
  const nano = t.replace(/Z$/, '443446Z');
  const upTo = (await alice.get(`/v1/me/chats/${chat.uuid}/messages?count=1&timestamp=${encodeURIComponent(nano)}`)).body.result;
  assert.equal(upTo[0].uuid, sent[3].uuid);
  const before = (await alice.get(`/v1/me/chats/${chat.uuid}/messages?count=1&timestamp=${t.replace(/Z$/, '000000Z')}`)).body.result;
  assert.equal(before[0].uuid, sent[2].uuid);
  assert.equal(parseTimestamp('2018-03-30T10:30:02+02:00'), Date.parse('2018-03-30T08:30:02Z'));
  assert.equal(parseTimestamp('2018-03-30T10:30:02 0200'), Date.parse('2018-03-30T08:30:02Z'), 'an unencoded + arrives as a space');

  // empty parameters count as absent: the newest page, the default count
  const blank = await alice.get(`/v1/me/chats/${chat.uuid}/messages?timestamp=&count=`);
  assert.equal(blank.status, 200, blank.text);
  assert.deepEqual(
    blank.body.result.map((m: { uuid: string }) => m.uuid),
    sent.map((m) => m.uuid).reverse(),
  );

  for (const q of ['count=0', 'count=-1', 'count=x', 'count=1001', 'timestamp=yesterday', 'timestamp=2018-13-45T99:00:00Z']) {
    const a = await alice.get(`/v1/me/chats/${chat.uuid}/messages?${q}`);
    assert.equal(a.status, 400, q);
    assert.match(a.body.result.message, /^(count|timestamp):/);
  }
});

test('messages are kept in their own files, not in gateway.json, and survive a restart', async () => {
  const chat = await newChat(alice, [uuid.bob!]);
  const a = await alice.post(`/v1/me/chats/${chat.uuid}/messages`, { message: 'kept-apart-7d1f' });
  assert.equal(a.status, 200);
  await gw.store.flush();
  assert.doesNotMatch(readFileSync(path.join(dir, 'gateway.json'), 'utf8'), /kept-apart-7d1f/);
  assert.match(readFileSync(path.join(dir, 'gateway.json'), 'utf8'), new RegExp(chat.room.uuid), 'rooms stay in the main store');
  const roomDir = path.join(dir, 'chat', chat.room.uuid);
  const files = readdirSync(roomDir);
  assert.deepEqual(files, [`${a.body.result.tm_create.slice(0, 7)}.json`]);
  assert.match(readFileSync(path.join(roomDir, files[0]!), 'utf8'), /kept-apart-7d1f/);

  // a second gateway on the same data_dir reads them back (and keeps tm_create increasing)
  const g2 = await gatewayIn(dir, yaml(dir), KNOWN, { logger: testLogger('test') });
  const c2 = client(g2.http.fetch);
  await c2.login('alice', 'pw-alice', 'me');
  const again = await c2.get(`/v1/me/chats/${chat.uuid}/messages`);
  assert.deepEqual(
    again.body.result.map((m: { uuid: string }) => m.uuid),
    [a.body.result.uuid],
  );
  const next = await c2.post(`/v1/me/chats/${chat.uuid}/messages`, { message: 'after restart' });
  assert.ok(Date.parse(next.body.result.tm_create) > Date.parse(a.body.result.tm_create));

  // the last member to leave deletes the room's messages too
  const bobs = await entryOf(bob, chat.room.uuid);
  assert.equal((await alice.del(`/v1/me/chats/${chat.uuid}`)).status, 200);
  assert.ok(existsSync(roomDir));
  assert.equal((await bob.del(`/v1/me/chats/${bobs.uuid}`)).status, 200);
  assert.equal(existsSync(roomDir), false);
});

test('chat.message.created reaches the room members over the WebSocket, with the text, and no one else', async () => {
  const chat = await newChat(alice, [uuid.bob!]);
  const until = async (cond: () => boolean) => {
    for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  };
  const listen = async (who: typeof bob) => {
    const ws = new WebSocket(`ws://${base}/v1/ws?authtoken=${who.token}&topics=chat.`);
    const got: any[] = [];
    ws.on('message', (d) => got.push(JSON.parse(String(d))));
    await new Promise((res, rej) => {
      ws.once('open', res);
      ws.once('error', rej);
    });
    await until(() => got.length >= 1);
    return { ws, got };
  };
  const member = await listen(bob);
  const outsider = await listen(carol);
  const sent = (await alice.post(`/v1/me/chats/${chat.uuid}/messages`, { message: 'ws-secret-text' })).body.result;
  await until(() => member.got.length >= 2);
  // a later event that carol may see proves her socket was still listening when the chat message went by
  await alice.post(`/v1/me/chats/${(await newChat(alice, [uuid.carol!])).uuid}/messages`, { message: 'for carol' });
  await until(() => outsider.got.length >= 2);
  member.ws.close();
  outsider.ws.close();
  assert.equal(member.got[1].type, 'chat.message.created');
  assert.deepEqual(member.got[1].data, { room_uuid: chat.room.uuid, ...sent });
  assert.equal(member.got[1].audience, undefined, 'the audience list itself is not sent');
  assert.doesNotMatch(JSON.stringify(outsider.got), /ws-secret-text/, 'a non-member never sees the room');
  assert.equal(outsider.got[1].data.message.message, 'for carol');
});

test('bad input: malformed JSON, wrong types, unknown fields, CR/LF in names, unknown uuids', async () => {
  const chat = await newChat(alice, [uuid.bob!]);
  const cases: [string, string, unknown, number, RegExp][] = [
    ['POST', '/v1/me/chats', '{"name": ', 400, /malformed JSON/],
    ['POST', '/v1/me/chats', '', 400, /empty/],
    ['POST', '/v1/me/chats', { name: 'x' }, 400, /members: is required/],
    ['POST', '/v1/me/chats', { members: uuid.bob }, 400, /members: must be a JSON array/],
    ['POST', '/v1/me/chats', { members: [5] }, 400, /members\[0\]: must be a user uuid/],
    ['POST', '/v1/me/chats', { members: ['no-such-user'] }, 404, /no user with uuid no-such-user/],
    ['POST', '/v1/me/chats', { members: [], type: '1' }, 400, /type: must be an integer/],
    ['POST', '/v1/me/chats', { members: [], name: 'a\r\nb' }, 400, /name: must not contain CR, LF/],
    ['POST', '/v1/me/chats', { members: [], detail: 'a\nb' }, 400, /detail: must not contain CR, LF/],
    ['POST', '/v1/me/chats', { members: [], colour: 'red' }, 400, /colour: unknown field/],
    ['PUT', `/v1/me/chats/${chat.uuid}`, { name: 'x\ny' }, 400, /name: must not contain CR, LF/],
    ['PUT', `/v1/me/chats/${chat.uuid}`, { members: ['nobody'] }, 404, /no user/],
    ['PUT', '/v1/me/chats/00000000-0000-0000-0000-000000000000', { name: 'x' }, 404, /no chat/],
    ['GET', '/v1/me/chats/00000000-0000-0000-0000-000000000000', undefined, 404, /no chat/],
    ['DELETE', '/v1/me/chats/00000000-0000-0000-0000-000000000000', undefined, 404, /no chat/],
    ['GET', '/v1/me/chats/nope/messages', undefined, 404, /no chat/],
    ['POST', '/v1/me/chats/nope/messages', { message: 'x' }, 404, /no chat/],
    ['POST', `/v1/me/chats/${chat.uuid}/messages`, '{"test message"}', 400, /malformed JSON/],
    ['POST', `/v1/me/chats/${chat.uuid}/messages`, { message: 5 }, 400, /message: must be a string/],
    ['POST', `/v1/me/chats/${chat.uuid}/messages`, { message: '' }, 400, /message: must not be empty/],
    ['POST', `/v1/me/chats/${chat.uuid}/messages`, { message: 'a\0b' }, 400, /NUL/],
    ['POST', `/v1/me/chats/${chat.uuid}/messages`, { message: 'x', to: 'y' }, 400, /to: unknown field/],
  ];
  for (const [method, p, body, status, msg] of cases) {
    const a = await alice.call(method, p, body);
    assert.equal(a.status, status, `${method} ${p} ${JSON.stringify(body)}: ${a.text}`);
    assert.equal(a.body.statuscode, status);
    assert.match(a.body.result.message, msg, `${method} ${p} ${JSON.stringify(body)}`);
  }
  const mine = (await alice.get('/v1/me/chats')).body.result;
  assert.ok(
    mine.every((c: { name: string }) => !/\n/.test(c.name)),
    'nothing was made by the bad requests',
  );
  assert.deepEqual((await alice.get(`/v1/me/chats/${chat.uuid}/messages`)).body.result, []);
});

test("GET /me/info embeds the caller's chats and contacts (passwords blank)", async () => {
  const chat = await newChat(alice, [uuid.bob!], 'info-room');
  const contact = await admin.post('/v1/admin/user/contacts', {
    user_uuid: uuid.alice,
    type: 'pjsip_endpoint',
    target: '199',
    name: 'desk phone',
    detail: 'test target detail',
    info: { id: '199', password: 'pw-199', public_url: 'sip:199@192.168.200.10', realm: 'localhost' },
  });
  assert.equal(contact.status, 200, contact.text);
  const info = await alice.get('/v1/me/info');
  assert.equal(info.status, 200);
  const r = info.body.result;
  assert.equal(r.username, 'alice');
  assert.equal(r.uuid, uuid.alice);
  assert.ok(r.chats.some((c: { uuid: string; room: { uuid: string } }) => c.uuid === chat.uuid && c.room.uuid === chat.room.uuid));
  assert.deepEqual(
    r.contacts.map((c: { uuid: string }) => c.uuid),
    [contact.body.result.uuid],
  );
  assert.equal(r.contacts[0].info.password, '');
  assert.doesNotMatch(info.text, /pw-199|password_hash|scrypt/);
  const carolInfo = (await carol.get('/me/info')).body.result;
  assert.equal(carolInfo.username, 'carol');
  assert.deepEqual(carolInfo.contacts, []);
  assert.ok(!carolInfo.chats.some((c: { room: { uuid: string } }) => c.room.uuid === chat.room.uuid));
  // PUT /me/info is still the users plugin's
  assert.equal((await alice.put('/v1/me/info', { name: 'Alice A' })).body.result.name, 'Alice A');
});

test('a deleted user leaves every room; a room whose last member is deleted is gone', async () => {
  const made = await admin.post('/v1/admin/user/users', { username: 'erin', password: 'pw-erin' });
  const erin = made.body.result.uuid as string;
  const erinClient = client(gw.http.fetch);
  await erinClient.login('erin', 'pw-erin', 'me');
  const shared = await newChat(alice, [erin]);
  const alone = (await erinClient.post('/v1/me/chats', { members: [] })).body.result;
  assert.equal((await admin.del(`/v1/admin/user/users/${erin}`)).status, 200);
  for (let i = 0; i < 100; i++) {
    const members = (await alice.get(`/v1/me/chats/${shared.uuid}`)).body.result.room.members as string[];
    if (!members.includes(erin)) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.deepEqual((await alice.get(`/v1/me/chats/${shared.uuid}`)).body.result.room.members, [uuid.alice]);
  // the rooms are cleaned up one after another: wait (bounded) until the lone room is gone from the store too
  const aloneKept = async () => {
    await gw.store.flush();
    const store = JSON.parse(readFileSync(path.join(dir, 'gateway.json'), 'utf8'));
    return store.chat_rooms.some((r: { uuid: string }) => r.uuid === alone.room.uuid);
  };
  for (let i = 0; i < 100 && (await aloneKept()); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(!(await aloneKept()), "erin's own room is deleted");
});

test('chat needs the users plugin: a gateway.yaml enabling chat alone is refused', async () => {
  await assert.rejects(
    tempGateway({
      prefix: 'gw-chat-alone',
      yaml: (d) => `ami: {port: 1, username: u, secret: s}\ndata_dir: ${d}\nplugins: [chat]\n`,
      known: KNOWN,
      logger: testLogger('test'),
    }),
    /plugin chat needs plugin users/,
  );
});

test('every event published during these tests matched its declared schema', () => {
  assert.deepEqual(invalidEvents, []);
});
