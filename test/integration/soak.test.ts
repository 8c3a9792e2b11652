// Scale soak (issue 9): 10,000 live channels and 1,000 queue callers fed by a fake AMI on loopback (allowed here: a
// load test; features are proven against the real Asterisk elsewhere), while the gateway is polled and streamed.
//   gateway   a child process (test/support/soak-gateway.ts, same runtime as the test) so that its RSS, read from
//             /proc/<pid>/status, is the gateway's alone: not the fake AMI's nor the clients'
//   fake AMI  this process (bench/support/fake-ami.ts): 10,000 Newchannel, 1,000 of them QueueCallerJoin into 10
//             queues; then every TICK_MS: Newstate on 100 channels, 20 channels replaced (Newchannel of a new one,
//             then Hangup of an old one), 5 callers replaced (Newchannel + QueueCallerJoin, then QueueCallerLeave +
//             Hangup), so 10,000 channels and 1,000 callers stay live (one more while a pair is half-done)
//   pollers   POLLERS clients in a loop on GET /v1/admin/core/channels and /v1/admin/queue/entries
//   sockets   SOCKETS WebSocket clients on /v1/ws?topics=core.,queue.
// Asserted: every poll 200 with 10,000 (or 10,001) channels and 1,000 (or 1,001) callers; every socket open and
// receiving frames in every sampling window; after the churn stops, the exact sets of channels and callers; no growth
// after the first part: the RSS (read from /proc every SAMPLE_MS, nothing forced) highest in the last third <= the
// highest up to 1/3 + SOAK_RSS_MARGIN_MB (20); the heap after a full GC in the gateway at the end <= after one at
// 60 % of the run (the replay ring is full by then) + SOAK_HEAP_MARGIN_MB (5). Only those two GCs (and one once
// loaded) are forced: a GC forced at every sample would lower the RSS it is meant to measure.
// RSS < 150 MB: asserted under Bun, the runtime the binary embeds, run with the Environment= lines of the shipped
// systemd unit (deploy/asterisk-gateway.service: BUN_JSC_forceRAMSize, JavaScriptCore's heap sizing); under Node
// (bundled and run by plain node, as `npm start` does) only with SOAK_ASSERT_150=1 (not met: ~210 MB), printed
// either way.
// Sizes: SOAK_SECONDS of churn (default 25: the quick form CI runs, ~40 s in all); `npm run test:long` runs 300.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import WebSocket from 'ws';
import { type FakeAmi, startFakeAmi } from '../../bench/support/fake-ami.ts';
import { NODE, nodeBundle } from '../support/node-bundle.ts';
import { rssMb as processRss } from '../support/proc.ts';
import { unitEnvironment } from '../support/unit-environment.ts';

const SECONDS = Number(process.env.SOAK_SECONDS ?? 25);
const CHANNELS = 10_000;
const CALLERS = 1_000;
const QUEUES = 10;
const POLLERS = 4;
const SOCKETS = 4;
const TICK_MS = 200;
const SAMPLE_MS = 2_000;
const RSS_MARGIN_MB = Number(process.env.SOAK_RSS_MARGIN_MB ?? 20);
const HEAP_MARGIN_MB = Number(process.env.SOAK_HEAP_MARGIN_MB ?? 5);
const RSS_GOAL_MB = 150;
const TIMEOUT_MS = (SECONDS + 120) * 1000;

const HERE = path.dirname(fileURLToPath(import.meta.url));
const isBun = typeof (globalThis as { Bun?: unknown }).Bun !== 'undefined';
/** Under Bun the gateway runs as the shipped unit runs the binary: with its Environment= lines. */
const UNIT_ENV = isBun ? unitEnvironment() : {};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let ami: FakeAmi;
let child: ChildProcess;
let bundle: ReturnType<typeof nodeBundle> | undefined;
let dir: string;
let base: string;
let token: string;

// ---- the fake PBX ----

let nextId = 0;
const live = new Set<number>(); // channel numbers
const waiting: number[][] = Array.from({ length: QUEUES }, () => []); // per queue, in order

