// WebSocket clients for bench/ws-fanout.ts, in their own process so that receiving does not count against the servers:
//   tsx bench/support/ws-clients.ts        (forked with IPC; answers each command with one message)
// {cmd:'connect', group, url, sockets}   open `sockets` sockets to `url` as group `group`
// {cmd:'reset', group}                   start counting afresh
// {cmd:'close', group}                   close the group's sockets and forget it
// {cmd:'wait', group, frames, timeoutMs} until each open socket has `frames` frames carrying a stamp (or timeout);
//                                        answers frames received, the last one's time, latency p50/p99/max (µs),
//                                        sockets closed by the server, this process's CPU time, and one frame's text
// A frame counts when it contains the feeder's stamp (`bench-t<µs>`, see ami-feeder.ts) anywhere: nothing here
// depends on the frame's fields. Latency is the stamp against this process's monotonic clock.
import WebSocket from 'ws';
import { MARK } from './ami-feeder.ts';
import { isMain } from './is-main.ts';

const MARK_BYTES = Buffer.from(MARK);
const BUCKET_US = 10;
const nowUs = () => Number(process.hrtime.bigint() / 1000n);

interface Group {
  sockets: { ws: WebSocket; frames: number; open: boolean }[];
  hist: Uint32Array; // latency in BUCKET_US buckets up to 30 s, the last one holding everything longer
  frames: number;
  lastUs: number;
  maxUs: number;
  sample: Buffer | null;
  cpu: NodeJS.CpuUsage;
}
const groups = new Map<string, Group>();

function connect(g: Group, url: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false, skipUTF8Validation: true });
    const s = { ws, frames: 0, open: false };
    ws.on('open', () => {
      s.open = true;
      g.sockets.push(s);
      resolve();
    });
    ws.on('error', reject);
    ws.on('close', () => (s.open = false));
    ws.on('message', (data: Buffer) => {
      const i = data.indexOf(MARK_BYTES);
      if (i < 0) return;
      const now = nowUs();
      let stamp = 0;
      for (let j = i + MARK_BYTES.length; j < data.length && data[j]! >= 48 && data[j]! <= 57; j++) stamp = stamp * 10 + data[j]! - 48;
      const us = now - stamp;
      g.hist[Math.min(g.hist.length - 1, Math.floor(us / BUCKET_US))]!++;
      if (us > g.maxUs) g.maxUs = us;
      g.frames++;
      g.lastUs = now;
      s.frames++;
      g.sample = data;
    });
  });
}

function percentile(h: Uint32Array, total: number, p: number): number {
  let seen = 0;
  for (let b = 0; b < h.length; b++) if ((seen += h[b]!) >= total * p) return (b + 1) * BUCKET_US;
  return Number.NaN;
}

function reset(g: Group): void {
  g.hist.fill(0);
  g.frames = g.lastUs = g.maxUs = 0;
  for (const s of g.sockets) s.frames = 0;
  g.cpu = process.cpuUsage();
}

async function wait(g: Group, frames: number, timeoutMs: number) {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until && g.sockets.some((s) => s.open && s.frames < frames)) await new Promise((r) => setTimeout(r, 10));
  const cpu = process.cpuUsage(g.cpu);
  return {
    frames: g.frames,
    lastUs: g.lastUs,
    p50: percentile(g.hist, g.frames, 0.5),
    p99: percentile(g.hist, g.frames, 0.99),
    max: g.maxUs,
    closed: g.sockets.filter((s) => !s.open).length,
    cpuMs: (cpu.user + cpu.system) / 1000,
    sample: g.sample?.toString('utf8') ?? null,
  };
}

type Command =
  | { cmd: 'connect'; group: string; url: string; sockets: number }
  | { cmd: 'reset'; group: string }
  | { cmd: 'close'; group: string }
  | { cmd: 'wait'; group: string; frames: number; timeoutMs: number };

if (isMain(import.meta.url)) {
  process.send!({ ready: true });
  process.on('message', async (m: Command) => {
    if (m.cmd === 'connect') {
      const g: Group = {
        sockets: [],
        hist: new Uint32Array(3_000_000),
        frames: 0,
        lastUs: 0,
        maxUs: 0,
        sample: null,
        cpu: process.cpuUsage(),
      };
      groups.set(m.group, g);
      // 50 handshakes at a time: the servers' accept backlog stays short
      for (let i = 0; i < m.sockets; i += 50)
        await Promise.all(Array.from({ length: Math.min(50, m.sockets - i) }, () => connect(g, m.url)));
      process.send!({ sockets: g.sockets.length });
    } else if (m.cmd === 'close') {
      for (const s of groups.get(m.group)?.sockets ?? []) s.ws.terminate();
      groups.delete(m.group);
      process.send!({});
    } else if (m.cmd === 'reset') {
      reset(groups.get(m.group)!);
      process.send!({});
    } else {
      process.send!(await wait(groups.get(m.group)!, m.frames, m.timeoutMs));
    }
  });
}
