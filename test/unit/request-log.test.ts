// Structured request logs (core/log.ts, core/http/app.ts): one JSON line per request with req_id, method, route
// template, path, status, duration and user; the X-Request-Id header; and no secret in any line at debug level.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Gateway } from '../../core/gateway.ts';
import { createLogger } from '../../core/log.ts';
import { type TempGateway, tempGateway } from '../support/gateway.ts';
import { client } from '../support/http.ts';

let gateway: TempGateway;
let gw: Gateway;
const lines: string[] = [];
const parsed = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>);
/** Request lines, without the test client's own reads of the OpenAPI document (it checks every answer against it). */
const requestLines = () => parsed().filter((l) => l.msg === 'request' && l.route !== '/openapi.json');

before(async () => {
  gateway = await tempGateway({
    prefix: 'gw-reqlog',
    yaml: (dir) => `ami: {host: 127.0.0.1, port: 1, username: u, secret: 'ami-Secret-9f8e7d'}
data_dir: ${dir}
asterisk: {config_dir: ${dir}}
auth: {bootstrap_admin: {username: admin, password: 'Adm1n-Passw0rd'}}
plugins: [core, users]`,
    known: ['core', 'users'],
    logger: createLogger('gateway', 'debug', { write: (l) => lines.push(l.trimEnd()) }),
  });
  gw = gateway.gw;
});
after(() => gateway?.close());

test('one JSON line per request: req_id, method, route template, path without query, status, ms, user', async () => {
  const api = client(gw.http.fetch);
  const token = await api.login('admin', 'Adm1n-Passw0rd');
  const created = await api.post('/v1/admin/user/users', { username: 'bob', password: 'Bob-Passw0rd-1', name: 'Bob' });
  assert.equal(created.status, 200);
  const uuid = created.body.result.uuid as string;
  api.setToken(undefined);
  const byQuery = await api.get(`/v1/admin/user/users/${uuid}?authtoken=${token}`);
  assert.equal(byQuery.status, 200);
  assert.equal((await api.get('/v1/no/such/route')).status, 404);
  assert.equal((await api.get('/v1/admin/user/users', { authorization: 'Bearer wrong-token-123456' })).status, 401);

  const reqs = requestLines();
  assert.equal(reqs.length, 5, JSON.stringify(reqs));
  for (const r of reqs) {
    assert.equal(typeof r.req_id, 'string');
    assert.equal(typeof r.ms, 'number');
    assert.equal(r.level, r.status === 500 ? 'error' : 'info');
    assert.match(String(r.time), /^\d{4}-\d\d-\d\dT/);
    assert.equal(r.scope, 'gateway:http');
  }
  const [login, post, get, missing, refused] = reqs;
  assert.deepEqual([login!.method, login!.route, login!.status], ['POST', '/admin/login', 200]);
  assert.deepEqual([post!.route, post!.status, post!.api_key], ['/admin/user/users', 200, false]);
  assert.equal(post!.user, login!.user === undefined ? post!.user : login!.user);
  assert.match(String(post!.user), /^[0-9a-f-]{36}$/, 'the caller is named by uuid');
  assert.deepEqual([get!.route, get!.path], ['/admin/user/users/{uuid}', `/v1/admin/user/users/${uuid}`], 'no query in the line');
  assert.deepEqual([missing!.route, missing!.status], ['unmatched', 404]);
  assert.deepEqual([refused!.route, refused!.status, refused!.user], ['/admin/user/users', 401, undefined]);
  assert.equal(new Set(reqs.map((r) => r.req_id)).size, 5, 'each request its own id');
});

test('X-Request-Id: a plain client id is kept and echoed; anything else is replaced by the gateway', async () => {
  const api = client(gw.http.fetch);
  const kept = await api.get('/v1/status', { 'x-request-id': 'dash-42.a' });
  assert.equal(kept.headers.get('x-request-id'), 'dash-42.a');
  const bad = await api.get('/v1/status', { 'x-request-id': 'x'.repeat(65) });
  const made = bad.headers.get('x-request-id');
  assert.ok(made && made !== 'x'.repeat(65));
  const ids = requestLines()
    .slice(-2)
    .map((l) => l.req_id);
  assert.deepEqual(ids, ['dash-42.a', made]);
});

test('no secret in any line: passwords, Basic headers, tokens, the AMI secret, a changed password', async () => {
  const api = client(gw.http.fetch);
  const token = await api.login('admin', 'Adm1n-Passw0rd');
  assert.equal(
    (await api.post('/v1/admin/login', undefined, { authorization: `Basic ${Buffer.from('admin:Wrong-Passw0rd').toString('base64')}` }))
      .status,
    401,
  );
  const key = await api.post('/v1/admin/apikeys', { name: 'crm', role: 'manager' });
  assert.equal(key.status, 200);
  const secrets = [
    'Adm1n-Passw0rd',
    'Wrong-Passw0rd',
    'Bob-Passw0rd-1',
    'ami-Secret-9f8e7d',
    token,
    key.body.result.key as string,
    Buffer.from('admin:Adm1n-Passw0rd').toString('base64'),
  ];
  // the AMI link fails (port 1) and is logged; so are the failed logins
  const text = lines.join('\n');
  assert.ok(text.includes('login failed for user'), 'the failed login is logged');
  assert.ok(lines.length >= 10);
  for (const s of secrets) assert.ok(!text.includes(s), `secret ${s.slice(0, 3)}... in the log`);
});
