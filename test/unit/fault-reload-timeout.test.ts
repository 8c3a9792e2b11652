// Fault: a reload Asterisk never answers. A fake AMI server (fault injection: the real Asterisk always answers)
// answers Login and Ping but swallows the reload actions; the real AmiClient, ConfigFiles and config routes run
// above it. The write request ends with 504 asterisk_timeout within the AMI action timeout, the file is written,
// its lock is free, and the next write (the reload answered again) works.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { AmiClient } from '../../core/ami/client.ts';
import { ConfigFiles } from '../../core/config-files.ts';
import type { GatewayConfig } from '../../core/config.ts';
import type { AuditEntry } from '../../core/audit/audit.ts';
import { HttpApp } from '../../core/http/app.ts';
import { testLogger } from '../support/log.ts';
import { registerQueueConfigRoutes } from '../../plugins/queue/config-routes.ts';
import { registerDialplanConfigRoutes } from '../../plugins/dialplan/config-routes.ts';
import { client } from '../support/http.ts';

const ACTION_TIMEOUT_MS = 800;

let dir: string;
let etc: string;
let server: net.Server;
let ami: AmiClient;
let api: ReturnType<typeof client>;
/** While true, ModuleLoad and Command get no answer at all. */
let swallow = true;
const seen: string[] = [];
const audited: AuditEntry[] = [];

/** A minimal AMI server: splits requests on the blank line, answers by Action. */
function fakeAmi(socket: net.Socket): void {
  socket.write('Asterisk Call Manager/11.0.0\r\n');
  let buf = '';
  socket.on('data', (d) => {
    buf += d.toString('utf8');
    for (let i = buf.indexOf('\r\n\r\n'); i >= 0; i = buf.indexOf('\r\n\r\n')) {
      const block = buf.slice(0, i);
      buf = buf.slice(i + 4);
      const h = Object.fromEntries(block.split('\r\n').map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()]));
      const id = h.ActionID;
      seen.push(h.Action ?? '');
      const ok = (extra: string[]) => socket.write(['Response: Success', `ActionID: ${id}`, ...extra].join('\r\n') + '\r\n\r\n');
      if (h.Action === 'Login') ok(['Message: Authentication accepted']);
      else if (h.Action === 'Ping') ok(['Ping: Pong']);
      else if (swallow)
        continue; // the fault: never answered, the connection stays open
      else if (h.Action === 'ModuleLoad') ok(['Message: Module reloaded.']);
      else if (h.Action === 'Command') ok(['Message: Command output follows', 'Output: Dialplan reloaded.']);
      else if (h.Action === 'QueueStatus') {
        // the check after a reload that the queue written is listed: it is
        ok(['EventList: start', 'Message: Queue status will follow']);
        socket.write(`Event: QueueParams\r\nQueue: q\r\nActionID: ${id}\r\n\r\n`);
        socket.write(`Event: QueueStatusComplete\r\nActionID: ${id}\r\nEventList: Complete\r\nListItems: 1\r\n\r\n`);
      }
    }
  });
  socket.on('error', () => {});
}

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'gw-fault-reload-'));
  etc = path.join(dir, 'etc');
  mkdirSync(etc);
  writeFileSync(path.join(etc, 'queues.conf'), '; keep me\n[q]\nstrategy = ringall\n');
  writeFileSync(path.join(etc, 'extensions.conf'), '; keep me\n[ctx]\nexten => 1,1,NoOp()\n');
  server = net.createServer(fakeAmi);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  const quiet = { info() {}, warn() {}, error() {} };
  ami = new AmiClient({ host: '127.0.0.1', port, username: 'u', secret: 's', actionTimeoutMs: ACTION_TIMEOUT_MS, logger: quiet });
  await ami.connectOnce();
  const config = { asterisk: { config_dir: etc }, data_dir: path.join(dir, 'data'), backups: { retention: 5 } } as GatewayConfig;
  const files = new ConfigFiles(config, ami, testLogger('test'));
  const http = new HttpApp({
    bodyLimitBytes: 1 << 20,
    auth: { resolve: (t) => (t === 'tok' ? { userUuid: 'u1', roles: new Set(['admin'] as const) } : undefined) },
    liveness: () => null,
    logError: () => {},
    audit: (e) => audited.push(e),
  });
  registerQueueConfigRoutes({ router: http.router('queue'), configFiles: files });
  registerDialplanConfigRoutes({ router: http.router('dialplan'), configFiles: files });
  http.seal();
  api = client(http.fetch);
  api.setToken('tok');
});

