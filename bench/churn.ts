/**
 * Event churn benchmark: a real Gateway (plugins queue and park) logged in to a fake AMI server on 127.0.0.1, which
 * streams synthetic but realistic call-centre events for 200 callers: each caller joins one of four queues
 * (QueueCallerJoin), leaves it (QueueCallerLeave, a third of them after QueueCallerAbandon), is parked
 * (ParkedCall) and leaves the lot (UnParkedCall, or ParkedCallGiveUp), then starts over. Positions, counts and
 * parking spaces are those Asterisk would send. While the events stream, an in-process HTTP load loop (50
 * keep-alive connections) polls GET /v1/admin/queue/entries and /v1/admin/park/parkedcalls.
 *
 * Prints
 *   events/s applied   events streamed / time until the gateway had applied the last one
 *   GET requests/s     during the churn, and on the quiet gateway afterwards
 *   bare node:http     requests/s of a bare node:http server sending the same bytes, precomputed
 *   ratio              gateway GET requests/s (during the churn) / bare requests/s
 * Bounded: a fixed number of events and of requests, and a time limit; stops by itself.
 *
 *   npx tsx bench/churn.ts [events]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { parseConfig } from '../core/config.ts';
import { Gateway } from '../core/gateway.ts';
import { createLogger } from '../core/log.ts';
import { BUILTIN_PLUGINS } from '../core/plugins/builtin.ts';
import { isMain } from './support/is-main.ts';

export interface ChurnOptions {
  /** Events streamed (default 200,000). */
  events?: number;
  /** Callers cycling through queues and parking (default 200). */
  callers?: number;
  /** Concurrent keep-alive HTTP clients (default 50). */
  concurrency?: number;
  /** Requests of each quiet measurement, gateway and bare (default 20,000). */
  requests?: number;
  /** Hard limit for the whole run (default 120 s). */
  timeLimitMs?: number;
}

const QUEUES = ['sales', 'support', 'billing', 'vip'];
const LOT = { name: 'default', first: 701, last: 950, timeout: 45 };
const PATHS = ['/v1/admin/queue/entries', '/v1/admin/park/parkedcalls'];
const SENTINEL = 'bench-sentinel';
const ADMIN = { username: 'admin', password: 'bench-admin-pw' };

// ---------------------------------------------------------------------------------------------------------------
// synthetic events

/** Small deterministic PRNG (mulberry32), so every run streams the same events. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Caller {
  n: number;
  state: 'idle' | 'queued' | 'parked';
  uid: string;
  linked: string;
  channel: string;
  queue: string;
  space: number;
}

function block(c: Caller, prefix = ''): string {
  const p = prefix;
  const num = `+4930${String(c.n).padStart(6, '0')}`;
  return (
    `${p}Channel: ${c.channel}\r\n${p}ChannelState: 6\r\n${p}ChannelStateDesc: Up\r\n${p}CallerIDNum: ${num}\r\n` +
    `${p}CallerIDName: Caller ${c.n} Jörg\r\n${p}ConnectedLineNum: <unknown>\r\n${p}ConnectedLineName: <unknown>\r\n` +
    `${p}Language: en\r\n${p}AccountCode: \r\n${p}Context: bench\r\n${p}Exten: s\r\n${p}Priority: 2\r\n` +
    `${p}Uniqueid: ${c.uid}\r\n${p}Linkedid: ${c.linked}\r\n`
  );
}

/**
 * `count` events (plus the sentinel join at the end), in chunks of about 64 KiB, as Asterisk would write them:
 * Position / Count per queue as app_queue numbers them, the lowest free space of the lot for each park.
 */
