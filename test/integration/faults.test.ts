// Faults against the real Asterisk 22, with the gateway's AMI going through a loopback TCP proxy the test controls:
// - packets silently dropped (the proxy stops forwarding without closing): the AMI keepalive finds it within a bound,
//   live routes answer 503, and once the link is back the gateway's state equals Asterisk's;
// - the gateway (a child process) killed -9 during 50 concurrent writes (dialplan sections and store records): after
//   a restart every acknowledged write is there and every file parses;
// - Asterisk restarted 20 times (kill -9 and graceful, alternating) while 50 clients poll: no 5xx other than 503,
//   and after each restart the gateway's channels equal Asterisk's.
// Timings are printed (t.diagnostic) for the README's reliability section.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { validateText } from '../../config-store/index.ts';
import { DEFAULT_AMI_PORT, TESTBED, type RawAmi } from '../asterisk/testbed.ts';
import { ADMIN, skipReason, startBed, type Bed } from '../support/bed.ts';
import { eventually } from '../support/http.ts';

const skip = skipReason() ?? false;
const KEEPALIVE_S = 1;
const KEEPALIVE_TIMEOUT_S = 1;
/** Keepalive: silence for KEEPALIVE_S (checked every half of it), then the Ping's timeout; plus slack for load. */
const DETECT_BOUND_MS = (KEEPALIVE_S * 1.5 + KEEPALIVE_TIMEOUT_S) * 1000 + 2500;

/**
 * A loopback TCP proxy. `blackhole()` stops forwarding in both directions without closing anything (what a dead link
 * does: TCP keeps the bytes and retransmits them); `restore()` delivers what was held, as TCP would once the link is
 * back. A close seen while black-holed is also delivered only then.
 */
class AmiLinkProxy {
  private server: net.Server;
  private held = false;
  private readonly pending: Array<() => void> = [];
  readonly pairs = new Set<[net.Socket, net.Socket]>();
  port = 0;

  constructor(private readonly upstreamPort: number) {
    this.server = net.createServer((down) => {
      const up = net.createConnection({ host: '127.0.0.1', port: this.upstreamPort });
      const pair: [net.Socket, net.Socket] = [down, up];
      this.pairs.add(pair);
      const pipe = (from: net.Socket, to: net.Socket) => {
        from.on('data', (d) => this.deliver(() => to.write(d)));
        from.on('close', () => this.deliver(() => to.destroy()));
        from.on('error', () => {});
      };
      pipe(down, up);
      pipe(up, down);
      down.on('close', () => this.pairs.delete(pair));
    });
  }

  private deliver(fn: () => void): void {
    if (this.held) this.pending.push(fn);
    else fn();
  }

  async listen(): Promise<void> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  blackhole(): void {
    this.held = true;
  }

  restore(): void {
    this.held = false;
    for (const fn of this.pending.splice(0)) fn();
  }

  async close(): Promise<void> {
    for (const [a, b] of this.pairs) {
      a.destroy();
      b.destroy();
    }
    await new Promise((r) => this.server.close(r));
  }
}

let bed: Bed;
let proxy: AmiLinkProxy;

before(
  async () => {
    if (skip) return;
    proxy = new AmiLinkProxy(DEFAULT_AMI_PORT);
    await proxy.listen();
    bed = await startBed({
      plugins: ['core', 'users'],
      ami: { port: proxy.port, keepalive_s: KEEPALIVE_S, keepalive_timeout_s: KEEPALIVE_TIMEOUT_S },
    });
  },
  { timeout: 90_000 },
);
after(
  async () => {
    await bed?.close();
    await proxy?.close();
  },
  { timeout: 60_000 },
);

/** Asterisk's own channels (unique ids), asked on a connection of its own that bypasses the proxy. */
async function asteriskChannels(): Promise<string[]> {
  const ami = await bed.asterisk.ami({ events: 'off' });
  try {
    const r = await ami.list({ Action: 'CoreShowChannels' });
    return r.events
      .filter((e) => e.Event === 'CoreShowChannel')
      .map((e) => e.Uniqueid ?? '')
      .sort();
  } finally {
    ami.close();
  }
}

/** The gateway's channels (unique ids), or the status when it does not answer 200. */
async function gatewayChannels(): Promise<string[] | number> {
  const a = await bed.api.get('/v1/admin/core/channels');
  if (a.status !== 200) return a.status;
  return a.body.result.list.map((c: { unique_id: string }) => c.unique_id).sort();
}

