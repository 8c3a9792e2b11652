// WebSocket fan-out benchmark (issue 8): an AMI event in to a WebSocket frame out, 1,000 sockets on loopback.
//   gateway  the real Gateway (core + users plugins, default gateway.yaml websocket settings) in this process,
//            logged in to a fake AMI; 1,000 admin sockets on /v1/ws get a core.channel.updated frame per
//            Newchannel / Newstate event
//   bare     a bare `ws` broadcast server (bench/support/ws-bare.ts) reading the same events from its own fake AMI
//            and sending each one the gateway's frame, built once, to its 1,000 sockets (the baseline)
// measured alternately in the same rounds (median of rounds):
//   latency  events written for 1 s at 1,000/s (a busy PBX) and at 100/s; per frame, the feeder's write -> the
//            client's receipt                                                          goal p99 < 5 ms at 1,000/s
//   frames/s a burst of 500 events written as fast as the server reads them; frames received / (last frame
//            received - first event written)                                   goal gateway/bare >= 0.70
//            beside it each server's CPU time per frame, and the client process's CPU (near 100 %: the clients,
//            not the server, set the pace, and the frames/s ratio flatters the slower server)
//   RSS      of the gateway in its own process, as deployed (test/support/soak-gateway.ts), with 1,000 sockets and the
//            same events (1,000 burst, then 1,000/s for 1 s), read from /proc every 50 ms: under Bun (the runtime the
//            binary embeds) with the systemd unit's Environment= lines, and under Node as `npm start` runs it
//            (bundled by `bun build --target=node`, then node)                                   goal < 150 MB
// The feeder (bench/support/ami-feeder.ts) and the 1,000 + 1,000 clients (bench/support/ws-clients.ts) run in their
// own processes; the stamp travels in CallerIDName -> the channel's caller_id_name, on the monotonic clock all
// processes share. Bounded: fixed event counts and a 30 s timeout per phase.
//   npx tsx bench/ws-fanout.ts
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MARK } from './support/ami-feeder.ts';
import { startBenchGateway } from './support/gateway.ts';
import { isMain } from './support/is-main.ts';
import { NODE, nodeBundle } from '../test/support/node-bundle.ts';
import { rssMb } from '../test/support/proc.ts';
import { unitEnvironment } from '../test/support/unit-environment.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/**
 * A helper process on IPC. It says when it listens with a first message (`ready`: a message sent earlier would be
 * lost); `ask` sends a command and resolves with the next message.
 */
function helper<Ready = unknown>(file: string, args: string[] = []) {
  const proc: ChildProcess = fork(path.join(HERE, 'support', file), args, { execArgv: ['--import', 'tsx'] });
  let stopping = false;
  proc.on('exit', (code) => {
    if (stopping) return;
    console.error(`${file} exited with ${code}`);
    process.exit(1);
  });
  const next = <T>() => new Promise<T>((resolve) => proc.once('message', (r) => resolve(r as T)));
  const ready = next<Ready>();
  return {
    ready,
    ask: async <T>(m: object) => {
      await ready;
      const answer = next<T>();
      proc.send(m);
      return answer;
    },
    stop: () => {
      stopping = true;
      proc.kill();
    },
  };
}

interface Got {
  frames: number;
  lastUs: number;
  p50: number;
  p99: number;
  max: number;
  closed: number;
  cpuMs: number;
  sample: string | null;
}