function generate(count: number, callers: number): { chunks: Buffer[]; events: number; waiting: number; parked: number } {
  const random = rng(0x5eed);
  const epoch = Math.floor(Date.now() / 1000);
  let seq = 0;
  let chan = 0;
  const people: Caller[] = Array.from({ length: callers }, (_, n) => ({
    n,
    state: 'idle',
    uid: '',
    linked: '',
    channel: '',
    queue: '',
    space: 0,
  }));
  const waiting = new Map<string, Caller[]>(QUEUES.map((q) => [q, []]));
  const spaces = new Set<number>();
  const chunks: Buffer[] = [];
  let buf = '';
  let events = 0;
  const emit = (text: string) => {
    buf += text;
    events++;
    if (buf.length > 64 * 1024) {
      chunks.push(Buffer.from(buf, 'utf8'));
      buf = '';
    }
  };
  while (events < count) {
    const c = people[Math.floor(random() * callers)]!;
    if (c.state === 'idle') {
      c.uid = `${epoch}.${++seq}`;
      c.linked = `${epoch}.${++seq}`;
      c.channel = `Local/queue@bench-${(++chan).toString(16).padStart(8, '0')};2`;
      c.queue = QUEUES[Math.floor(random() * QUEUES.length)]!;
      const list = waiting.get(c.queue)!;
      list.push(c);
      emit(
        `Event: QueueCallerJoin\r\nPrivilege: agent,all\r\n${block(c)}Queue: ${c.queue}\r\nPosition: ${list.length}\r\nCount: ${list.length}\r\n\r\n`,
      );
      c.state = 'queued';
    } else if (c.state === 'queued') {
      const list = waiting.get(c.queue)!;
      const pos = list.indexOf(c) + 1;
      if (random() < 0.33) {
        emit(
          `Event: QueueCallerAbandon\r\nPrivilege: agent,all\r\n${block(c)}Queue: ${c.queue}\r\nPosition: ${pos}\r\nOriginalPosition: ${pos}\r\nHoldTime: ${Math.floor(random() * 30)}\r\n\r\n`,
        );
      }
      list.splice(pos - 1, 1);
      emit(
        `Event: QueueCallerLeave\r\nPrivilege: agent,all\r\n${block(c)}Queue: ${c.queue}\r\nPosition: ${pos}\r\nCount: ${list.length}\r\n\r\n`,
      );
      let space = LOT.first;
      while (spaces.has(space)) space++;
      spaces.add(space);
      c.space = space;
      emit(
        `Event: ParkedCall\r\nPrivilege: call,all\r\n${block(c, 'Parkee')}ParkerDialString: Local/queue@bench\r\n` +
          `Parkinglot: ${LOT.name}\r\nParkingSpace: ${space}\r\nParkingTimeout: ${LOT.timeout}\r\nParkingDuration: 0\r\n\r\n`,
      );
      c.state = 'parked';
    } else {
      const name = random() < 0.7 ? 'UnParkedCall' : 'ParkedCallGiveUp';
      const retriever =
        name === 'UnParkedCall'
          ? block({ ...c, channel: `PJSIP/agent-${c.n % 20}-0000${c.n}`, uid: `${epoch}.${++seq}` }, 'Retriever')
          : '';
      emit(
        `Event: ${name}\r\nPrivilege: call,all\r\n${block(c, 'Parkee')}${retriever}ParkerDialString: Local/queue@bench\r\n` +
          `Parkinglot: ${LOT.name}\r\nParkingSpace: ${c.space}\r\nParkingTimeout: ${LOT.timeout - 3}\r\nParkingDuration: 3\r\n\r\n`,
      );
      spaces.delete(c.space);
      c.state = 'idle';
    }
  }
  // The last event: the load loop stops, and the clock for events/s too, once the gateway has applied it.
  const s: Caller = {
    n: 999999,
    state: 'queued',
    uid: SENTINEL,
    linked: SENTINEL,
    channel: 'Local/sentinel@bench-ffffffff;2',
    queue: QUEUES[0]!,
    space: 0,
  };
  const list = waiting.get(s.queue)!;
  emit(
    `Event: QueueCallerJoin\r\nPrivilege: agent,all\r\n${block(s)}Queue: ${s.queue}\r\nPosition: ${list.length + 1}\r\nCount: ${list.length + 1}\r\n\r\n`,
  );
  if (buf) chunks.push(Buffer.from(buf, 'utf8'));
  let queued = 0;
  for (const l of waiting.values()) queued += l.length;
  return { chunks, events, waiting: queued + 1, parked: spaces.size };
}