/** Waits until the gateway answers 200 with exactly Asterisk's channels (at least `min` of them); returns the ms. */
async function untilEqual(min: number, ms: number, what: string): Promise<number> {
  const t0 = performance.now();
  await eventually(
    async () => {
      const [gw, ast] = [await gatewayChannels(), await asteriskChannels()];
      return Array.isArray(gw) && ast.length >= min && JSON.stringify(gw) === JSON.stringify(ast);
    },
    ms,
    what,
  );
  return performance.now() - t0;
}

/** Originates a channel into Wait(600) straight on Asterisk (not through the gateway); returns its ;2 unique id. */
async function originateDirect(ami: RawAmi, tag: string): Promise<string> {
  const id = `gwf-${process.pid}-${tag}-${Date.now()}`;
  const r = await ami.send({
    Action: 'Originate',
    Channel: `Local/${tag.replace(/\D/g, '') || '1'}@${TESTBED.contexts.wait}`,
    Application: 'Wait',
    Data: '600',
    Async: 'true',
    ChannelId: `${id}a`,
    OtherChannelId: `${id}b`,
  });
  assert.equal(r.Response, 'Success', JSON.stringify(r));
  return `${id}b`;
}

test('AMI packets silently dropped: the keepalive finds it within a bound, live routes answer 503, state equal after', {
  timeout: 60_000,
  skip,
}, async (t) => {
  await bed.originate(`Local/11@${TESTBED.contexts.wait}`);
  await bed.originate(`Local/12@${TESTBED.contexts.wait}`);
  await untilEqual(4, 10_000, 'two calls (four channels) seen by the gateway');
  const [firstCall] = (await asteriskChannels()).filter((u) => u.endsWith('b'));

  proxy.blackhole();
  const t0 = performance.now();
  // live routes keep answering from the state they have until the keepalive finds the link dead; then 503
  await eventually(async () => (await gatewayChannels()) === 503, DETECT_BOUND_MS + 2000, 'channels answer 503');
  const detectMs = performance.now() - t0;
  assert.ok(detectMs < DETECT_BOUND_MS, `found in ${Math.round(detectMs)} ms (bound ${DETECT_BOUND_MS} ms)`);
  const down = await bed.api.get('/v1/admin/core/channels');
  assert.equal(down.body.result.code, 'ami_unavailable');
  const modules = await bed.api.get('/v1/admin/core/modules');
  assert.equal(modules.status, 503);
  const status = await bed.api.get('/v1/status');
  assert.equal(status.body.result.ami.connected, false);

  // the world moves on meanwhile: one call ends, another starts, all seen only by Asterisk
  const direct = await bed.asterisk.ami({ events: 'off' });
  try {
    const hangup = await direct.send({ Action: 'Hangup', Channel: `/^Local\\/11@${TESTBED.contexts.wait}-/` });
    assert.equal(hangup.Response, 'Success', JSON.stringify(hangup));
    await originateDirect(direct, '13');
  } finally {
    direct.close();
  }
  await new Promise((r) => setTimeout(r, 500));

  proxy.restore();
  const recoverMs = await untilEqual(4, 15_000, 'the gateway equal to Asterisk after the link is back');
  const after = await gatewayChannels();
  assert.ok(Array.isArray(after) && !after.includes(firstCall ?? '-'), 'the call that ended meanwhile is gone');
  t.diagnostic(
    `silent drop: detected in ${Math.round(detectMs)} ms (keepalive ${KEEPALIVE_S}s/${KEEPALIVE_TIMEOUT_S}s), equal again ${Math.round(recoverMs)} ms after the link returned`,
  );
});