export async function benchWsFanout(opts: { sockets?: number; rates?: number[]; burst?: number; rounds?: number } = {}) {
  const sockets = opts.sockets ?? 1000;
  const rates = opts.rates ?? [1000, 100];
  const burst = opts.burst ?? 500;
  const rounds = opts.rounds ?? 3;
  const feeder = helper<{ gw: number; bare: number; bun: number; node: number }>('ami-feeder.ts');
  const clients = helper('ws-clients.ts');
  const ports = await feeder.ready;
  let bare: ReturnType<typeof helper> | undefined;
  const bench = await startBenchGateway(ports.gw, 'ws');

  try {
    const { base } = bench;
    const token = await bench.login();
    // the AMI login and resync are done when the channels answer
    for (let i = 0; i < 200 && (await fetch(`${base}/v1/admin/core/channels?authtoken=${token}`)).status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 25));
    }
    await clients.ask({ cmd: 'connect', group: 'gw', url: `ws://127.0.0.1:${bench.port}/v1/ws?authtoken=${token}`, sockets });
    await new Promise((r) => setTimeout(r, 200)); // the hello frames are out

    /** The server's CPU time in ms: the gateway is this process, the bare server answers for itself. */
    const serverCpu = async (group: 'gw' | 'bare') => {
      const u = group === 'gw' ? process.cpuUsage() : await bare!.ask<NodeJS.CpuUsage>({ cmd: 'cpu' });
      return (u.user + u.system) / 1000;
    };
    /** Feed `events` to one server's fake AMI (rate 0: a burst) and wait until every socket has them. */
    const phase = async (group: 'gw' | 'bare', events: number, rate: number) => {
      await clients.ask({ cmd: 'reset', group });
      const cpu0 = await serverCpu(group);
      const fed = await feeder.ask<{ startUs: number }>({ target: group, events, rate });
      const got = await clients.ask<Got>({ cmd: 'wait', group, frames: events, timeoutMs: 30_000 });
      const seconds = (got.lastUs - fed.startUs) / 1e6;
      return {
        ...got,
        lost: events * sockets - got.frames,
        fps: got.frames / seconds,
        serverUsPerFrame: (((await serverCpu(group)) - cpu0) * 1000) / got.frames,
        clientUsPerFrame: (got.cpuMs * 1000) / got.frames,
        clientCpu: got.cpuMs / 1000 / seconds,
      };
    };

    // warm-up: the first events create the channels (Newchannel), the rest are Newstate
    const warm = await phase('gw', 1000, 0);
    if (!warm.sample) throw new Error('no frame reached the clients from the gateway');
    const at = warm.sample.indexOf(MARK);
    const end = warm.sample.slice(at + MARK.length).search(/\D/) + at + MARK.length;
    bare = helper('ws-bare.ts', [String(ports.bare)]);
    const bareReady = bare.ask<{ port: number }>({ before: warm.sample.slice(0, at), after: warm.sample.slice(end) });
    await feeder.ask({ target: 'bare', events: 0, rate: 0 }); // answers once the bare server has logged in
    const barePort = (await bareReady).port;
    await clients.ask({ cmd: 'connect', group: 'bare', url: `ws://127.0.0.1:${barePort}`, sockets });
    await phase('bare', 1000, 0);

    type Phase = Awaited<ReturnType<typeof phase>>;
    const runs = { gw: [] as Phase[][], bare: [] as Phase[][] }; // [round][rates..., burst]
    for (let round = 0; round < rounds; round++) {
      for (const g of ['gw', 'bare'] as const) {
        const row: Phase[] = [];
        for (const rate of rates) row.push(await phase(g, rate, rate)); // one second at `rate`
        row.push(await phase(g, burst, 0));
        runs[g].push(row);
      }
    }
    const pick = (g: 'gw' | 'bare', i: number) => {
      const xs = runs[g].map((row) => row[i]!);
      const med = (f: (x: Phase) => number) => median(xs.map(f));
      return {
        p50: med((x) => x.p50) / 1000,
        p99: med((x) => x.p99) / 1000,
        max: Math.max(...xs.map((x) => x.max)) / 1000,
        fps: med((x) => x.fps),
        serverUsPerFrame: med((x) => x.serverUsPerFrame),
        clientUsPerFrame: med((x) => x.clientUsPerFrame),
        clientCpu: med((x) => x.clientCpu),
        lost: xs.reduce((a, x) => a + x.lost, 0),
        closed: Math.max(...xs.map((x) => x.closed)),
      };
    };
    const at_ = (i: number) => ({ gw: pick('gw', i), bare: pick('bare', i) });

    /** The gateway in its own process: RSS before the sockets, with them, and its peak under the events. */
    const processRss = async (runtime: 'bun' | 'node') => {
      const dir = mkdtempSync(path.join(os.tmpdir(), `gw-bench-rss-${runtime}-`));
      const script = path.join(HERE, '..', 'test', 'support', 'soak-gateway.ts');
      const unitEnv = runtime === 'bun' ? unitEnvironment() : {};
      // under Node as `npm start` runs the gateway: bundled, then plain node (test/support/node-bundle.ts)
      const bundle = runtime === 'node' ? nodeBundle(script) : undefined;
      const [cmd, args, env] = bundle
        ? [NODE, [bundle.file], process.env]
        : [path.join(HERE, '..', 'node_modules', '.bin', 'bun'), [script], { ...process.env, ...unitEnv }];
      const child = spawn(cmd, [...args, String(ports[runtime]), dir], { stdio: ['pipe', 'pipe', 'inherit'], env });
      const rss = () => rssMb(child.pid!);
      try {
        const port = await new Promise<number>((resolve, reject) => {
          child.stdout!.once('data', (d) => resolve(JSON.parse(String(d).split('\n')[0]!).port));
          child.once('exit', (code) => reject(new Error(`the ${runtime} gateway exited with ${code}`)));
        });
        const res = await fetch(`http://127.0.0.1:${port}/v1/admin/login`, {
          method: 'POST',
          headers: { authorization: `Basic ${Buffer.from('admin:soak-pw').toString('base64')}` },
        });
        const tok = ((await res.json()) as { result: { authtoken: string } }).result.authtoken;
        for (let i = 0; i < 200 && (await fetch(`http://127.0.0.1:${port}/v1/admin/core/channels?authtoken=${tok}`)).status !== 200; i++) {
          await new Promise((r) => setTimeout(r, 25));
        }
        const before = rss();
        const group = `rss-${runtime}`;
        await clients.ask({ cmd: 'connect', group, url: `ws://127.0.0.1:${port}/v1/ws?authtoken=${tok}`, sockets });
        await new Promise((r) => setTimeout(r, 200));
        const connected = rss();
        let peak = connected;
        const timer = setInterval(() => (peak = Math.max(peak, rss())), 50);
        const cpuMs = () => {
          const f = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
          return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // utime + stime, in clock ticks of 10 ms
        };
        const phases: { rate: number; p50: number; p99: number; usPerFrame: number }[] = [];
        for (const [events, rate] of [
          [1000, 0],
          [1000, 1000],
          [100, 100],
        ] as const) {
          await clients.ask({ cmd: 'reset', group });
          const cpu0 = cpuMs();
          await feeder.ask({ target: runtime, events, rate });
          const got = await clients.ask<Got>({ cmd: 'wait', group, frames: events, timeoutMs: 30_000 });
          if (got.frames < events * sockets) throw new Error(`${runtime}: ${got.frames} of ${events * sockets} frames arrived`);
          phases.push({ rate, p50: got.p50 / 1000, p99: got.p99 / 1000, usPerFrame: ((cpuMs() - cpu0) * 1000) / got.frames });
        }
        clearInterval(timer);
        peak = Math.max(peak, rss());
        await clients.ask({ cmd: 'close', group });
        return { before, connected, peak, phases, env: unitEnv };
      } finally {
        child.kill('SIGTERM');
        await new Promise((r) => (child.exitCode === null ? child.once('exit', r) : r(undefined)));
        bundle?.remove();
        rmSync(dir, { recursive: true, force: true });
      }
    };
    const rss = { bun: await processRss('bun'), node: await processRss('node') };
    return {
      sockets,
      burst,
      rounds,
      frameBytes: Buffer.byteLength(warm.sample),
      rates: rates.map((rate, i) => ({ rate, ...at_(i) })),
      burstResult: at_(rates.length),
      rss,
    };
  } finally {
    clients.stop();
    bare?.stop();
    feeder.stop();
    await bench.stop();
  }
}