const uid = (n: number) => `1700000000.${n}`;
const block = (n: number, state = '6\r\nChannelStateDesc: Up') =>
  `Channel: PJSIP/trunk-${n.toString(16).padStart(8, '0')}\r\nChannelState: ${state}\r\nCallerIDNum: ${100000 + n}\r\n` +
  `CallerIDName: Soak ${n}\r\nConnectedLineNum: <unknown>\r\nConnectedLineName: <unknown>\r\nLanguage: en\r\n` +
  `AccountCode: \r\nContext: from-trunk\r\nExten: ${2000 + (n % 1000)}\r\nPriority: 1\r\nUniqueid: ${uid(n)}\r\nLinkedid: ${uid(n)}\r\n`;
const newChannel = (n: number) => {
  live.add(n);
  return `Event: Newchannel\r\nPrivilege: call,all\r\n${block(n)}\r\n`;
};
const newState = (n: number, k: number) =>
  `Event: Newstate\r\nPrivilege: call,all\r\n${block(n, k % 2 ? '6\r\nChannelStateDesc: Up' : '5\r\nChannelStateDesc: Ringing')}\r\n`;
const hangup = (n: number) => {
  live.delete(n);
  return `Event: Hangup\r\nPrivilege: call,all\r\n${block(n)}Cause: 16\r\nCause-txt: Normal Clearing\r\n\r\n`;
};
const join = (q: number, n: number) => {
  waiting[q]!.push(n);
  return `Event: QueueCallerJoin\r\nPrivilege: agent,all\r\n${block(n)}Queue: soak-${q}\r\nPosition: ${waiting[q]!.length}\r\nCount: ${waiting[q]!.length}\r\n\r\n`;
};
const leave = (q: number) => {
  const n = waiting[q]!.shift()!;
  return {
    n,
    text: `Event: QueueCallerLeave\r\nPrivilege: agent,all\r\n${block(n)}Queue: soak-${q}\r\nPosition: 1\r\nCount: ${waiting[q]!.length}\r\n\r\n`,
  };
};
const isCaller = new Set<number>();

/** One tick of churn: state changes, channels replaced, callers replaced; counts unchanged at the end. */
function tick(k: number): string {
  let out = '';
  const plain = [...live].filter((n) => !isCaller.has(n));
  for (let i = 0; i < 100; i++) out += newState(plain[(k * 100 + i * 97) % plain.length]!, k + i);
  for (let i = 0; i < 20; i++) {
    const old = plain[(k * 31 + i * 7) % plain.length]!;
    if (!live.has(old)) continue;
    out += newChannel(nextId++);
    out += hangup(old);
  }
  for (let i = 0; i < 5; i++) {
    const q = (k * 5 + i) % QUEUES;
    const n = nextId++;
    isCaller.add(n);
    out += newChannel(n) + join(q, n);
    const gone = leave(q);
    isCaller.delete(gone.n);
    out += gone.text + hangup(gone.n);
  }
  return out;
}

// ---- the gateway process ----

const rssMb = () => processRss(child.pid!);

const gcWaiters: ((m: { rss: number; heap: number }) => void)[] = [];
/** The gateway's RSS and heap after a full garbage collection in it: what it retains. */
function retained(): Promise<{ rss: number; heap: number }> {
  return new Promise((resolve) => {
    gcWaiters.push(resolve);
    child.stdin!.write('gc\n');
  });
}

async function get(p: string): Promise<{ status: number; body: any }> {
  const r = await fetch(`${base}${p}${p.includes('?') ? '&' : '?'}authtoken=${token}`);
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : undefined };
}

