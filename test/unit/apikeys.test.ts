// API keys (issue 9, Access): created once with the key in the answer, stored hashed, listed without the secret,
// used like a login token (Bearer or ?authtoken=) with the role they carry; refused (401) from outside their
// networks (the client address from the socket), once expired, or once revoked.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Gateway } from '../../core/gateway.ts';
import { hashKey, inNetworks, parseNetwork } from '../../core/auth/apikeys.ts';
import { serve, type RunningServer } from '../../core/http/serve.ts';
import { createLogger, type Logger } from '../../core/log.ts';
import WebSocket from 'ws';
import { type TempGateway, tempGateway } from '../support/gateway.ts';
import { client } from '../support/http.ts';

let gateway: TempGateway;
let dir: string;
let gw: Gateway;
let admin: ReturnType<typeof client>;
let server: RunningServer;
/** Every line the gateway logged, at every level. */
const logged: string[] = [];
/** Every key handed out, to look for in logs and answers. */
const issued: string[] = [];

function capture(scope: string): Logger {
  return createLogger(scope, 'debug', { write: (line) => logged.push(line) });
}

/** Calls as if from `address` (what @hono/node-server gives a handler as c.env.incoming). */
function from(address: string) {
  return client((req) => gw.http.fetch(req, { incoming: { socket: { remoteAddress: address } } }));
}

/** Every answer the tests got after creating keys, to check none holds a key. */
const answers: string[] = [];
type Api = ReturnType<typeof client>;
async function call(api: Api, method: string, p: string, body?: unknown, headers?: Record<string, string>) {
  const a = await api.call(method, p, body, headers);
  answers.push(a.text);
  return a;
}

async function createKey(body: Record<string, unknown>): Promise<{ id: string; key: string; result: Record<string, unknown> }> {
  const a = await admin.post('/v1/admin/apikeys', body);
  assert.equal(a.status, 200, a.text);
  const { key, id } = a.body.result;
  issued.push(key);
  return { id, key, result: a.body.result };
}

before(async () => {
  gateway = await tempGateway({
    prefix: 'gw-apikeys',
    yaml: (d) => `ami: {host: 127.0.0.1, port: 1, username: u, secret: s}
data_dir: ${d}
asterisk: {config_dir: ${d}}
auth: {bootstrap_admin: {username: admin, password: 'adm1n pass'}}
plugins: [core, users]
`,
    known: ['core', 'users'],
    logger: capture('gateway'),
  });
  ({ gw, dir } = gateway);
  admin = client(gw.http.fetch);
  await admin.login('admin', 'adm1n pass');
  server = await serve(gw.http.fetch, '127.0.0.1', 0);
});
after(async () => {
  await server?.close();
  await gateway?.close();
});

test('CIDR matching: IPv4, IPv6, IPv4-mapped IPv6, single addresses; bad networks refused', () => {
  assert.ok(inNetworks('127.0.0.1', ['127.0.0.0/8']));
  assert.ok(inNetworks('::ffff:127.0.0.1', ['127.0.0.0/8']));
  assert.ok(!inNetworks('10.1.2.3', ['127.0.0.0/8', '192.168.0.0/16']));
  assert.ok(inNetworks('2001:db8::5', ['2001:db8::/32']));
  assert.ok(!inNetworks('2001:db9::5', ['2001:db8::/32']));
  assert.ok(inNetworks('::1', ['::1']));
  assert.ok(!inNetworks('::2', ['::1']));
  assert.ok(inNetworks('fe80::1%eth0', ['fe80::/10']));
  assert.ok(!inNetworks('127.0.0.1', ['::1/128']), 'an IPv4 client does not match an IPv6 network');
  for (const bad of ['10.0.0.0/33', '::/129', '1.2.3/8', 'localhost', '10.0.0.0/', '']) assert.equal(parseNetwork(bad), undefined, bad);
});

test('create answers the key once; the list shows the key without its secret', async () => {
  const { id, key, result } = await createKey({ name: 'CRM', role: 'manager', allowed_networks: ['10.0.0.0/8', '2001:db8::/32'] });
  assert.match(key, /^gwk_[A-Za-z0-9_-]{43}$/);
  assert.deepEqual(
    { ...result, key: undefined, id: undefined, created: undefined },
    {
      key: undefined,
      id: undefined,
      created: undefined,
      name: 'CRM',
      role: 'manager',
      expires_at: null,
      allowed_networks: ['10.0.0.0/8', '2001:db8::/32'],
      last_used: null,
    },
  );
  const list = await call(admin, 'GET', '/v1/admin/apikeys');
  assert.equal(list.status, 200);
  const listed = list.body.result.list.find((k: { id: string }) => k.id === id);
  assert.deepEqual(Object.keys(listed).sort(), ['allowed_networks', 'created', 'expires_at', 'id', 'last_used', 'name', 'role']);
  assert.equal(listed.created, result.created);
  assert.ok(!list.text.includes(key) && !list.text.includes(hashKey(key)), 'neither the key nor its hash is listed');
  // stored hashed: the store file has the hash, never the key
  await gw.store.flush();
  const stored = readFileSync(path.join(dir, 'gateway.json'), 'utf8');
  assert.ok(stored.includes(hashKey(key)));
  assert.ok(!stored.includes(key));
});

