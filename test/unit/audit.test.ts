// The audit log: every successful change through the API is one JSON line (who, route, object, status; a config
// write's backup and reload), readable by administrators at GET /admin/audit with filters; bodies (passwords) are
// never logged; the file rotates.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Gateway } from '../../core/gateway.ts';
import { type TempGateway, tempGateway } from '../support/gateway.ts';
import { client } from '../support/http.ts';

let gateway: TempGateway;
let dir: string;
let gw: Gateway;
let api: ReturnType<typeof client>;

before(async () => {
  const conf = (d: string) => path.join(d, 'asterisk');
  gateway = await tempGateway({
    prefix: 'gw-audit',
    prepare: (d) => {
      mkdirSync(conf(d));
      writeFileSync(path.join(conf(d), 'extensions.conf'), '[general]\nstatic=yes\n\n[from-internal]\nexten => 100,1,NoOp()\n');
    },
    yaml: (d) => ({
      ami: { port: 1, username: 'u', secret: 's' },
      asterisk: { config_dir: conf(d), modules_dir: conf(d) },
      data_dir: path.join(d, 'data'),
      auth: { bootstrap_admin: { username: 'admin', password: 'pw' } },
      audit: { max_bytes: 2048, keep: 3 },
      plugins: ['core', 'users', 'dialplan'],
    }),
    known: ['core', 'users', 'dialplan'],
  });
  ({ gw, dir } = gateway);
  api = client((r) => gw.http.fetch(r));
  await api.login('admin', 'pw');
});
after(() => gateway?.close());

test('user changes are recorded with who, route and object; the password never is', async () => {
  const made = await api.post('/v1/admin/user/users', {
    username: 'eve',
    password: 'very-secret-pw',
    permissions: [{ permission: 'user' }],
  });
  assert.equal(made.status, 200);
  const uuid = made.body.result.uuid;
  assert.equal((await api.put(`/v1/admin/user/users/${uuid}`, { name: 'Eve' })).status, 200);
  assert.equal(
    (await api.post('/v1/admin/user/users', { username: 'eve', password: 'x' })).status,
    409,
    'a refused change is not recorded',
  );
  assert.equal((await api.del(`/v1/admin/user/users/${uuid}`)).status, 200);
  const a = await api.get('/v1/admin/audit?path=/admin/user/users');
  assert.equal(a.status, 200);
  const list = a.body.result.list;
  assert.deepEqual(
    list.map((e: any) => [e.method, e.route, e.status]),
    [
      ['DELETE', '/admin/user/users/{uuid}', 200],
      ['PUT', '/admin/user/users/{uuid}', 200],
      ['POST', '/admin/user/users', 200],
    ],
  );
  assert.deepEqual(list[0].object, { uuid });
  const adminUuid = (await api.get('/v1/admin/info')).body.result.uuid;
  assert.ok(list.every((e: any) => e.user === adminUuid && e.api_key === false));
  await gw.audit.flush();
  const files = readdirSync(path.join(dir, 'data', 'audit')).map((f) => readFileSync(path.join(dir, 'data', 'audit', f), 'utf8'));
  assert.ok(!files.join('').includes('very-secret-pw'), 'no password in the audit log');
});

test('a config write records the backup made and the reload outcome', async () => {
  const w = await api.put('/v1/admin/dialplan/configurations/extensions.conf', {
    data: '[general]\nstatic=yes\n\n[from-internal]\nexten => 101,1,NoOp()\n',
  });
  assert.equal(w.status, 200, w.text);
  const e = (await api.get('/v1/admin/audit?path=/admin/dialplan/configurations&limit=1')).body.result.list[0];
  assert.equal(e.route, '/admin/dialplan/configurations/{name}');
  assert.deepEqual(e.object, { name: 'extensions.conf' });
  assert.match(e.backup, /^extensions\.conf\./);
  assert.equal(e.reload.status, 'pending', 'AMI is down here: the reload waits for the reconnect');
});

test('filters, bad filters, permissions, and rotation', async () => {
  const none = await api.get('/v1/admin/audit?user=nobody');
  assert.deepEqual(none.body.result.list, []);
  const bad = await api.get('/v1/admin/audit?since=yesterday');
  assert.equal(bad.status, 400);
  assert.equal(bad.body.result.field, 'since');
  const future = await api.get('/v1/admin/audit?since=2999-01-01T00:00:00Z');
  assert.deepEqual(future.body.result.list, []);
  // enough changes to rotate a 2 KB file several times: the newest entries are still found, at most keep files stay
  for (let i = 0; i < 30; i++) {
    const u = await api.post('/v1/admin/user/users', { username: `rot${i}`, password: 'pw' });
    assert.equal(u.status, 200);
  }
  await gw.audit.flush();
  const auditDir = path.join(dir, 'data', 'audit');
  assert.ok(existsSync(path.join(auditDir, 'audit.jsonl.1')));
  assert.ok(readdirSync(auditDir).length <= 4, readdirSync(auditDir).join(','));
  const recent = (await api.get('/v1/admin/audit?limit=5')).body.result.list;
  assert.equal(recent.length, 5);
  assert.equal(recent[0].route, '/admin/user/users');
  // a plain user may not read it
  await api.post('/v1/admin/user/users', { username: 'plain', password: 'pw' });
  const plain = client((r) => gw.http.fetch(r));
  await plain.login('plain', 'pw', 'me');
  assert.equal((await plain.get('/v1/admin/audit')).status, 403);
});