// ---------------------------------------------------------------------------------------------------------------
// fake AMI server

interface FakeAmi {
  port: number;
  /** Resolves once a client has logged in and every list of the resync was answered. */
  ready: Promise<void>;
  stream(chunks: Buffer[]): Promise<void>;
  close(): Promise<void>;
}

function listAnswer(id: string, ack: string, complete: string, items: string[]): string {
  let out = `Response: Success\r\nActionID: ${id}\r\nEventList: start\r\nMessage: ${ack}\r\n\r\n`;
  for (const it of items) out += `Event: ${it.split('\r\n', 1)[0]}\r\n${it.slice(it.indexOf('\r\n') + 2)}ActionID: ${id}\r\n\r\n`;
  return out + `Event: ${complete}\r\nActionID: ${id}\r\nEventList: Complete\r\nListItems: ${items.length}\r\n\r\n`;
}

function startFakeAmi(): Promise<FakeAmi> {
  let client: net.Socket | undefined;
  const answered = new Set<string>();
  let lastList = 0;
  let markReady!: () => void;
  const ready = new Promise<void>((r) => (markReady = r));
  // The gateway resyncs on login and again on FullyBooted: ready once every list was answered and none came
  // for a while, so no resync answer (empty lists) lands in the middle of the churn.
  const settle = () => {
    if (answered.size === 3 && Date.now() - lastList >= 300) markReady();
    else setTimeout(settle, 50);
  };
  setTimeout(settle, 50);
  const params = QUEUES.map(
    (q) =>
      `QueueParams\r\nQueue: ${q}\r\nMax: 0\r\nStrategy: ringall\r\nCalls: 0\r\nHoldtime: 0\r\nTalkTime: 0\r\nCompleted: 0\r\n` +
      `Abandoned: 0\r\nServiceLevel: 0\r\nServicelevelPerf: 0.0\r\nServicelevelPerf2: 0.0\r\nWeight: 0\r\n`,
  );
  const lot = `Parkinglot\r\nName: ${LOT.name}\r\nStartSpace: ${LOT.first}\r\nStopSpace: ${LOT.last}\r\nTimeout: ${LOT.timeout}\r\n`;

  const answer = (socket: net.Socket, action: Record<string, string>) => {
    const id = action.actionid ?? '';
    const name = (action.action ?? '').toLowerCase();
    let out: string;
    switch (name) {
      case 'login':
        out =
          `Response: Success\r\nActionID: ${id}\r\nMessage: Authentication accepted\r\n\r\n` +
          `Event: FullyBooted\r\nPrivilege: system,all\r\nUptime: 100\r\nLastReload: 100\r\nStatus: Fully Booted\r\n\r\n`;
        break;
      case 'logoff':
        out = `Response: Goodbye\r\nActionID: ${id}\r\nMessage: Thanks for all the fish.\r\n\r\n`;
        break;
      case 'coresettings':
        out =
          `Response: Success\r\nActionID: ${id}\r\nAMIversion: 11.0.0\r\nAsteriskVersion: 22.0.0-bench\r\nSystemName: \r\n` +
          `CoreMaxCalls: 0\r\nCoreMaxLoadAvg: 0.000000\r\nCoreRunUser: asterisk\r\nCoreRunGroup: asterisk\r\nCoreMaxFilehandles: 0\r\n` +
          `CoreRealTimeEnabled: No\r\nCoreCDRenabled: No\r\nCoreHTTPenabled: No\r\nSoundsSearchCustomDir: No\r\n\r\n`;
        break;
      case 'corestatus': {
        const d = new Date();
        const date = d.toISOString().slice(0, 10);
        const time = d.toTimeString().slice(0, 8);
        out =
          `Response: Success\r\nActionID: ${id}\r\nCoreStartupDate: ${date}\r\nCoreStartupTime: ${time}\r\nCoreReloadDate: ${date}\r\n` +
          `CoreReloadTime: ${time}\r\nCoreCurrentCalls: 0\r\nCoreProcessedCalls: 0\r\n\r\n`;
        break;
      }
      // The debounced per-queue refresh (QueueStatus with Queue:) gets an empty list: counters stay as they are.
      case 'queuestatus':
        out = listAnswer(id, 'Queue status will follow', 'QueueStatusComplete', action.queue ? [] : params);
        break;
      case 'parkinglots':
        out = listAnswer(id, 'Parking lots will follow', 'ParkinglotsComplete', [lot]);
        break;
      case 'parkedcalls':
        out = listAnswer(id, 'Parked calls will follow', 'ParkedCallsComplete', []);
        break;
      case 'agents':
        out = listAnswer(id, 'Agents will follow', 'AgentsComplete', []);
        break;
      default:
        out = `Response: Success\r\nActionID: ${id}\r\nMessage: OK\r\n\r\n`;
    }
    socket.write(out);
    if (['queuestatus', 'parkinglots', 'parkedcalls'].includes(name) && !action.queue) {
      answered.add(name);
      lastList = Date.now();
    }
  };

  const server = net.createServer((socket) => {
    client = socket;
    socket.setNoDelay(true);
    socket.write('Asterisk Call Manager/11.0.0\r\n');
    let buf = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      buf += chunk;
      let end: number;
      while ((end = buf.indexOf('\r\n\r\n')) >= 0) {
        const text = buf.slice(0, end);
        buf = buf.slice(end + 4);
        const action: Record<string, string> = {};
        for (const line of text.split('\r\n')) {
          const i = line.indexOf(':');
          if (i > 0) action[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
        }
        answer(socket, action);
      }
    });
    socket.on('error', () => undefined);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve({
        port: (server.address() as net.AddressInfo).port,
        ready,
        async stream(chunks) {
          const s = client;
          if (!s) throw new Error('no AMI client connected');
          for (const c of chunks) {
            if (!s.write(c)) await new Promise<void>((r) => s.once('drain', () => r()));
          }
        },
        close: () =>
          new Promise<void>((r) => {
            client?.destroy();
            server.close(() => r());
          }),
      });
    });
  });
}

