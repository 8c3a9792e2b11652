// NATS fleet benchmark: events/s from AMI through the gateway's nats plugin into JetStream, read back by a consumer,
// beside the baseline of publishing the same payloads straight to JetStream with the client, measured side by side
// in one run (interleaved rounds, median of each) on a loopback nats-server started here from Debian's package
// (test/nats/provision.sh), as the tests start it.
//   gateway   a fake AMI (bench/support/ami-feeder.ts, its own process) -> the gateway (core + nats plugins) ->
//             JetStream -> an ordered consumer in this process; events/s from the first AMI byte to the last
//             message consumed; latency from the AMI write (the µs stamp the feeder puts in CallerIDName) to receipt.
//   baseline  the frames the gateway published, captured by the consumer, published again by the client under
//             another pbx_id with the plugin's acknowledgement mode (JetStream publish with ack, Nats-Msg-Id, the same
//             number in flight: PUBLISH_WINDOW), to the same stream and consumer; latency from the publish call.
// Goal: gateway/baseline >= 0.7; the added p99 latency is gateway p99 - baseline p99 at the same fixed rate.
import { type ChildProcess, fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect, headers as natsHeaders, type NatsConnection } from '@nats-io/transport-node';
import { DeliverPolicy, jetstream, type JsMsg } from '@nats-io/jetstream';
import type { Gateway } from '../core/gateway.ts';
import { createLogger } from '../core/log.ts';
import { PUBLISH_WINDOW } from '../plugins/nats/link.ts';
import { gatewayIn } from '../test/support/gateway.ts';
import { NatsServer, natsSkipReason } from '../test/support/nats.ts';
import { MARK } from './support/ami-feeder.ts';
import { isMain } from './support/is-main.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const STREAM = 'BENCH';
const nowUs = () => Number(process.hrtime.bigint() / 1000n);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((s.length * p) / 100))] ?? Number.NaN;
};

export interface NatsBenchResult {
  window: number;
  gateway: { eps: number; p50: number; p99: number };
  baseline: { eps: number; p50: number; p99: number };
}

/** The AMI feeder (its own process, so writing events does not wait for the gateway under test). */
function feederProcess() {
  const proc: ChildProcess = fork(path.join(HERE, 'support', 'ami-feeder.ts'), [], { execArgv: ['--import', 'tsx'] });
  const next = <T>() => new Promise<T>((resolve) => proc.once('message', (r) => resolve(r as T)));
  const ready = next<{ gw: number; bare: number }>();
  return {
    ready,
    feed: async (events: number, rate: number) => {
      await ready;
      const answer = next<{ startUs: number; endUs: number }>();
      proc.send({ target: 'gw', events, rate });
      return answer;
    },
    stop: () => proc.kill(),
  };
}

/** What the consumer saw of one pbx_id: each message's receipt time (µs), its payload and AMI stamp. */
class Sink {
  received: { us: number; subject: string; data: Uint8Array; stamp: number }[] = [];
  private want = 0;
  private wake: (() => void) | undefined;

  constructor(readonly pbx: string) {}

  take(m: JsMsg, us: number): void {
    if (m.subject.split('.')[1] !== this.pbx) return;
    const text = m.string();
    const at = text.indexOf(MARK);
    const stamp = at < 0 ? Number.NaN : Number.parseInt(text.slice(at + MARK.length), 10);
    this.received.push({ us, subject: m.subject, data: m.data, stamp });
    if (this.received.length >= this.want) this.wake?.();
  }

  reset(): void {
    this.received = [];
  }

  async until(count: number, timeoutMs = 60_000): Promise<void> {
    this.want = count;
    if (this.received.length >= count) return;
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`${this.pbx}: ${this.received.length}/${count} messages consumed`)), timeoutMs);
      this.wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
    this.wake = undefined;
  }
}

/** Publish `frames` as the plugin does (ack awaited, Nats-Msg-Id, at most `window` in flight, in order). */
async function publishDirect(
  nc: NatsConnection,
  frames: { subject: string; data: Uint8Array }[],
  window: number,
  rate: number,
  tag: string,
) {
  const js = jetstream(nc, { timeout: 5000 });
  const h = natsHeaders();
  h.set('Pbx-Id', 'base');
  const sentUs: number[] = [];
  const inFlight: Promise<unknown>[] = [];
  const t0 = nowUs();
  for (let i = 0; i < frames.length; i++) {
    if (rate > 0) {
      const due = t0 + (i * 1e6) / rate;
      const wait = due - nowUs();
      if (wait > 1000) await new Promise((r) => setTimeout(r, wait / 1000));
    }
    if (inFlight.length >= window) await inFlight.shift();
    const f = frames[i]!;
    sentUs.push(nowUs());
    inFlight.push(js.publish(f.subject.replace(/^asterisk\.gw\./, 'asterisk.base.'), f.data, { msgID: `${tag}:${i}`, headers: h }));
  }
  await Promise.all(inFlight);
  return { t0, sentUs };
}