test('a key works as Bearer and as ?authtoken=, acts with its role, and records last_used', async () => {
  const { id, key } = await createKey({ name: 'fleet collector', role: 'admin' });
  const bearer = await call(admin, 'GET', '/v1/admin/apikeys', undefined, { authorization: `Bearer ${key}` });
  assert.equal(bearer.status, 200, bearer.text);
  const query = client(gw.http.fetch);
  const q = await call(query, 'GET', `/v1/admin/apikeys?authtoken=${encodeURIComponent(key)}`);
  assert.equal(q.status, 200, q.text);
  const listed = q.body.result.list.find((k: { id: string }) => k.id === id);
  assert.match(listed.last_used, /^\d{4}-\d\d-\d\dT/);
});

test('a user-role key may call user routes but gets 403 on /admin and /manager routes, and on /me (it is no user)', async () => {
  const { key } = await createKey({ name: 'wallboard', role: 'user' });
  const api = client(gw.http.fetch);
  api.setToken(key);
  assert.equal((await call(api, 'GET', '/v1/device_states')).status, 503, 'a user route: past the auth check (AMI is down here)');
  const me = await call(api, 'GET', '/v1/me/info');
  assert.equal(me.status, 403);
  assert.match(me.body.result.message, /API key belongs to no user/);
  assert.equal((await call(api, 'GET', '/v1/admin/info')).status, 403, 'a user-role key: the admin permission is missing anyway');
  assert.equal((await call(api, 'GET', '/v1/me/contacts')).status, 403);
  const a = await call(api, 'GET', '/v1/admin/apikeys');
  assert.equal(a.status, 403);
  assert.equal(a.body.result.code, 'forbidden');
  assert.equal((await call(api, 'POST', '/v1/admin/apikeys', { name: 'mine', role: 'admin' })).status, 403);
  assert.equal((await call(api, 'GET', '/v1/manager/users')).status, 403);
  const m = await createKey({ name: 'supervisor board', role: 'manager' });
  api.setToken(m.key);
  assert.equal((await call(api, 'GET', '/v1/manager/users')).status, 200);
  assert.equal((await call(api, 'GET', '/v1/admin/apikeys')).status, 403);
});

test('allowed_networks: the client address decides (IPv4, IPv6, IPv4-mapped); unknown address refused', async () => {
  const { key } = await createKey({ name: 'CRM', role: 'admin', allowed_networks: ['192.0.2.0/24', '2001:db8::/32'] });
  const h = { authorization: `Bearer ${key}` };
  for (const ok of ['192.0.2.7', '::ffff:192.0.2.7', '2001:db8::1']) {
    assert.equal((await call(from(ok), 'GET', '/v1/admin/apikeys', undefined, h)).status, 200, ok);
  }
  for (const bad of ['198.51.100.7', '::ffff:198.51.100.7', '2001:db9::1', '::1']) {
    const a = await call(from(bad), 'GET', '/v1/admin/apikeys', undefined, h);
    assert.equal(a.status, 401, bad);
    assert.equal(a.body.result.code, 'unauthorized');
  }
  // no socket address known (in-process call): a key limited to networks is refused
  assert.equal((await call(admin, 'GET', '/v1/admin/apikeys', undefined, h)).status, 401);
});

test('allowed_networks over a real socket: the address @hono/node-server gives reaches the check', async () => {
  const local = await createKey({ name: 'local', role: 'admin', allowed_networks: ['127.0.0.0/8', '::1'] });
  const remote = await createKey({ name: 'remote', role: 'admin', allowed_networks: ['10.0.0.0/8'] });
  const base = `http://127.0.0.1:${server.port}`;
  const get = async (key: string) => {
    const res = await fetch(`${base}/v1/admin/apikeys`, { headers: { authorization: `Bearer ${key}` } });
    const text = await res.text();
    answers.push(text);
    return res.status;
  };
  assert.equal(await get(local.key), 200);
  assert.equal(await get(remote.key), 401);
});