interface FakeAmiHandle {
  port: number;
  events: number;
  /** Callers the model leaves waiting (the sentinel included) and parked: what the gateway must show at the end. */
  waiting: number;
  parked: number;
  ready: Promise<void>;
  stream(): Promise<void>;
  close(): Promise<void>;
}

type WorkerMessage =
  | { type: 'listening'; port: number; events: number; waiting: number; parked: number }
  | { type: 'ready' }
  | { type: 'streamed' }
  | { type: 'error'; message: string };

/**
 * The fake AMI server runs in a worker thread, as Asterisk runs in another process: generating and writing the
 * events does not take time from the gateway's event loop, which is what is measured.
 */
function startFakeAmiWorker(events: number, callers: number): Promise<FakeAmiHandle> {
  const data = { role: 'fake-ami', events, callers };
  // Bun runs TypeScript in workers as it is; Node needs tsx's loader registered in the worker first.
  const worker =
    typeof (globalThis as { Bun?: unknown }).Bun !== 'undefined'
      ? new Worker(new URL(import.meta.url), { workerData: data })
      : new Worker(
          `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))})` +
            `.then((api) => { api.register(); return import(${JSON.stringify(import.meta.url)}); })`,
          { eval: true, workerData: data },
        );
  const waiters = new Map<string, { resolve(m: WorkerMessage): void; reject(e: Error): void }[]>();
  const seen = new Map<string, WorkerMessage>();
  let failed: Error | undefined;
  const fail = (e: Error) => {
    failed ??= e;
    for (const list of waiters.values()) for (const w of list) w.reject(e);
    waiters.clear();
  };
  const next = (type: string) =>
    new Promise<WorkerMessage>((resolve, reject) => {
      const hit = seen.get(type);
      if (hit) return resolve(hit);
      if (failed) return reject(failed);
      waiters.set(type, [...(waiters.get(type) ?? []), { resolve, reject }]);
    });
  worker.on('message', (m: WorkerMessage) => {
    if (m.type === 'error') return fail(new Error(`fake AMI: ${m.message}`));
    seen.set(m.type, m);
    for (const w of waiters.get(m.type) ?? []) w.resolve(m);
    waiters.delete(m.type);
  });
  worker.on('error', fail);
  worker.on('exit', (code) => fail(new Error(`fake AMI worker exited (${code})`)));
  return next('listening').then((m) => {
    const l = m as Extract<WorkerMessage, { type: 'listening' }>;
    return {
      port: l.port,
      events: l.events,
      waiting: l.waiting,
      parked: l.parked,
      ready: next('ready').then(() => undefined),
      stream: () => {
        worker.postMessage('stream');
        return next('streamed').then(() => undefined);
      },
      close: async () => {
        worker.removeAllListeners('exit');
        await worker.terminate();
      },
    };
  });
}

