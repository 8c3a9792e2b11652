// A graceful stop (Gateway.stop, what SIGTERM runs) and GET /v1/ready, without Asterisk: writes under way finish and
// are kept, WebSockets are closed with 1001, new requests are refused, and ready says why it is not.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import WebSocket from 'ws';
import { gatewayIn } from '../support/gateway.ts';
import { client } from '../support/http.ts';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const gateway = (dir: string) =>
  gatewayIn(
    dir,
    `http: {host: 127.0.0.1, port: 0, shutdown_timeout_s: 5}
ami: {host: 127.0.0.1, port: 1, username: u, secret: s}
data_dir: ${dir}
asterisk: {config_dir: ${dir}}
auth: {bootstrap_admin: {username: admin, password: 'admin-pass'}}
plugins: [core, users]`,
    ['core', 'users'],
  );

test('GET /v1/ready: 503 not_ready naming what it waits for while Asterisk is down; /v1/status still 200', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gw-ready-'));
  dirs.push(dir);
  const gw = await gateway(dir);
  const api = client(gw.http.fetch);
  const r = await api.get('/v1/ready');
  assert.equal(r.status, 503);
  assert.equal(r.body.result.code, 'not_ready');
  assert.equal(r.body.result.ami_connected, false);
  assert.match(r.body.result.message, /Asterisk is not connected/);
  assert.equal((await api.get('/v1/status')).status, 200);
  await gw.stop();
});

test('stop: writes under way finish and are kept, sockets get 1001, new requests are refused', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gw-stop-'));
  dirs.push(dir);
  const gw = await gateway(dir);
  const server = await gw.start();
  const base = `http://127.0.0.1:${server.port}`;
  const api = client((req) => fetch(req), base);
  const token = await api.login('admin', 'admin-pass');
  const ws = new WebSocket(`ws://127.0.0.1:${server.port}/v1/ws?authtoken=${token}`);
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));

  // each user creation hashes a password with scrypt (at most two at a time): they are still under way at stop()
  const names = ['u1', 'u2', 'u3', 'u4'];
  const writes = names.map((n) => api.post('/v1/admin/user/users', { username: n, password: `${n}-password`, name: n }));
  for (let i = 0; i < 400 && gw.http.requestsInFlight < names.length; i++) await new Promise((r) => setTimeout(r, 5));
  if (gw.http.requestsInFlight === 0) await gw.stop();
  assert.ok(gw.http.requestsInFlight > 0, 'writes are under way when the stop begins');
  const stopping = gw.stop();
  // a request that arrives meanwhile is refused: 503 stopping on a kept-alive connection, or the connection refused
  const late = await fetch(`${base}/v1/status`).then(
    (r) => r.status,
    () => 'refused',
  );
  assert.ok(late === 503 || late === 'refused', String(late));
  const answers = await Promise.all(writes);
  assert.deepEqual(
    answers.map((a) => a.status),
    [200, 200, 200, 200],
  );
  await stopping;
  assert.equal(await closed, 1001);

  // every acknowledged write is in the store after a restart
  const again = await gateway(dir);
  const api2 = client(again.http.fetch);
  await api2.login('admin', 'admin-pass');
  const list = (await api2.get('/v1/admin/user/users')).body.result.list as { username: string }[];
  for (const n of names)
    assert.ok(
      list.some((u) => u.username === n),
      `${n} kept`,
    );
  await again.stop();
});