/** Opens the event stream with `key`: the first frame's type, or the refusal's HTTP status. */
function openWs(key: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/v1/ws?authtoken=${encodeURIComponent(key)}`);
    ws.once('message', (d) => {
      resolve(JSON.parse(String(d)).type);
      ws.close();
    });
    ws.once('unexpected-response', (_req, res) => resolve(`HTTP ${res.statusCode}`));
    ws.once('error', reject);
  });
}

test('the WebSocket takes a key like a token; a revoked key or one from outside its networks is refused', async () => {
  const k = await createKey({ name: 'wallboard stream', role: 'manager' });
  assert.equal(await openWs(k.key), 'hello');
  const far = await createKey({ name: 'far', role: 'admin', allowed_networks: ['10.0.0.0/8'] });
  assert.equal(await openWs(far.key), 'HTTP 401');
  // the socket's own address is checked: a key limited to loopback opens a stream from loopback
  const near = await createKey({ name: 'near', role: 'admin', allowed_networks: ['127.0.0.0/8', '::1/128'] });
  assert.equal(await openWs(near.key), 'hello');
  assert.equal((await call(admin, 'DELETE', `/v1/admin/apikeys/${k.id}`)).status, 200);
  assert.equal(await openWs(k.key), 'HTTP 401');
});

test('an expired key gets 401', async () => {
  const expires = new Date(Date.now() + 1500).toISOString();
  const { key, result } = await createKey({ name: 'temp', role: 'admin', expires_at: expires });
  assert.equal(result.expires_at, expires);
  const h = { authorization: `Bearer ${key}` };
  assert.equal((await call(admin, 'GET', '/v1/admin/apikeys', undefined, h)).status, 200);
  await new Promise((r) => setTimeout(r, 1600));
  const a = await call(admin, 'GET', '/v1/admin/apikeys', undefined, h);
  assert.equal(a.status, 401);
  assert.equal(a.body.result.code, 'unauthorized');
});

test('a revoked key gets 401; revoking an unknown id is 404', async () => {
  const { id, key } = await createKey({ name: 'old CRM', role: 'admin' });
  const h = { authorization: `Bearer ${key}` };
  assert.equal((await call(admin, 'GET', '/v1/admin/apikeys', undefined, h)).status, 200);
  assert.equal((await call(admin, 'DELETE', `/v1/admin/apikeys/${id}`)).status, 200);
  const a = await call(admin, 'GET', '/v1/admin/apikeys', undefined, h);
  assert.equal(a.status, 401);
  const list = await call(admin, 'GET', '/v1/admin/apikeys');
  assert.ok(!list.body.result.list.some((k: { id: string }) => k.id === id));
  const again = await call(admin, 'DELETE', `/v1/admin/apikeys/${id}`);
  assert.equal(again.status, 404);
  assert.equal(again.body.result.code, 'not_found');
  // a key after a restart of the store's owner: the hash index is rebuilt from the store
  const kept = await createKey({ name: 'kept', role: 'admin' });
  const { ApiKeys } = await import('../../core/auth/apikeys.ts');
  const reopened = new ApiKeys(gw.store);
  assert.ok(reopened.resolve(kept.key, undefined));
  assert.equal(reopened.resolve(key, undefined), undefined);
});

test('bad input: 400 with the field and code', async () => {
  const cases: [unknown, string, string, RegExp][] = [
    [{ role: 'admin' }, 'invalid_field', 'name', /^name: is required$/],
    [{ name: '', role: 'admin' }, 'invalid_field', 'name', /^name: must not be empty$/],
    [{ name: 'a\nb', role: 'admin' }, 'invalid_field', 'name', /^name: must not contain CR, LF or NUL characters$/],
    [{ name: 'x' }, 'invalid_field', 'role', /^role: is required$/],
    [{ name: 'x', role: 'root' }, 'invalid_field', 'role', /^role: must be one of admin, manager, user$/],
    [{ name: 'x', role: 'user', secret: 'mine' }, 'unknown_field', 'secret', /^secret: unknown field$/],
    [{ name: 'x', role: 'user', expires_at: 'tomorrow' }, 'invalid_field', 'expires_at', /^expires_at: must be an ISO 8601/],
    [{ name: 'x', role: 'user', expires_at: '2030-01-01T00:00:00' }, 'invalid_field', 'expires_at', /^expires_at: must be an ISO 8601/],
    [{ name: 'x', role: 'user', expires_at: '2001-01-01T00:00:00Z' }, 'invalid_field', 'expires_at', /^expires_at: must be in the future$/],
    [{ name: 'x', role: 'user', allowed_networks: '10.0.0.0/8' }, 'invalid_field', 'allowed_networks', /must be a JSON array/],
    [{ name: 'x', role: 'user', allowed_networks: ['10.0.0.0/33'] }, 'invalid_field', 'allowed_networks', /must be a network in CIDR form/],
    [{ name: 'x', role: 'user', allowed_networks: ['example.com'] }, 'invalid_field', 'allowed_networks', /must be a network in CIDR form/],
  ];
  for (const [body, code, field, message] of cases) {
    const a = await call(admin, 'POST', '/v1/admin/apikeys', body);
    assert.equal(a.status, 400, JSON.stringify(body));
    assert.equal(a.body.result.code, code, JSON.stringify(body));
    assert.ok(String(a.body.result.field).startsWith(field), `${JSON.stringify(body)}: field ${a.body.result.field}`);
    assert.match(a.body.result.message, message, JSON.stringify(body));
  }
  const bad = await call(admin, 'POST', '/v1/admin/apikeys', '{"name": ');
  assert.equal(bad.status, 400);
  assert.equal(bad.body.result.code, 'malformed_json');
  assert.equal((await call(admin, 'DELETE', '/v1/admin/apikeys/a..b')).status, 400);
});

test('no key appears in the log or in any answer after its creation', async () => {
  assert.ok(issued.length >= 8);
  assert.ok(answers.length > 20);
  for (const key of issued) {
    for (const line of logged) assert.ok(!line.includes(key), `key in the log: ${line}`);
    for (const text of answers) assert.ok(!text.includes(key), `key in an answer: ${text}`);
  }
});