async function fakeAmiWorker(): Promise<void> {
  const port = parentPort!;
  try {
    const { events, callers } = workerData as { events: number; callers: number };
    const gen = generate(events, callers);
    const ami = await startFakeAmi();
    port.postMessage({
      type: 'listening',
      port: ami.port,
      events: gen.events,
      waiting: gen.waiting,
      parked: gen.parked,
    } satisfies WorkerMessage);
    void ami.ready.then(() => port.postMessage({ type: 'ready' } satisfies WorkerMessage));
    port.on('message', (m: string) => {
      if (m !== 'stream') return;
      ami.stream(gen.chunks).then(
        () => port.postMessage({ type: 'streamed' } satisfies WorkerMessage),
        (e: Error) => port.postMessage({ type: 'error', message: e.message } satisfies WorkerMessage),
      );
    });
  } catch (e) {
    port.postMessage({ type: 'error', message: (e as Error).message } satisfies WorkerMessage);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// HTTP load

interface Load {
  requests: number;
  ms: number;
  bodies: Map<string, Buffer>;
}

/**
 * `concurrency` keep-alive workers, each sending GETs of the paths in turn until `limit` requests were made or
 * `stop()` says so. Checks that every answer is a 200; keeps the last body of each path.
 */
async function load(port: number, token: string, concurrency: number, limit: number, stop: () => boolean = () => false): Promise<Load> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const bodies = new Map<string, Buffer>();
  let sent = 0;
  let done = 0;
  const one = (p: string) =>
    new Promise<void>((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port, path: p, agent, headers: { authorization: `Bearer ${token}` } }, (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () => {
          if (res.statusCode !== 200)
            return reject(new Error(`GET ${p}: ${res.statusCode} ${Buffer.concat(parts).toString().slice(0, 200)}`));
          bodies.set(p, Buffer.concat(parts));
          done++;
          resolve();
        });
        res.on('error', reject);
      });
      req.on('error', reject);
    });
  const t0 = performance.now();
  const worker = async (w: number) => {
    for (let i = w; sent < limit && !stop(); i++) {
      sent++;
      await one(PATHS[i % PATHS.length]!);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, w) => worker(w)));
  const ms = performance.now() - t0;
  agent.destroy();
  return { requests: done, ms, bodies };
}

