// The two ways the gateway is shipped, each built here as its user builds it and started with cwd / :
//   - the single binary (`bun build --compile`, what the systemd unit runs, with the unit's Environment= lines), built
//     into a temp dir so nothing can come from the checkout;
//   - `npm start` on Node: `npm run build:node` (core/main.ts bundled for Node into dist/node/main.js), then node on it.
// Two instances of each:
//   - one with an unreachable AMI: it serves the API contract, the docs page with its files and /metrics (no Asterisk
//     needed);
//   - the smoke suite against the real Asterisk 22 (test/asterisk/testbed.ts): start from a gateway.yaml with every
//     plugin (start-up time to /v1/ready and /v1/status printed), status, login, channels with a live call, one
//     config write with its reload, the WebSocket, and a clean SIGTERM (exit 0, sockets closed with 1001, "stopped").
// CI runs this file with the rest of test/integration (npm test, npm run test:bun).
//
// Run: flock /tmp/asterisk-test.lock node --import tsx --test --test-concurrency=1 test/integration/binary.test.ts
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { AsteriskTestbed, TESTBED } from '../asterisk/testbed.ts';
import { ADMIN, skipReason } from '../support/bed.ts';
import { client, eventually } from '../support/http.ts';
import { NODE } from '../support/node-bundle.ts';
import { noteSecret } from '../support/secrets.ts';
import { rssMb } from '../support/proc.ts';
import { unitEnvironment } from '../support/unit-environment.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BUN = path.join(ROOT, 'node_modules/.bin/bun');
const PLUGINS = ['core', 'users', 'queue', 'park', 'agents', 'dialplan', 'pjsip', 'chat'];
const reason = skipReason();
const skip = reason ?? false;

/** One way the gateway is shipped: how it is built (into `dir` or the checkout) and started. */
interface Target {
  /** short, for file names and printed lines */
  id: string;
  /** for test names */
  label: string;
  build(dir: string): { command: string; args: string[] };
  /** environment it runs with, besides the test's own */
  env: Record<string, string>;
}

const binary: Target = {
  id: 'binary',
  label: 'the compiled binary',
  build(dir) {
    const bin = path.join(dir, 'asterisk-gateway');
    const t = performance.now();
    const build = spawnSync(BUN, ['build', '--compile', path.join(ROOT, 'core/main.ts'), '--outfile', bin], {
      encoding: 'utf8',
      cwd: ROOT,
    });
    assert.equal(build.status, 0, build.stderr);
    const size = statSync(bin).size;
    console.log(
      `binary: ${(size / 1e6).toFixed(1)} MB, ${(size / 1024 / 1024).toFixed(1)} MiB (${size} bytes), built in ${((performance.now() - t) / 1000).toFixed(1)} s`,
    );
    return { command: bin, args: [] };
  },
  // as the shipped unit runs it: its Environment= lines (the memory hint) included
  env: unitEnvironment(),
};

const nodeStart: Target = {
  id: 'node-bundle',
  label: 'npm start on Node (dist/node/main.js)',
  build() {
    // what `npm start` runs: its build step, then node on the bundle
    const scripts = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    assert.match(scripts.start ?? '', /^npm run -s build:node && node dist\/node\/main\.js$/, 'npm start builds, then runs the bundle');
    const t = performance.now();
    const build = spawnSync('npm', ['run', '-s', 'build:node'], { encoding: 'utf8', cwd: ROOT });
    assert.equal(build.status, 0, build.stderr);
    console.log(
      `node bundle: ${(statSync(path.join(ROOT, 'dist/node/main.js')).size / 1e6).toFixed(1)} MB, built in ${((performance.now() - t) / 1000).toFixed(1)} s`,
    );
    return { command: NODE, args: [path.join(ROOT, 'dist/node/main.js')] };
  },
  env: {},
};

for (const target of [binary, nodeStart]) suite(target);