export async function benchNats(
  opts: { events?: number; rate?: number; latencyEvents?: number; rounds?: number } = {},
): Promise<NatsBenchResult> {
  const events = opts.events ?? 10_000;
  const rate = opts.rate ?? 1000;
  const latencyEvents = opts.latencyEvents ?? 3000;
  const rounds = opts.rounds ?? 3;
  const server = await NatsServer.start();
  const feeder = feederProcess();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gw-bench-nats-'));
  let gw: Gateway | undefined;
  let nc: NatsConnection | undefined;
  try {
    const { gw: amiPort } = await feeder.ready;
    gw = await gatewayIn(
      dir,
      {
        ami: { host: '127.0.0.1', port: amiPort, username: 'bench', secret: 'bench' },
        data_dir: dir,
        asterisk: { config_dir: dir },
        plugins: ['core', 'nats'],
        nats: { servers: [server.url], pbx_id: 'gw', stream: STREAM, buffer_max_events: 1_000_000 },
      },
      ['core', 'nats'],
      { logger: createLogger('bench', 'silent') },
    );
    await gw.start();
    const g = gw;
    const settled = async () => {
      for (let i = 0; i < 600 && !(g.status().nats?.connected && g.status().nats?.buffered === 0); i++)
        await new Promise((r) => setTimeout(r, 100));
    };
    await settled();
    // the stream exists once the gateway's first event (the resync of its AMI connect) is stored
    nc = await connect({ servers: server.url });
    const sinks = { gw: new Sink('gw'), base: new Sink('base') };
    const consumer = await jetstream(nc).consumers.get(STREAM, { deliver_policy: DeliverPolicy.New });
    void consumer.consume({
      callback: (m) => {
        const us = nowUs();
        sinks.gw.take(m, us);
        sinks.base.take(m, us);
      },
    });
    await new Promise((r) => setTimeout(r, 300));

    /** One gateway phase: `n` AMI events at `r`/s (0: as fast as the socket takes them). */
    const viaGateway = async (n: number, r: number) => {
      sinks.gw.reset();
      const seq0 = g.bus.seq;
      const fed = await feeder.feed(n, r);
      await settled();
      const produced = g.bus.seq - seq0; // one bus event per AMI event here; counted, not assumed
      await sinks.gw.until(produced);
      const got = sinks.gw.received;
      return {
        eps: got.length / ((got.at(-1)!.us - fed.startUs) / 1e6),
        latency: got.filter((x) => Number.isFinite(x.stamp)).map((x) => (x.us - x.stamp) / 1000),
        frames: got.map((x) => ({ subject: x.subject, data: x.data })),
      };
    };
    let tag = 0;
    const direct = async (frames: { subject: string; data: Uint8Array }[], r: number) => {
      sinks.base.reset();
      const { t0, sentUs } = await publishDirect(nc!, frames, PUBLISH_WINDOW, r, `b${tag++}`);
      await sinks.base.until(frames.length);
      const got = sinks.base.received;
      return { eps: got.length / ((got.at(-1)!.us - t0) / 1e6), latency: got.map((x, i) => (x.us - sentUs[i]!) / 1000) };
    };

    // warm-up (the first 200 events create the channels; later ones are Newstate), then interleaved rounds
    const warm = await viaGateway(1000, 0);
    await direct(warm.frames, 0);
    const eps = { gw: [] as number[], base: [] as number[] };
    for (let round = 0; round < rounds; round++) {
      const a = await viaGateway(events, 0);
      eps.gw.push(a.eps);
      eps.base.push((await direct(a.frames, 0)).eps);
    }
    // latency at a fixed rate both can sustain
    const lg = await viaGateway(latencyEvents, rate);
    const lb = await direct(lg.frames, rate);
    return {
      window: PUBLISH_WINDOW,
      gateway: { eps: median(eps.gw), p50: pct(lg.latency, 50), p99: pct(lg.latency, 99) },
      baseline: { eps: median(eps.base), p50: pct(lb.latency, 50), p99: pct(lb.latency, 99) },
    };
  } finally {
    await nc?.close().catch(() => {});
    await gw?.stop().catch(() => {});
    feeder.stop();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export function printNats(r: NatsBenchResult): void {
  const f = (n: number) => Math.round(n).toLocaleString('en-US').padStart(9);
  const ms = (n: number) => `${n.toFixed(2).padStart(7)} ms`;
  console.log(`NATS JetStream on loopback (nats-server from the package; ${r.window} publish(es) in flight, acknowledged):`);
  console.log(`  events/s  AMI -> gateway -> JetStream -> consumer   ${f(r.gateway.eps)}`);
  console.log(`  events/s  client -> JetStream -> consumer (baseline) ${f(r.baseline.eps)}`);
  console.log(`  ratio gateway/baseline                               ${(r.gateway.eps / r.baseline.eps).toFixed(2)}   (goal >= 0.70)`);
  console.log(`  latency at a fixed rate, p50 / p99: gateway ${ms(r.gateway.p50)} / ${ms(r.gateway.p99)}`);
  console.log(`                                     baseline ${ms(r.baseline.p50)} / ${ms(r.baseline.p99)}`);
  console.log(`  added p99 latency                          ${ms(r.gateway.p99 - r.baseline.p99)}`);
}

if (isMain(import.meta.url)) {
  const skip = natsSkipReason();
  if (skip) {
    console.log(`skipped: ${skip}`);
    process.exit(0);
  }
  printNats(await benchNats());
  process.exit(0);
}