/** A bare node:http server answering each path with the given bytes and the gateway's content-type. */
function bareServer(bodies: Map<string, Buffer>): Promise<{ port: number; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const body = bodies.get(req.url ?? '');
    if (!body) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': body.length });
    res.end(body);
  });
  server.keepAliveTimeout = 60_000;
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () =>
      resolve({
        port: (server.address() as net.AddressInfo).port,
        close: () =>
          new Promise<void>((r) => {
            server.closeAllConnections();
            server.close(() => r());
          }),
      }),
    );
  });
}

async function adminToken(port: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/v1/admin/login`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${ADMIN.username}:${ADMIN.password}`).toString('base64')}` },
  });
  const body = (await res.json()) as { result?: { authtoken?: string } };
  if (!body.result?.authtoken) throw new Error(`login failed: ${JSON.stringify(body)}`);
  return body.result.authtoken;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`churn bench: ${what} took longer than ${ms} ms`)), ms);
    }),
  ]);
}

// ---------------------------------------------------------------------------------------------------------------

export interface ChurnDetail {
  eventsPerSec: number;
  getRps: number;
  bareRps: number;
  ratio: number;
  events: number;
  applyMs: number;
  churnRequests: number;
  quietRps: number;
  quietRatio: number;
  entries: number;
  parked: number;
  bytes: Record<string, number>;
}

async function run(opts: ChurnOptions = {}): Promise<ChurnDetail> {
  const eventCount = opts.events ?? 200_000;
  const callers = opts.callers ?? 200;
  const concurrency = opts.concurrency ?? 50;
  const requests = opts.requests ?? 20_000;
  const limitMs = opts.timeLimitMs ?? 120_000;
  const deadline = Date.now() + limitMs;
  const left = () => Math.max(1, deadline - Date.now());

  const ami = await startFakeAmiWorker(eventCount, callers);
  const { events, waiting, parked } = ami;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gw-churn-'));
  const config = parseConfig(
    JSON.stringify({
      http: { host: '127.0.0.1', port: 0 },
      ami: { host: '127.0.0.1', port: ami.port, username: 'bench', secret: 'bench', reconnect_max_ms: 1000 },
      asterisk: { config_dir: dir },
      data_dir: dir,
      auth: { token_ttl_s: 3600, bootstrap_admin: ADMIN },
      plugins: ['queue', 'park'],
    }),
    path.join(dir, 'gateway.yaml'),
    BUILTIN_PLUGINS.map((p) => p.name),
  );
  const gateway = await Gateway.create(config, createLogger('bench', 'silent'));
  try {
    const server = await gateway.start();
    const port = server.port;
    await withTimeout(ami.ready, left(), 'the resync');
    await withTimeout(
      (async () => {
        for (;;) {
          const s = gateway.status();
          if (s.ami.connected && s.plugins.every((p) => p.live)) return;
          await new Promise((r) => setTimeout(r, 10));
        }
      })(),
      left(),
      'the gateway going live',
    );
    const token = await adminToken(port);
    // warm-up: the JIT sees the HTTP path before timing
    await load(port, token, concurrency, 2000);

    // ---- churn: stream every event while the load loop polls ----
    let applied = false;
    let appliedAt = 0;
    const sentinel = new Promise<void>((resolve) => {
      gateway.ami.onEvent((m) => {
        // runs after the plugin host's listener (registered first), so the event has been applied
        if (m.fields.Uniqueid === SENTINEL) {
          applied = true;
          appliedAt = performance.now();
          resolve();
        }
      });
    });
    const t0 = performance.now();
    const polling = load(port, token, concurrency, Number.MAX_SAFE_INTEGER, () => applied || Date.now() > deadline);
    await withTimeout(ami.stream(), left(), 'streaming the events');
    await withTimeout(sentinel, left(), 'applying the events');
    const churn = await polling;
    const applyMs = appliedAt - t0;

    // ---- the same GETs on the quiet gateway, then on a bare server with the same bytes ----
    const quiet = await withTimeout(load(port, token, concurrency, requests), left(), 'the quiet load');
    const bodies = quiet.bodies;
    const bare = await bareServer(bodies);
    let bareLoad: Load;
    try {
      await load(bare.port, token, concurrency, 2000);
      bareLoad = await withTimeout(load(bare.port, token, concurrency, requests), left(), 'the bare load');
    } finally {
      await bare.close();
    }
    const rps = (l: Load) => (l.requests * 1000) / l.ms;
    const getRps = rps(churn);
    const bareRps = rps(bareLoad);
    const quietRps = rps(quiet);
    const count = (p: string) => (JSON.parse(bodies.get(p)!.toString()) as { result: { list: unknown[] } }).result.list.length;
    // The churn must leave the state Asterisk would have: every caller still waiting, every call still parked.
    if (count(PATHS[0]!) !== waiting || count(PATHS[1]!) !== parked) {
      throw new Error(
        `churn bench: state is wrong after the churn: ${count(PATHS[0]!)} entries (want ${waiting}), ${count(PATHS[1]!)} parked (want ${parked})`,
      );
    }
    const positions = (JSON.parse(bodies.get(PATHS[0]!)!.toString()) as { result: { list: { queue_name: string; position: number }[] } })
      .result.list;
    for (const q of QUEUES) {
      const ps = positions
        .filter((e) => e.queue_name === q)
        .map((e) => e.position)
        .sort((a, b) => a - b);
      if (ps.some((p, i) => p !== i + 1)) throw new Error(`churn bench: positions of queue ${q} are not 1..n: ${ps.join(',')}`);
    }
    return {
      eventsPerSec: (events * 1000) / applyMs,
      getRps,
      bareRps,
      ratio: getRps / bareRps,
      events,
      applyMs,
      churnRequests: churn.requests,
      quietRps,
      quietRatio: quietRps / bareRps,
      entries: count(PATHS[0]!),
      parked: count(PATHS[1]!),
      bytes: Object.fromEntries([...bodies].map(([p, b]) => [p, b.length])),
    };
  } finally {
    await gateway.stop().catch(() => undefined);
    await ami.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function benchChurn(
  opts: ChurnOptions = {},
): Promise<{ eventsPerSec: number; getRps: number; bareRps: number; ratio: number }> {
  const r = await run(opts);
  return { eventsPerSec: r.eventsPerSec, getRps: r.getRps, bareRps: r.bareRps, ratio: r.ratio };
}

if (!isMainThread && (workerData as { role?: string } | null)?.role === 'fake-ami') void fakeAmiWorker();

if (isMainThread && isMain(import.meta.url)) {
  const arg = Number(process.argv[2]);
  const r = await run({ events: Number.isInteger(arg) && arg > 0 ? arg : undefined });
  const n = (x: number) => Math.round(x).toLocaleString('en-US');
  console.log(`Event churn: 200 callers through ${QUEUES.length} queues and lot ${LOT.name}, replayed as AMI events over loopback`);
  console.log(`  events applied:       ${n(r.events)} in ${n(r.applyMs)} ms = ${n(r.eventsPerSec)} events/s (while polled)`);
  console.log(`  GET during churn:     ${n(r.getRps)} requests/s (${n(r.churnRequests)} requests, 50 keep-alive clients)`);
  console.log(
    `  GET quiet gateway:    ${n(r.quietRps)} requests/s (${r.entries} entries, ${r.parked} parked calls; ${Object.values(r.bytes)
      .map((b) => `${n(b)} B`)
      .join(' / ')})`,
  );
  console.log(`  bare node:http:       ${n(r.bareRps)} requests/s (same bytes, precomputed)`);
  console.log(`  ratio churn / bare:   ${r.ratio.toFixed(2)}`);
  console.log(`  ratio quiet / bare:   ${r.quietRatio.toFixed(2)}`);
  process.exit(0);
}
