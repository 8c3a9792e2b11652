// The HTTP core without Asterisk: envelope, routing under /v1 and without, login, tokens and roles, body checks,
// users and permissions. AMI is never started, so live routes must answer 503.
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
let api: ReturnType<typeof client>;

before(async () => {
  gateway = await tempGateway({
    prefix: 'gw-http',
    yaml: (d) => `ami: {host: 127.0.0.1, port: 1, username: u, secret: s}
data_dir: ${d}
asterisk: {config_dir: ${d}}
http: {body_limit_bytes: 2048}
auth: {token_ttl_s: 4, bootstrap_admin: {username: admin, password: 'adm1n pass'}}
plugins: [core, users]
`,
    known: ['core', 'users'],
    logger: testLogger('test'),
  });
  ({ gw, dir } = gateway);
  api = client(gw.http.fetch);
});
after(() => gateway?.close());

test('status is public, enveloped, and served with and without /v1', async () => {
  for (const p of ['/v1/status', '/status']) {
    const a = await api.get(p);
    assert.equal(a.status, 200);
    assert.equal(a.body.api_ver, '0.1');
    assert.equal(a.body.statuscode, 200);
    assert.match(a.body.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.equal(a.body.result.ami.connected, false);
    assert.deepEqual(
      a.body.result.plugins.map((p: { name: string }) => p.name),
      ['core', 'users'],
    );
  }
});

test('unknown route answers a 404 envelope', async () => {
  const a = await api.get('/v1/no/such/route');
  assert.equal(a.status, 404);
  assert.equal(a.body.statuscode, 404);
  assert.match(a.body.result.message, /no such route/);
});

test('login: Basic gives a token; wrong password 401; missing credentials 401', async () => {
  api.setToken(undefined);
  const bad = await api.post('/v1/admin/login', undefined, { authorization: `Basic ${Buffer.from('admin:nope').toString('base64')}` });
  assert.equal(bad.status, 401);
  assert.equal(bad.body.statuscode, 401);
  const none = await api.post('/v1/admin/login');
  assert.equal(none.status, 401);
  const token = await api.login('admin', 'adm1n pass');
  assert.match(token, /^[0-9a-f-]{36}$/);
});

test('routes need a token; ?authtoken= and Bearer both work; DELETE login ends the token', async () => {
  api.setToken(undefined);
  assert.equal((await api.get('/v1/admin/user/users')).status, 401);
  const token = await api.login('admin', 'adm1n pass');
  api.setToken(undefined);
  assert.equal((await api.get(`/v1/admin/user/users?authtoken=${token}`)).status, 200);
  assert.equal((await api.get('/admin/user/users', { authorization: `Bearer ${token}` })).status, 200);
  assert.equal((await api.del(`/v1/admin/login?authtoken=${token}`)).status, 200);
  const after = await api.get(`/v1/admin/user/users?authtoken=${token}`);
  assert.equal(after.status, 401);
  assert.match(after.body.result.message, /invalid or expired/);
});

test('a token expires after token_ttl_s without use', async () => {
  const token = await api.login('admin', 'adm1n pass');
  assert.equal((await api.get('/v1/admin/info')).status, 200);
  await new Promise((r) => setTimeout(r, 4300)); // token_ttl_s is 4: 1 s let other tokens expire under load
  const a = await api.get(`/v1/admin/info?authtoken=${token}`);
  assert.equal(a.status, 401);
});

test('users CRUD; passwords are never returned nor stored in clear', async () => {
  await api.login('admin', 'adm1n pass');
  const created = await api.post('/v1/admin/user/users', { username: 'alice', password: 'secret-alice', name: 'Alice' });
  assert.equal(created.status, 200, created.text);
  const uuid = created.body.result.uuid;
  assert.equal(created.body.result.username, 'alice');
  assert.deepEqual(created.body.result.permissions, [{ permission: 'user' }]);
  const list = await api.get('/v1/admin/user/users');
  assert.ok(list.body.result.list.some((u: { uuid: string }) => u.uuid === uuid));
  assert.doesNotMatch(list.text, /password|secret-alice|scrypt/);
  const upd = await api.put(`/v1/admin/user/users/${uuid}`, { name: 'Alice B' });
  assert.equal(upd.body.result.name, 'Alice B');
  await gw.store.flush();
  const onDisk = readFileSync(path.join(dir, 'gateway.json'), 'utf8');
  assert.doesNotMatch(onDisk, /secret-alice/);
  assert.match(onDisk, /scrypt\$/);
  // a plain user cannot use admin routes, but can use /me
  const other = client(gw.http.fetch);
  await other.login('alice', 'secret-alice', 'me');
  assert.equal((await other.get('/v1/admin/user/users')).status, 403);
  assert.equal((await other.get('/v1/me/info')).body.result.username, 'alice');
  // and cannot log in at /admin/login
  const adminLogin = await api.post('/v1/admin/login', undefined, {
    authorization: `Basic ${Buffer.from('alice:secret-alice').toString('base64')}`,
  });
  assert.equal(adminLogin.status, 403);
  assert.equal((await api.del(`/v1/admin/user/users/${uuid}`)).status, 200);
  assert.equal((await api.get(`/v1/admin/user/users/${uuid}`)).status, 404);
  assert.equal((await other.get('/v1/me/info')).status, 401, 'deleting a user ends its sessions');
});

test('permissions CRUD and the last administrator cannot be removed', async () => {
  await api.login('admin', 'adm1n pass');
  const u = (await api.post('/v1/admin/user/users', { username: 'bob', password: 'pw-bob' })).body.result;
  const p = await api.post('/v1/admin/user/permissions', { user_uuid: u.uuid, permission: 'manager' });
  assert.equal(p.status, 200, p.text);
  assert.equal(p.body.result.permission, 'manager');
  const bob = client(gw.http.fetch);
  await bob.login('bob', 'pw-bob', 'manager');
  assert.equal((await bob.get('/v1/manager/users')).status, 200);
  assert.equal((await bob.get('/v1/admin/user/users')).status, 403);
  const esc = await bob.post('/v1/manager/users', { username: 'mallory', password: 'x', permissions: [{ permission: 'admin' }] });
  assert.equal(esc.status, 403, 'a manager cannot grant admin');
  assert.equal(gw.accounts.byUsername('mallory'), undefined);
  const dup = await api.post('/v1/admin/user/permissions', { user_uuid: u.uuid, permission: 'manager' });
  assert.equal(dup.status, 409);
  const bogus = await api.post('/v1/admin/user/permissions', { user_uuid: u.uuid, permission: 'root' });
  assert.equal(bogus.status, 400);
  assert.match(bogus.body.result.message, /permission/);
  const clash = await api.put(`/v1/admin/user/permissions/${p.body.result.uuid}`, { permission: 'user' });
  assert.equal(clash.status, 409, 'bob already holds the user permission');
  assert.equal((await api.get(`/v1/admin/user/permissions/${p.body.result.uuid}`)).body.result.permission, 'manager');
  assert.equal((await api.del(`/v1/admin/user/permissions/${p.body.result.uuid}`)).status, 200);
  const admin = gw.accounts.byUsername('admin')!;
  const adminPerm = (await api.get(`/v1/admin/user/permissions?user_uuid=${admin.uuid}`)).body.result.list[0];
  const lockout = await api.del(`/v1/admin/user/permissions/${adminPerm.uuid}`);
  assert.equal(lockout.status, 409);
  assert.equal((await api.del(`/v1/admin/user/users/${admin.uuid}`)).status, 409);
  assert.equal((await bob.get('/v1/manager/users')).status, 403, 'the manager permission is gone, so is the access');
});

test('/manager/users is the same CRUD, but a manager may neither grant admin nor change an administrator', async () => {
  await api.login('admin', 'adm1n pass');
  const carl = (await api.post('/v1/admin/user/users', { username: 'carl', password: 'pw-carl', permissions: [{ permission: 'manager' }] }))
    .body.result;
  assert.deepEqual(carl.permissions, [{ permission: 'manager' }]);
  const mgr = client(gw.http.fetch);
  await mgr.login('carl', 'pw-carl', 'manager');
  const admin = gw.accounts.byUsername('admin')!;

  // the spec's manager example: create with context and permissions, read, change, delete
  const made = await mgr.post('/v1/manager/users', {
    context: 'demo',
    name: 'test2',
    username: 'test2',
    password: 'test2',
    permissions: [{ permission: 'user' }],
  });
  assert.equal(made.status, 200, made.text);
  assert.equal(made.body.result.context, 'demo');
  assert.deepEqual((await mgr.get(`/v1/manager/users/${made.body.result.uuid}`)).body.result, made.body.result);
  const changed = await mgr.put(`/v1/manager/users/${made.body.result.uuid}`, {
    ...made.body.result,
    context: 'demo-test',
    password: 'test2',
  });
  assert.equal(changed.status, 200, changed.text);
  assert.equal(changed.body.result.context, 'demo-test');
  assert.equal(changed.body.result.uuid, made.body.result.uuid, 'uuid and tm_* sent back are ignored');
  assert.ok((await mgr.get('/v1/manager/users')).body.result.list.some((u: { username: string }) => u.username === 'test2'));

  const grant = await mgr.put(`/v1/manager/users/${made.body.result.uuid}`, { permissions: [{ permission: 'admin' }] });
  assert.equal(grant.status, 403);
  assert.match(grant.body.result.message, /cannot grant the admin permission/);
  const touchAdmin = await mgr.put(`/v1/manager/users/${admin.uuid}`, { name: 'pwned' });
  assert.equal(touchAdmin.status, 403);
  assert.match(touchAdmin.body.result.message, /cannot change an administrator/);
  assert.equal((await mgr.del(`/v1/manager/users/${admin.uuid}`)).status, 403);
  assert.equal(gw.accounts.users.get(admin.uuid)!.name, 'admin', 'the administrator is unchanged');
  assert.equal((await mgr.get('/v1/manager/users/no-such-user')).status, 404);
  assert.equal((await mgr.del(`/v1/manager/users/${made.body.result.uuid}`)).status, 200);

  // an administrator at /manager/users has no such limits
  const promoted = await api.put(`/v1/manager/users/${carl.uuid}`, { permissions: [{ permission: 'admin' }, { permission: 'manager' }] });
  assert.equal(promoted.status, 200, promoted.text);
  assert.deepEqual(promoted.body.result.permissions.map((p: { permission: string }) => p.permission).sort(), ['admin', 'manager']);
  assert.equal((await api.del(`/v1/admin/user/users/${carl.uuid}`)).status, 200);
});

test('permissions in user bodies and permission records are checked by their schema', async () => {
  await api.login('admin', 'adm1n pass');
  const cases: [string, string, unknown, RegExp][] = [
    [
      'POST',
      '/v1/admin/user/users',
      { username: 'pat', password: 'x', permissions: [{ permission: 'root' }] },
      /^permissions\[0\]\.permission: must be one of admin, manager, user$/,
    ],
    [
      'POST',
      '/v1/admin/user/users',
      { username: 'pat', password: 'x', permissions: ['user'] },
      /^permissions\[0\]: must be a JSON object$/,
    ],
    [
      'POST',
      '/v1/admin/user/users',
      { username: 'pat', password: 'x', permissions: { permission: 'user' } },
      /^permissions: must be a JSON array$/,
    ],
    [
      'POST',
      '/v1/admin/user/users',
      { username: 'pat', password: 'x', permissions: [{ permission: 'user', scope: 'all' }] },
      /^permissions\[0\]\.scope: unknown field$/,
    ],
    ['POST', '/v1/admin/user/users', { username: 'pat', password: '' }, /^password: must not be empty$/],
    ['POST', '/v1/admin/user/users', { username: 'pat pat', password: 'x' }, /^username: 1-64 letters/],
    ['POST', '/v1/admin/user/users', { password: 'x' }, /^username: is required$/],
    ['POST', '/v1/admin/user/permissions', { user_uuid: 'x' }, /^permission: is required$/],
    ['POST', '/v1/admin/user/permissions', { user_uuid: 'x', permission: 3 }, /^permission: must be one of admin, manager, user$/],
  ];
  for (const [method, p, body, msg] of cases) {
    const a = await api.call(method, p, body);
    assert.equal(a.status, 400, `${JSON.stringify(body)}: ${a.text}`);
    assert.match(a.body.result.message, msg, JSON.stringify(body));
    assert.ok(['invalid_field', 'unknown_field'].includes(a.body.result.code), a.text);
  }
  assert.equal(gw.accounts.byUsername('pat'), undefined, 'nothing was created');
  const taken = await api.post('/v1/admin/user/users', { username: 'admin', password: 'x' });
  assert.equal(taken.status, 409);
  assert.equal((await api.post('/v1/admin/user/permissions', { user_uuid: 'no-such-user', permission: 'user' })).status, 404);
});

test("PUT /me/info and /admin/info change only one's own name and password", async () => {
  await api.login('admin', 'adm1n pass');
  const dan = (await api.post('/v1/admin/user/users', { username: 'dan', password: 'pw-dan' })).body.result;
  const me = client(gw.http.fetch);
  await me.login('dan', 'pw-dan', 'me');
  const sentBack = await me.put('/v1/me/info', {
    ...dan,
    username: 'root',
    context: 'x',
    permissions: [{ permission: 'admin' }],
    name: 'Dan',
  });
  assert.equal(sentBack.status, 200, sentBack.text);
  assert.equal(sentBack.body.result.name, 'Dan');
  assert.equal(sentBack.body.result.username, 'dan', 'username, context and permissions are ignored here');
  assert.deepEqual(sentBack.body.result.permissions, [{ permission: 'user' }]);
  assert.match((await me.put('/v1/me/info', { nick: 'd' })).body.result.message, /^nick: unknown field$/);
  assert.equal((await me.put('/v1/admin/info', { name: 'x' })).status, 403);
  assert.equal((await me.put('/v1/me/info', { password: 'pw-dan-2' })).status, 200);
  assert.equal((await me.get('/v1/me/info')).status, 401, 'a changed password ends the sessions');
  await me.login('dan', 'pw-dan-2', 'me');
  const info = (await me.get('/v1/me/info')).body.result;
  assert.deepEqual([info.name, info.chats, info.contacts], ['Dan', [], []], 'without the chat plugin, chats is []');
  assert.equal((await api.get('/v1/admin/info')).body.result.username, 'admin');
  assert.equal((await api.del(`/v1/admin/user/users/${dan.uuid}`)).status, 200);
});

test('deleting a user publishes users.user.deleted with a payload its schema accepts', async () => {
  await api.login('admin', 'adm1n pass');
  const problems: string[] = [];
  const seen: unknown[] = [];
  gw.bus.onInvalid = (type, problem) => problems.push(`${type}: ${problem}`);
  const off = gw.bus.subscribe((m) => seen.push({ type: m.type, data: m.data }));
  try {
    const u = (await api.post('/v1/admin/user/users', { username: 'gone', password: 'x' })).body.result;
    assert.equal((await api.del(`/v1/admin/user/users/${u.uuid}`)).status, 200);
    assert.deepEqual(seen, [{ type: 'users.user.deleted', data: { uuid: u.uuid } }]);
    assert.deepEqual(problems, []);
  } finally {
    off();
    gw.bus.onInvalid = null;
  }
});

test('bad bodies: malformed JSON, wrong types, unknown fields, CR/LF, too large', async () => {
  await api.login('admin', 'adm1n pass');
  const malformed = await api.post('/v1/admin/user/users', '{"username": ');
  assert.equal(malformed.status, 400);
  assert.match(malformed.body.result.message, /malformed JSON/);
  const wrongType = await api.post('/v1/admin/user/users', { username: 5, password: 'x' });
  assert.equal(wrongType.status, 400);
  assert.match(wrongType.body.result.message, /^username: must be a string/);
  const unknown = await api.post('/v1/admin/user/users', { username: 'x', password: 'x', colour: 'red' });
  assert.match(unknown.body.result.message, /colour: unknown field/);
  const crlf = await api.post('/v1/admin/user/users', { username: 'eve', password: 'x', name: 'a\r\nAction: Originate' });
  assert.equal(crlf.status, 400);
  assert.match(crlf.body.result.message, /name: must not contain CR, LF/);
  const huge = await api.post('/v1/admin/user/users', { username: 'big', password: 'x', name: 'n'.repeat(5000) });
  assert.equal(huge.status, 413);
  assert.equal(huge.body.statuscode, 413);
  const names = (await api.get('/v1/admin/user/users')).body.result.list.map((u: { username: string }) => u.username);
  assert.ok(!names.includes('eve') && !names.includes('big') && !names.includes('x'), 'nothing was created by bad requests');
});

test('live routes answer 503 while AMI is down', async () => {
  await api.login('admin', 'adm1n pass');
  for (const p of ['/v1/admin/core/channels', '/v1/admin/core/modules', '/v1/device_states', '/v1/admin/core/systems']) {
    const a = await api.get(p);
    assert.equal(a.status, 503, p);
    assert.match(a.body.result.message, /not connected/);
  }
});

test("a disabled plugin's routes answer 404", async () => {
  const g2 = await tempGateway({
    prefix: 'gw-http2',
    yaml: (d2) => `ami: {username: u, secret: s}\ndata_dir: ${d2}\nauth: {bootstrap_admin: {username: a, password: b}}\nplugins: [users]\n`,
    known: ['core', 'users'],
    logger: testLogger('test'),
  });
  const c2 = client(g2.gw.http.fetch);
  await c2.login('a', 'b');
  assert.equal((await c2.get('/v1/admin/core/channels')).status, 404);
  assert.equal((await c2.get('/v1/admin/user/users')).status, 200);
  await g2.close();
});
