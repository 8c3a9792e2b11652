// The WebSocket endpoint over a real socket: a token is required, bus events are pushed, topics filter them.
import { event } from '../../core/contract/events.ts';
import { line, obj } from '../../core/contract/schema.ts';
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { parseConfig } from '../../core/config.ts';
import { Gateway } from '../../core/gateway.ts';
import { createLogger } from '../../core/log.ts';
import { client } from '../support/http.ts';

let dir: string;
let gw: Gateway;
let base: string;
let token: string;

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'gw-ws-'));
  const cfg = parseConfig(
    `http: {port: 0}\nami: {port: 1, username: u, secret: s}\ndata_dir: ${dir}\nauth: {bootstrap_admin: {username: a, password: b}}\nplugins: [core]\n`,
    path.join(dir, 'gateway.yaml'),
    ['core'],
  );
  gw = await Gateway.create(cfg, createLogger('t', 'silent'));
  const server = await gw.start();
  base = `127.0.0.1:${server.port}`;
  token = await client((r) => fetch(r), `http://${base}`).login('a', 'b');
});
after(async () => {
  await gw.stop();
  rmSync(dir, { recursive: true, force: true });
});

function open(query: string): Promise<{ ws: WebSocket; messages: any[] }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://${base}/v1/ws${query}`);
    const messages: any[] = [];
    ws.on('message', (d) => messages.push(JSON.parse(String(d))));
    ws.once('open', () => resolve({ ws, messages }));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

const until = async (cond: () => boolean) => {
  for (let i = 0; i < 100 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
};

test('no or a wrong token: the upgrade is refused with 401', async () => {
  await assert.rejects(open(''), /HTTP 401/);
  await assert.rejects(open('?authtoken=nope'), /HTTP 401/);
});

test('bus events are pushed as JSON; topics filter by prefix', async () => {
  const all = await open(`?authtoken=${token}`);
  const queueOnly = await open(`?authtoken=${token}&topics=queue.`);
  await until(() => all.messages.length >= 1 && queueOnly.messages.length >= 1);
  assert.equal(all.messages[0].type, 'hello');
  const payload = obj({ unique_id: line() });
  gw.bus.publish(event('core.channel.updated', 'test', payload), { unique_id: '1.1' });
  gw.bus.publish(event('queue.entry.joined', 'test', payload), { unique_id: '1.2' });
  await until(() => all.messages.length >= 3 && queueOnly.messages.length >= 2);
  assert.deepEqual(
    all.messages.slice(1).map((m) => m.type),
    ['core.channel.updated', 'queue.entry.joined'],
  );
  assert.deepEqual(
    queueOnly.messages.slice(1).map((m) => [m.type, m.data.unique_id]),
    [['queue.entry.joined', '1.2']],
  );
  assert.match(all.messages[1].timestamp, /Z$/);
  all.ws.close();
  queueOnly.ws.close();
});