test('Asterisk restarted 20 times while 50 clients poll: only 503 among 5xx, equal to Asterisk after each restart', {
  timeout: 150_000,
  skip,
}, async (t) => {
  const token = bed.api.token;
  const counts = new Map<number, number>();
  const bad: string[] = [];
  let stop = false;
  const poll = async (i: number) => {
    const paths = ['/v1/admin/core/channels', '/v1/admin/core/modules', '/v1/status'];
    for (let n = 0; !stop; n++) {
      try {
        const res = await fetch(`${bed.base}${paths[(i + n) % paths.length]}`, { headers: { authorization: `Bearer ${token}` } });
        const text = await res.text();
        counts.set(res.status, (counts.get(res.status) ?? 0) + 1);
        const body = JSON.parse(text);
        if (body.statuscode !== res.status || (res.status >= 500 && res.status !== 503)) bad.push(`${res.status} ${text.slice(0, 200)}`);
      } catch (e) {
        bad.push(`client ${i}: ${(e as Error).message}`);
      }
      await new Promise((r) => setTimeout(r, 40));
    }
  };
  const pollers = Array.from({ length: 50 }, (_, i) => poll(i));
  const times: number[] = [];
  const t0 = performance.now();
  try {
    for (let i = 0; i < 20; i++) {
      const r0 = performance.now();
      if (i % 2 === 0) await bed.asterisk.kill9();
      await bed.asterisk.restart(); // graceful stop first when still running
      const direct = await bed.asterisk.ami({ events: 'off' });
      try {
        await originateDirect(direct, `2${i}`);
      } finally {
        direct.close();
      }
      await untilEqual(2, 20_000, `the gateway equal to Asterisk after restart ${i + 1}`);
      times.push(performance.now() - r0);
    }
  } finally {
    stop = true;
    await Promise.all(pollers);
  }
  const total = performance.now() - t0;
  const requests = [...counts.values()].reduce((a, b) => a + b, 0);
  const summary = [...counts]
    .sort(([a], [b]) => a - b)
    .map(([s, n]) => `${s}: ${n}`)
    .join(', ');
  times.sort((a, b) => a - b);
  t.diagnostic(
    `20 restarts in ${Math.round(total / 1000)} s; restart to equal state: median ${Math.round(times[10]!)} ms, max ${Math.round(times[19]!)} ms; ${requests} polls (${summary})`,
  );
  assert.deepEqual(bad.slice(0, 10), []);
  assert.ok((counts.get(503) ?? 0) > 0, 'the pollers met the outages (503)');
  assert.ok((counts.get(200) ?? 0) > 0);
});

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise((r) => srv.close(r));
  return port;
}

/** The gateway as its own process (core/main.ts), under the runtime running this test. */
function spawnGateway(yaml: string): { child: ChildProcess; exited: Promise<unknown>; log: () => string } {
  const args = process.versions.bun ? ['core/main.ts', '--config', yaml] : ['--import', 'tsx', 'core/main.ts', '--config', yaml];
  const child = spawn(process.execPath, args, {
    cwd: REPO,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, LOG_LEVEL: 'warn' },
  });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => {
    err = (err + d.toString()).slice(-4000);
  });
  return { child, exited: new Promise((r) => child.once('exit', r)), log: () => err };
}

async function login(base: string): Promise<string> {
  const basic = Buffer.from(`${ADMIN.username}:${ADMIN.password}`).toString('base64');
  const res = await fetch(`${base}/v1/admin/login`, { method: 'POST', headers: { authorization: `Basic ${basic}` } });
  const body = (await res.json()) as { result: { authtoken: string } };
  return body.result.authtoken;
}

/** Every file under dir (recursively). */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => path.join(d.parentPath ?? (d as unknown as { path: string }).path, d.name));
}