export function printWsFanout(r: Awaited<ReturnType<typeof benchWsFanout>>): void {
  const n = (x: number) => Math.round(x).toLocaleString('en-US');
  const ms = (x: number) => `${x < 10 ? x.toFixed(2) : n(x)} ms`.padStart(12);
  const both = <T>(x: { gw: T; bare: T }): [string, T][] => [
    ['gateway', x.gw],
    ['bare ws', x.bare],
  ];
  console.log(
    `WebSocket fan-out, AMI Newchannel/Newstate in -> frame out, ${n(r.sockets)} sockets on 127.0.0.1 ` +
      `(${n(r.frameBytes)} bytes per frame), median of ${r.rounds} rounds:`,
  );
  console.log('  event written -> frame received        p50          p99          max   frames/s delivered');
  for (const x of r.rates) {
    console.log(`  ${n(x.rate)} events/s for 1 s (${n(x.rate * r.sockets)} frames/s offered)`);
    for (const [name, z] of both(x)) {
      console.log(`    ${name.padEnd(24)} ${ms(z.p50)} ${ms(z.p99)} ${ms(z.max)}   ${n(z.fps).padStart(9)}`);
    }
  }
  const goal = r.rates.find((x) => x.rate === 1000) ?? r.rates[0]!;
  console.log(`  p99 goal < 5 ms at ${n(goal.rate)} events/s: gateway ${goal.gw.p99 < 5 ? 'met' : 'MISSED'}`);
  const b = r.burstResult;
  console.log(`  burst of ${n(r.burst)} events            frames/s   server CPU per frame   client process CPU   client CPU per frame`);
  for (const [name, z] of both(b)) {
    console.log(
      `    ${name.padEnd(24)} ${n(z.fps).padStart(9)}   ${z.serverUsPerFrame.toFixed(2).padStart(9)} µs   ${n(z.clientCpu * 100).padStart(9)} % of a core` +
        `   ${z.clientUsPerFrame.toFixed(2).padStart(9)} µs`,
    );
  }
  // The clients are one process reading every socket in turn: its CPU per frame times the sockets is how long it
  // takes to read one event on all of them, a floor under the latency of the last socket whatever the server does.
  // Taken from the burst, where a read often carries several frames: the cheapest case, so the floor is low if anything.
  const us = b.bare.clientUsPerFrame;
  console.log(
    `    the client process (bare ws's frames) needs ${((us * r.sockets) / 1000).toFixed(1)} ms of CPU to read one event on ` +
      `${n(r.sockets)} sockets, a floor under the last socket's latency, and ${((us * r.sockets * 1000) / 1e6).toFixed(1)} ` +
      `cores to keep up with 1,000 events/s`,
  );

  const ratio = b.gw.fps / b.bare.fps;
  console.log(
    `    ratio gateway/bare   ${ratio.toFixed(2)}   (goal >= 0.70)${ratio >= 0.7 ? '' : '   MISSED'}` +
      `;  by server CPU per frame (bare/gateway): ${(b.bare.serverUsPerFrame / b.gw.serverUsPerFrame).toFixed(2)}`,
  );
  console.log(`  gateway RSS in its own process, ${n(r.sockets)} sockets, 1,000 events as a burst then 1,000/s for 1 s (goal < 150 MB):`);
  for (const [name, x] of [
    [
      `Bun, as the binary runs (unit: ${Object.entries(r.rss.bun.env)
        .map(([k, v]) => `${k}=${v}`)
        .join(' ')})`,
      r.rss.bun,
    ],
    ['Node, bundled as npm start runs it', r.rss.node],
  ] as const) {
    console.log(
      `    ${name}: ${n(x.before)} MB before the sockets, ${n(x.connected)} MB connected, peak ${n(x.peak)} MB` +
        (x.peak < 150 ? '' : '   MISSED'),
    );
    const ph = x.phases.map(
      (p) =>
        `${p.rate ? `${n(p.rate)}/s` : 'burst'}: p50 ${ms(p.p50).trim()} p99 ${ms(p.p99).trim()}, ${p.usPerFrame.toFixed(2)} µs CPU/frame`,
    );
    console.log(`      ${ph.join('; ')}`);
  }
  const lost = [...r.rates, b].reduce((a, x) => a + x.gw.lost + x.bare.lost, 0);
  const closed = Math.max(...[...r.rates, b].map((x) => x.gw.closed));
  if (lost || closed) console.log(`  frames not delivered within 30 s: ${n(lost)}; gateway sockets closed by the server: ${closed}`);
}

if (isMain(import.meta.url)) {
  printWsFanout(await benchWsFanout());
  process.exit(0);
}