function suite(target: Target): void {
  describe(target.label, () => {
    let dir: string;
    let start: { command: string; args: string[] };
    let child: ChildProcess | undefined;
    let base: string;
    let metricsPort: number;

    // the smoke suite's instance
    let asterisk: AsteriskTestbed | undefined;
    let smoke: ChildProcess | undefined;
    let smokeExit: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
    let smokeBase: string;
    let smokeLog: string;
    let smokeStderr = '';
    let startup: { readyMs: number; statusMs: number };
    let api: ReturnType<typeof client>;

    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

    const freePort = () =>
      new Promise<number>((resolve) => {
        const s = net.createServer().listen(0, '127.0.0.1', () => {
          const port = (s.address() as net.AddressInfo).port;
          s.close(() => resolve(port));
        });
      });

    /** Milliseconds from `t0` to the first 200 of GET url (polled every 20 ms); throws after `ms`. */
    async function first200(url: string, t0: number, ms: number, proc: ChildProcess): Promise<number> {
      const end = Date.now() + ms;
      while (Date.now() < end) {
        if (proc.exitCode !== null || proc.signalCode !== null)
          throw new Error(`${target.label} exited (${proc.exitCode ?? proc.signalCode}): ${smokeStderr.trim()}`);
        try {
          const r = await fetch(url);
          await r.arrayBuffer();
          if (r.status === 200) return performance.now() - t0;
        } catch {}
        await sleep(20);
      }
      throw new Error(`${target.label} did not answer 200 on ${url} within ${ms} ms`);
    }

    /** Start the smoke suite's gateway against the test Asterisk; measures its start-up. */
    async function startSmoke(): Promise<void> {
      asterisk = new AsteriskTestbed();
      await asterisk.start();
      noteSecret(asterisk.amiSecret);
      noteSecret(ADMIN.password);
      const sdir = path.join(dir, 'smoke');
      const port = await freePort();
      const yaml = path.join(sdir, 'gateway.yaml');
      smokeLog = path.join(sdir, 'gateway.log');
      mkdirSync(sdir);
      writeFileSync(
        yaml,
        [
          `http: { host: 127.0.0.1, port: ${port} }`,
          'ami:',
          '  host: 127.0.0.1',
          `  port: ${asterisk.amiPort}`,
          `  username: ${asterisk.amiUser}`,
          '  secret: ${AMI_SECRET}',
          '  reconnect_max_ms: 1000',
          'asterisk:',
          `  config_dir: ${asterisk.configDir}`,
          `  modules_dir: ${path.join(asterisk.chroot, 'usr/lib/x86_64-linux-gnu/asterisk/modules')}`,
          `data_dir: ${sdir}/data`,
          'auth:',
          '  token_ttl_s: 3600',
          '  bootstrap_admin:',
          `    username: ${ADMIN.username}`,
          '    password: ${GATEWAY_ADMIN_PASSWORD}',
          `plugins: [${PLUGINS.join(', ')}]`,
          '',
        ].join('\n'),
      );
      smokeBase = `http://127.0.0.1:${port}`;
      const t0 = performance.now();
      smoke = spawn(start.command, [...start.args, '--config', yaml], {
        cwd: '/',
        stdio: ['ignore', 'ignore', 'pipe'],
        env: {
          ...process.env,
          ...target.env,
          LOG_FILE: smokeLog,
          LOG_LEVEL: 'info',
          AMI_SECRET: asterisk.amiSecret,
          GATEWAY_ADMIN_PASSWORD: ADMIN.password,
        },
      });
      const proc = smoke;
      proc.stderr!.on('data', (d) => {
        smokeStderr += String(d);
      });
      smokeExit = new Promise((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal, at: performance.now() })));
      const [readyMs, statusMs] = await Promise.all([
        first200(`${smokeBase}/v1/ready`, t0, 60000, proc),
        first200(`${smokeBase}/v1/status`, t0, 60000, proc),
      ]);
      startup = { readyMs, statusMs };
      api = client((req) => fetch(req), smokeBase);
    }

    before(
      async () => {
        dir = mkdtempSync(path.join(os.tmpdir(), `gw-${target.id}-`));
        start = target.build(dir);
        // the smoke instance first, so its start-up is measured with nothing else of ours running
        if (!reason) await startSmoke();

        const port = await freePort();
        metricsPort = await freePort();
        writeFileSync(
          path.join(dir, 'gateway.yaml'),
          [
            `http: { host: 127.0.0.1, port: ${port} }`,
            'ami: { host: 127.0.0.1, port: 1, username: gw, secret: x }',
            `asterisk: { config_dir: ${dir} }`,
            `data_dir: ${dir}/data`,
            `plugins: [${PLUGINS.join(', ')}]`,
            `metrics: { enabled: true, port: ${metricsPort}, token: binary-metrics-token-0042 }`,
            '',
          ].join('\n'),
        );
        child = spawn(start.command, [...start.args, '--config', path.join(dir, 'gateway.yaml')], { cwd: '/', stdio: 'ignore' });
        base = `http://127.0.0.1:${port}`;
        await first200(`${base}/v1/status`, performance.now(), 30000, child);
      },
      { timeout: 240000 },
    );

    after(async () => {
      child?.kill('SIGTERM');
      if (smoke && smoke.exitCode === null && smoke.signalCode === null) smoke.kill('SIGKILL');
      await asterisk?.stop().catch(() => {});
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    test(`${target.label} serves /v1/openapi.json, /v1/asyncapi.json and the docs page with its files`, { timeout: 60000 }, async () => {
      const doc = (await (await fetch(`${base}/v1/openapi.json`)).json()) as { openapi: string; paths: Record<string, unknown> };
      assert.equal(doc.openapi, '3.1.0');
      assert.ok(Object.keys(doc.paths).length > 60);
      const a = (await (await fetch(`${base}/v1/asyncapi.json`)).json()) as { asyncapi: string };
      assert.equal(a.asyncapi, '3.0.0');
      const page = await (await fetch(`${base}/v1/docs`)).text();
      assert.match(page, /swagger-ui-bundle\.js/);
      const js = await fetch(`${base}/v1/docs/swagger-ui-bundle.js`);
      assert.equal(js.status, 200);
      assert.ok((await js.arrayBuffer()).byteLength > 500_000, 'the Swagger UI bundle is served');
      const css = await fetch(`${base}/v1/docs/swagger-ui.css`);
      assert.equal(css.status, 200);
      assert.match(await css.text(), /swagger-ui/);
    });

    test(`${target.label} serves /metrics (prom-client bundled) on its own port, with its token`, { timeout: 60000 }, async () => {
      assert.equal((await fetch(`${base}/v1/status`)).status, 200);
      const url = `http://127.0.0.1:${metricsPort}/metrics`;
      assert.equal((await fetch(url)).status, 401);
      const r = await fetch(url, { headers: { authorization: 'Bearer binary-metrics-token-0042' } });
      assert.equal(r.status, 200);
      const text = await r.text();
      assert.match(text, /^asterisk_gateway_http_requests_total\{route="\/status",method="GET",status="200"\} [1-9]/m);
      assert.match(text, /^asterisk_gateway_ami_connected 0$/m);
      assert.match(text, /^process_resident_memory_bytes \d+/m);
    });

    // ---- the smoke suite: the gateway against the real Asterisk 22 ----

    /** Originate a Local call into the test bed's wait context through a raw AMI login (not through the gateway). */
    async function originate(exten: string): Promise<void> {
      const ami = await asterisk!.ami({ events: 'off' });
      try {
        const r = await ami.send({
          Action: 'Originate',
          Channel: `Local/${exten}@${TESTBED.contexts.wait}`,
          Application: 'Wait',
          Data: '600',
          Async: 'true',
        });
        assert.equal(r.Response, 'Success', JSON.stringify(r));
      } finally {
        await ami.logoff();
        ami.close();
      }
    }

    async function channelsOf(exten: string): Promise<any[]> {
      const a = await api.get('/v1/admin/core/channels');
      assert.equal(a.status, 200, a.text);
      return a.body.result.list.filter((c: any) => c.channel.startsWith(`Local/${exten}@${TESTBED.contexts.wait}`));
    }

    let socket: { ws: WebSocket; messages: any[]; closed: Promise<{ code: number; at: number }> } | undefined;

    test(`smoke: ${target.label} starts from a gateway.yaml with every plugin and gets ready`, { skip, timeout: 30000 }, async () => {
      console.log(
        `${target.id} start-up (spawn to first 200): /v1/ready ${Math.round(startup.readyMs)} ms, /v1/status ${Math.round(startup.statusMs)} ms`,
      );
      const r = await api.get('/v1/ready');
      assert.equal(r.status, 200, r.text);
      assert.equal(r.body.result.ready, true);
      assert.deepEqual([...r.body.result.plugins].sort(), [...PLUGINS].sort());
      assert.ok(startup.statusMs <= startup.readyMs + 100, 'status answers no later than ready');
    });

    test(`smoke (${target.id}): status reports the AMI link and the Asterisk version`, { skip, timeout: 30000 }, async () => {
      const a = await api.get('/v1/status');
      assert.equal(a.status, 200, a.text);
      assert.equal(a.body.result.ami.connected, true);
      assert.match(a.body.result.asterisk.version, /^22\./);
      assert.deepEqual(
        a.body.result.plugins.map((p: any) => [p.name, p.live]),
        PLUGINS.map((p) => [p, true]),
      );
    });

    test(`smoke (${target.id}): login with Basic auth gives an authtoken`, { skip, timeout: 30000 }, async () => {
      const unauth = await api.get('/v1/admin/core/channels');
      assert.equal(unauth.status, 401, unauth.text);
      const a = await api.post('/v1/admin/login', undefined, {
        authorization: `Basic ${Buffer.from(`${ADMIN.username}:${ADMIN.password}`).toString('base64')}`,
      });
      assert.equal(a.status, 200, a.text);
      assert.equal(typeof a.body.result.authtoken, 'string');
      assert.ok(a.body.result.authtoken.length >= 16);
      api.setToken(a.body.result.authtoken);
      assert.equal((await api.get('/v1/admin/core/channels')).status, 200);
    });

    test(`smoke (${target.id}): a live call is listed in channels, and DELETE hangs it up`, { skip, timeout: 60000 }, async () => {
      await originate('5101');
      const both = await eventually(
        async () => ((await channelsOf('5101')).length === 2 ? channelsOf('5101') : null),
        15000,
        'both halves',
      );
      const ch = both!.find((c: any) => c.channel.endsWith(';2'));
      assert.ok(ch, JSON.stringify(both));
      assert.equal(ch.context, TESTBED.contexts.wait);
      assert.equal(ch.exten, '5101');
      assert.match(await asterisk!.cli('core show channels concise'), /Local\/5101@gw-test-wait/);
      const del = await api.del(`/v1/admin/core/channels/${encodeURIComponent(ch.unique_id)}`);
      assert.equal(del.status, 200, del.text);
      await eventually(async () => (await channelsOf('5101')).length === 0, 15000, 'hung up in the gateway');
      assert.doesNotMatch(await asterisk!.cli('core show channels concise'), /Local\/5101@/);
    });

    test(`smoke (${target.id}): a config write reloads Asterisk, which then has the new context`, { skip, timeout: 60000 }, async () => {
      const ctx = `gw-${target.id}-smoke`;
      const a = await api.post('/v1/admin/dialplan/sdps', {
        name: ctx,
        data: [{ exten: `> _X.,1,NoOp(written by ${target.id})` }, { same: '> n,Hangup()' }],
      });
      assert.equal(a.status, 200, a.text);
      assert.equal(a.body.result.reload.status, 'done', JSON.stringify(a.body.result.reload));
      const shown = await asterisk!.cli(`dialplan show ${ctx}`);
      assert.match(shown, new RegExp(`\\[ Context '${ctx}' created by 'pbx_config' \\]`));
      assert.match(shown, new RegExp(`NoOp\\(written by ${target.id}\\)`));
      assert.match(readFileSync(path.join(asterisk!.configDir, 'extensions.conf'), 'utf8'), new RegExp(`^\\[${ctx}\\]`, 'm'));
    });

    test(`smoke (${target.id}): the WebSocket streams the core.channel events of a call`, { skip, timeout: 60000 }, async () => {
      socket = await new Promise((resolve, reject) => {
        const ws = new WebSocket(`${smokeBase.replace('http', 'ws')}/v1/ws?authtoken=${api.token}&topics=core.`);
        const messages: any[] = [];
        const closed = new Promise<{ code: number; at: number }>((r) => ws.once('close', (code) => r({ code, at: performance.now() })));
        ws.on('message', (d) => messages.push(JSON.parse(String(d))));
        ws.once('open', () => resolve({ ws, messages, closed }));
        ws.once('error', reject);
      });
      const s = socket!;
      await eventually(() => s.messages.some((m) => m.type === 'hello'), 5000, 'hello');
      assert.deepEqual(s.messages.find((m) => m.type === 'hello').data.topics, ['core.']);
      await originate('5102');
      const ours = (m: any) => m.type?.startsWith('core.channel.') && m.data?.channel?.startsWith('Local/5102@');
      const ev = await eventually(() => s.messages.find(ours), 15000, 'a core.channel event of the call');
      assert.equal(ev.type, 'core.channel.updated');
      const half = (await channelsOf('5102'))[0];
      assert.equal((await api.del(`/v1/admin/core/channels/${encodeURIComponent(half.unique_id)}`)).status, 200);
      await eventually(() => s.messages.some((m) => ours(m) && m.type === 'core.channel.hangup'), 15000, 'the hangup event');
    });

    test(`smoke: SIGTERM stops ${target.label} cleanly: sockets closed with 1001, exit 0, "stopped" logged`, {
      skip,
      timeout: 30000,
    }, async () => {
      assert.ok(socket && socket.ws.readyState === WebSocket.OPEN, 'the WebSocket of the previous test is still open');
      console.log(`${target.id} RSS after the smoke suite, every plugin on the real Asterisk: ${rssMb(smoke!.pid!).toFixed(0)} MB`);
      const t0 = performance.now();
      smoke!.kill('SIGTERM');
      const exit = await Promise.race([smokeExit, sleep(15000).then(() => null)]);
      assert.ok(exit, 'it exited within 15 s of SIGTERM');
      console.log(`${target.id} stop: exit ${exit.code} ${Math.round(exit.at - t0)} ms after SIGTERM`);
      assert.equal(exit.code, 0);
      assert.equal(exit.signal, null);
      // 1001 is a close frame the gateway sent before it exited (a socket cut by the exit would be 1006)
      const closed = await Promise.race([socket.closed, sleep(5000).then(() => null)]);
      assert.ok(closed, 'the WebSocket was closed');
      assert.equal(closed.code, 1001);
      const lines = readFileSync(smokeLog, 'utf8').trim().split('\n');
      const parsed = lines.map((l) => JSON.parse(l) as { msg?: string });
      assert.ok(
        parsed.some((l) => l.msg === 'SIGTERM: stopping'),
        'SIGTERM: stopping is logged',
      );
      assert.equal(parsed.at(-1)?.msg, 'stopped', `the last line is "stopped": ${lines.at(-1)}`);
      assert.ok(lines.some((l) => l.includes('"msg":"stopped"')));
      const log = lines.join('\n');
      assert.ok(!log.includes(asterisk!.amiSecret), 'the AMI secret is not in the log');
      assert.ok(!log.includes(ADMIN.password), 'the admin password is not in the log');
    });
  });
}