test('the gateway killed -9 during 50 concurrent writes: after a restart every acknowledged write is there, every file parses', {
  timeout: 120_000,
  skip,
}, async (t) => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'gw-fault-kill9-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const yaml = path.join(dataDir, 'gateway.yaml');
  writeFileSync(
    yaml,
    JSON.stringify({
      http: { host: '127.0.0.1', port },
      ami: {
        host: '127.0.0.1',
        port: DEFAULT_AMI_PORT,
        username: bed.asterisk.amiUser,
        secret: bed.asterisk.amiSecret,
        reconnect_max_ms: 1000,
      },
      asterisk: {
        config_dir: bed.asterisk.configDir,
        modules_dir: path.join(bed.asterisk.chroot, 'usr/lib/x86_64-linux-gnu/asterisk/modules'),
      },
      data_dir: dataDir,
      auth: { bootstrap_admin: ADMIN },
      plugins: ['core', 'users', 'dialplan'],
    }),
  );
  const live = async () => {
    const r = await fetch(`${base}/v1/status`).catch(() => undefined);
    if (r?.status !== 200) return false;
    const b = (await r.json()) as { result: { plugins: { live: boolean }[] } };
    return b.result.plugins.every((p) => p.live);
  };
  const KILLS = 3;
  let next = 0;
  let leftovers = 0;
  const acked = { sections: [] as string[], keys: [] as string[] };
  const notes: string[] = [];
  let gw = spawnGateway(yaml);
  try {
    for (let round = 0; ; round++) {
      await eventually(live, 30_000, `the gateway live (start ${round + 1})\n${gw.log()}`);
      const token = await login(base);
      const auth = { authorization: `Bearer ${token}` };
      // everything acknowledged before the kills is there
      const keys = (await (await fetch(`${base}/v1/admin/apikeys`, { headers: auth })).json()) as { result: { list: { id: string }[] } };
      const ids = new Set(keys.result.list.map((k) => k.id));
      for (const id of acked.keys) assert.ok(ids.has(id), `API key ${id} acknowledged but gone after the restart`);
      for (const name of acked.sections) {
        const r = await fetch(`${base}/v1/admin/dialplan/sdps/${name}`, { headers: auth });
        assert.equal(r.status, 200, `section ${name} after the restart`);
      }
      // a write cut by the kill may leave its temp file; the next start removes it
      assert.deepEqual(
        readdirSync(bed.asterisk.configDir).filter((n) => n.endsWith('.tmp')),
        [],
      );
      if (round === KILLS) break;

      const headers = { ...auth, 'content-type': 'application/json' };
      const mine = { sections: 0, keys: 0 };
      let inFlight = 0;
      let killed = false;
      const writer = async () => {
        while (!killed) {
          const k = next++;
          const section = k % 2 === 0;
          inFlight++;
          try {
            const res = await fetch(`${base}${section ? '/v1/admin/dialplan/sdps' : '/v1/admin/apikeys'}`, {
              method: 'POST',
              headers,
              body: JSON.stringify(
                section ? { name: `gwfk${k}`, data: [{ exten: `> ${k},1,NoOp(kill9 ${k})` }] } : { name: `gwfk${k}`, role: 'user' },
              ),
            });
            const body = (await res.json()) as { result: { id?: string } };
            if (res.status === 200) {
              if (section) {
                acked.sections.push(`gwfk${k}`);
                mine.sections++;
              } else {
                acked.keys.push(body.result.id ?? '');
                mine.keys++;
              }
            } else if (!killed) throw new Error(`write ${k}: ${res.status} ${JSON.stringify(body)}`);
          } catch (e) {
            if (!killed) throw e; // a connection cut by the kill is no acknowledgement
          } finally {
            inFlight--;
          }
        }
      };
      const writers = Array.from({ length: 50 }, () => writer());
      // kill at a different point each round
      const want = 10 + round * 25;
      await eventually(() => mine.sections >= want && mine.keys >= want, 30_000, 'acknowledged writes of both kinds');
      const inFlightAtKill = inFlight;
      gw.child.kill('SIGKILL');
      killed = true;
      await gw.exited;
      await Promise.all(writers);
      notes.push(`${inFlightAtKill} in flight after ${mine.sections + mine.keys} acknowledged`);

      // every file parses: the config file Asterisk reads, the store, the audit log (each line)
      const conf = readFileSync(path.join(bed.asterisk.configDir, 'extensions.conf'), 'utf8');
      assert.doesNotThrow(() => validateText(conf, 'extensions.conf'));
      leftovers += readdirSync(bed.asterisk.configDir).filter((n) => n.endsWith('.tmp')).length;
      for (const f of filesUnder(dataDir)) {
        const text = readFileSync(f, 'utf8');
        if (f.endsWith('.json')) assert.doesNotThrow(() => JSON.parse(text), f);
        if (f.endsWith('.jsonl')) {
          for (const line of text.split('\n').filter(Boolean)) assert.doesNotThrow(() => JSON.parse(line), `${f}: ${line.slice(0, 100)}`);
        }
      }
      for (const name of acked.sections) assert.ok(conf.includes(`[${name}]`), `section ${name} acknowledged but not in extensions.conf`);
      gw = spawnGateway(yaml);
    }
    // and it keeps working: one more write
    const token = await login(base);
    const more = await fetch(`${base}/v1/admin/dialplan/sdps`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'gwfk-after', data: [{ exten: '> 1,1,NoOp(after)' }] }),
    });
    assert.equal(more.status, 200);
    t.diagnostic(
      `${KILLS} kills -9 (${notes.join('; ')}): all ${acked.sections.length} sections and ${acked.keys.length} store records acknowledged were there after each restart; temp files left by the kills: ${leftovers}, all removed at the next start`,
    );
  } finally {
    gw.child.kill('SIGKILL');
    await gw.exited;
    rmSync(dataDir, { recursive: true, force: true });
  }
});