after(async () => {
  await ami?.stop();
  await new Promise((r) => server?.close(r));
  rmSync(dir, { recursive: true, force: true });
});

test('a reload that never answers: 504 asterisk_timeout within the bound, the lock is released, later writes work', async () => {
  swallow = true;
  const t0 = performance.now();
  // a section write (app_queue reload) and a whole-file write (dialplan reload), side by side on two files
  const [a, b] = await Promise.all([
    api.put('/v1/admin/queue/cfg_queues/q', { data: [{ strategy: 'leastrecent' }] }),
    api.post('/v1/admin/dialplan/sdps', { name: 'c2', data: [{ exten: '> 2,1,NoOp()' }] }),
  ]);
  const ms = performance.now() - t0;
  for (const r of [a, b]) {
    assert.equal(r.status, 504, r.text);
    assert.equal(r.body.result.code, 'asterisk_timeout');
    assert.match(r.body.result.message, /was written, but Asterisk did not answer its reload/);
  }
  assert.ok(ms >= ACTION_TIMEOUT_MS - 50 && ms < ACTION_TIMEOUT_MS + 1500, `ended in ${Math.round(ms)} ms`);
  // the writes stand (each with its backup), and AMI is still connected: only the action timed out
  assert.match(readFileSync(path.join(etc, 'queues.conf'), 'utf8'), /strategy = leastrecent/);
  assert.match(readFileSync(path.join(etc, 'extensions.conf'), 'utf8'), /\[c2\]/);
  assert.equal(readdirSync(path.join(dir, 'data', 'backups')).length, 2);
  assert.equal(ami.connected, true);
  // the audit log has both changes, with their 504
  assert.deepEqual(audited.map((e) => [e.method, e.route, e.status]).sort(), [
    ['POST', '/admin/dialplan/sdps', 504],
    ['PUT', '/admin/queue/cfg_queues/{name}', 504],
  ]);
  // the lock is free: a read and a write of the same file do not wait behind anything
  swallow = false;
  const t1 = performance.now();
  const c = await api.put('/v1/admin/queue/cfg_queues/q', { data: [{ strategy: 'fewestcalls' }] });
  assert.equal(c.status, 200, c.text);
  assert.deepEqual(c.body.result.reload, { status: 'done', message: 'Module reloaded.' });
  assert.ok(performance.now() - t1 < ACTION_TIMEOUT_MS, 'the next write waits for no reload');
  assert.match(readFileSync(path.join(etc, 'queues.conf'), 'utf8'), /strategy = fewestcalls/);
  // while the fault lasts, every write still ends in time (no queue builds up behind a lost reload)
  swallow = true;
  const t2 = performance.now();
  const many = await Promise.all(
    Array.from({ length: 5 }, (_, i) => api.put('/v1/admin/queue/cfg_queues/q', { data: [{ weight: String(i) }] })),
  );
  assert.deepEqual(
    many.map((r) => r.status),
    [504, 504, 504, 504, 504],
  );
  // written one after the other under the file lock, their reloads waiting side by side (a lock held through the
  // reload would take five timeouts)
  assert.ok(performance.now() - t2 < ACTION_TIMEOUT_MS + 2000, `5 writes ended in ${Math.round(performance.now() - t2)} ms`);
  swallow = false;
  const d = await api.put('/v1/admin/queue/cfg_queues/q', { data: [{ strategy: 'ringall' }] });
  assert.equal(d.status, 200, d.text);
  assert.ok(seen.includes('ModuleLoad') && seen.includes('Command'));
});