before(
  async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'gw-soak-'));
    ami = await startFakeAmi();
    const script = path.join(HERE, '..', 'support', 'soak-gateway.ts');
    // under Node, as `npm start` runs it: bundled, then plain node (see test/support/node-bundle.ts)
    bundle = isBun ? undefined : nodeBundle(script);
    const [cmd, args] = bundle ? [NODE, [bundle.file]] : [process.execPath, [script]];
    const env = { ...process.env, ...UNIT_ENV };
    child = spawn(cmd, [...args, String(ami.port), dir], { stdio: ['pipe', 'pipe', 'inherit'], env });
    const port = await new Promise<number>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (d) => {
        out += d;
        let i: number;
        while ((i = out.indexOf('\n')) >= 0) {
          const line = out.slice(0, i);
          out = out.slice(i + 1);
          if (!line.startsWith('{')) continue;
          const m = JSON.parse(line);
          if (m.port) resolve(m.port);
          else gcWaiters.shift()?.(m);
        }
      });
      child.once('exit', (code) => reject(new Error(`the gateway exited with ${code}`)));
    });
    base = `http://127.0.0.1:${port}`;
    const login = await fetch(`${base}/v1/admin/login`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from('admin:soak-pw').toString('base64')}` },
    });
    token = ((await login.json()) as { result: { authtoken: string } }).result.authtoken;
    await ami.loggedIn;
    for (let i = 0; i < 400 && (await get('/v1/admin/queue/entries')).status !== 200; i++) await sleep(25);
    for (let i = 0; i < 400 && (await get('/v1/admin/core/channels')).status !== 200; i++) await sleep(25);
  },
  { timeout: 60_000 },
);

after(
  async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(5000)]);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    await ami?.close();
    bundle?.remove();
    if (dir) rmSync(dir, { recursive: true, force: true });
  },
  { timeout: 15_000 },
);

test(`soak: ${CHANNELS} channels, ${CALLERS} queue callers, ${SECONDS} s of churn, polled and streamed`, {
  timeout: TIMEOUT_MS,
}, async () => {
  // the initial picture
  let initial = '';
  for (let i = 0; i < CHANNELS; i++) {
    const n = nextId++;
    initial += newChannel(n);
    if (i < CALLERS) {
      isCaller.add(n);
      initial += join(i % QUEUES, n);
    }
  }
  ami.send(initial);
  for (let i = 0; i < 400; i++) {
    const [c, e] = [await get('/v1/admin/core/channels'), await get('/v1/admin/queue/entries')];
    if (c.body?.result?.list?.length === CHANNELS && e.body?.result?.list?.length === CALLERS) break;
    await sleep(50);
  }
  const rssLoaded = rssMb();
  const gcLoaded = await retained();

  // the sockets
  const sockets = await Promise.all(
    Array.from(
      { length: SOCKETS },
      () =>
        new Promise<{ ws: WebSocket; frames: number; window: number; closed: boolean }>((resolve, reject) => {
          const ws = new WebSocket(`${base.replace('http', 'ws')}/v1/ws?topics=core.,queue.&authtoken=${token}`);
          const s = { ws, frames: 0, window: 0, closed: false };
          ws.on('message', () => {
            s.frames++;
            s.window++;
          });
          ws.on('close', () => (s.closed = true));
          ws.on('error', reject);
          ws.on('open', () => resolve(s));
        }),
    ),
  );

  // the churn, the pollers, the samples
  let running = true;
  const polls = { channels: 0, entries: 0, bad: [] as string[], maxMs: 0 };
  const poller = async (w: number) => {
    for (let k = w; running; k++) {
      const which = k % 2 ? 'entries' : 'channels';
      const t0 = performance.now();
      const r = await get(which === 'channels' ? '/v1/admin/core/channels' : '/v1/admin/queue/entries');
      polls.maxMs = Math.max(polls.maxMs, performance.now() - t0);
      polls[which]++;
      const n = r.body?.result?.list?.length;
      const want = which === 'channels' ? CHANNELS : CALLERS;
      if (r.status !== 200 || !(n === want || n === want + 1)) {
        if (polls.bad.length < 10) polls.bad.push(`${which}: ${r.status} with ${n} items`);
      }
    }
  };
  const pollers = Array.from({ length: POLLERS }, (_, w) => poller(w));
  const samples: { s: number; rss: number; frames: number[]; polls: number }[] = [];
  let gcMid: { rss: number; heap: number } | undefined;
  const silent: string[] = [];
  const t0 = Date.now();
  let k = 0;
  let events = 0;
  let nextSample = t0 + SAMPLE_MS;
  while (Date.now() - t0 < SECONDS * 1000) {
    const text = tick(k++);
    events += text.split('\r\n\r\n').length - 1;
    ami.send(text);
    await sleep(TICK_MS);
    if (Date.now() >= nextSample) {
      nextSample += SAMPLE_MS;
      const frames = sockets.map((s) => s.window);
      if (frames.some((f) => f === 0)) silent.push(`at ${((Date.now() - t0) / 1000).toFixed(0)} s: ${frames.join(', ')}`);
      for (const s of sockets) s.window = 0;
      samples.push({ s: (Date.now() - t0) / 1000, rss: rssMb(), frames, polls: polls.channels + polls.entries });
      if (!gcMid && Date.now() - t0 >= SECONDS * 600) gcMid = await retained();
    }
  }
  const gcEnd = await retained(); // still under churn, the pollers still polling
  running = false;
  await Promise.all(pollers);
  const seconds = (Date.now() - t0) / 1000;

  // quiet: the exact sets
  await sleep(500);
  const c = await get('/v1/admin/core/channels');
  const e = await get('/v1/admin/queue/entries');
  const want = [...live].map(uid).sort();
  const wantCallers = waiting.flat().map(uid).sort();

  const framesTotal = sockets.reduce((a, s) => a + s.frames, 0);
  const peak = Math.max(...samples.map((x) => x.rss));
  const mid = gcMid ?? gcEnd;
  const runtime = isBun ? 'Bun' : 'Node, bundled as npm start runs it';
  console.log(
    `soak (${runtime}, gateway in a child process): ${seconds.toFixed(0)} s, ${events.toLocaleString('en-US')} AMI events, ` +
      `${polls.channels.toLocaleString('en-US')} channel polls + ${polls.entries.toLocaleString('en-US')} entry polls ` +
      `(slowest ${polls.maxMs.toFixed(0)} ms), ${framesTotal.toLocaleString('en-US')} frames to ${SOCKETS} sockets`,
  );
  console.log(
    `soak RSS MB: loaded ${rssLoaded.toFixed(0)}, samples every ${SAMPLE_MS / 1000} s: ` +
      samples.map((x) => x.rss.toFixed(0)).join(' ') +
      `; peak ${peak.toFixed(0)} (goal < ${RSS_GOAL_MB}: ${peak < RSS_GOAL_MB ? 'met' : 'NOT met'})`,
  );
  console.log(
    `soak after a full GC in the gateway, RSS / heap MB: loaded ${gcLoaded.rss.toFixed(0)} / ${gcLoaded.heap.toFixed(0)}, ` +
      `at 60 % ${mid.rss.toFixed(0)} / ${mid.heap.toFixed(0)}, end ${gcEnd.rss.toFixed(0)} / ${gcEnd.heap.toFixed(0)}` +
      (isBun ? `; the gateway ran with the unit's ${JSON.stringify(UNIT_ENV)}` : ''),
  );

  for (const s of sockets) s.ws.close();
  assert.deepEqual(polls.bad, [], 'every poll 200 with the right count');
  assert.ok(polls.channels > 0 && polls.entries > 0);
  assert.equal(c.status, 200);
  assert.deepEqual((c.body.result.list as { unique_id: string }[]).map((x) => x.unique_id).sort(), want);
  assert.equal(e.status, 200);
  assert.deepEqual((e.body.result.list as { unique_id: string }[]).map((x) => x.unique_id).sort(), wantCallers);
  assert.deepEqual(silent, [], 'every socket received frames in every window');
  assert.ok(
    sockets.every((s) => !s.closed),
    'no socket closed by the gateway',
  );
  assert.ok(samples.length >= 3);
  // RSS swings with the poll rate and the allocators' timing: the highest of the last third against the highest up
  // to 1/3. The heap after a full GC is steady: the end against 60 % of the run.
  const firstMax = Math.max(...samples.slice(0, Math.floor(samples.length / 3) + 1).map((x) => x.rss));
  const lastMax = Math.max(...samples.slice(Math.floor((2 * samples.length) / 3)).map((x) => x.rss));
  assert.ok(
    lastMax <= firstMax + RSS_MARGIN_MB,
    `RSS grew: at most ${firstMax.toFixed(0)} MB up to 1/3, ${lastMax.toFixed(0)} MB in the last third`,
  );
  assert.ok(
    gcEnd.heap <= mid.heap + HEAP_MARGIN_MB,
    `heap grew: ${mid.heap.toFixed(0)} MB at 60 %, ${gcEnd.heap.toFixed(0)} MB at the end`,
  );
  if (isBun || process.env.SOAK_ASSERT_150 === '1') assert.ok(peak < RSS_GOAL_MB, `RSS peak ${peak.toFixed(0)} MB (goal < ${RSS_GOAL_MB})`);
});
