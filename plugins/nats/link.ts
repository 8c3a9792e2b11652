// The bus -> JetStream publisher. Every bus event becomes one JetStream message on asterisk.<pbx_id>.<event type>
// with the WebSocket's frame as its JSON payload ({type, seq, run, timestamp, data}) and the header Pbx-Id.
//
// Order: up to PUBLISH_WINDOW publishes wait for their acknowledgement at once; JetStream stores one connection's
// publishes in the order they were sent. When the link breaks, the publishes written to the dead socket are lost
// (each a prefix of what was sent on it), and one written while the client is already dialling again would go out
// on the new connection ahead of their retry: so after a failure, or a link loss, nothing new is sent until every
// publish of the window has settled (acknowledged, failed or timed out), then sending starts again from the oldest
// event not acknowledged. Each message carries Nats-Msg-Id <run>:<seq>, so one sent again after a lost
// acknowledgement is stored once (JetStream's duplicate window) and one already acknowledged is not sent again.
//
// While the broker is unreachable the events wait in a bounded queue (buffer_max_events) and go out in order when it
// is back. An event that does not fit is dropped and counted; a gateway.resync then takes its place in the queue
// (once per gap), so consumers know to read the state again (GET, or a fleet query) instead of trusting the events.
import type { NatsConnection } from '@nats-io/transport-node';
import { headers as natsHeaders } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamClient } from '@nats-io/jetstream';
import type { BusMessage } from '../../core/bus/bus.ts';
import type { Logger } from '../../core/log.ts';

export interface LinkOptions {
  pbxId: string;
  stream: string;
  maxAgeS: number;
  maxBytes: number;
  bufferMax: number;
  publishTimeoutMs: number;
  /** first subject tokens of the event types expected (the enabled plugins, and `gateway`) */
  prefixes: readonly string[];
}

/** One frame to publish: the WebSocket's frame for the event, already encoded. */
interface Pending {
  subject: string;
  id: string;
  body: Uint8Array;
  /** JetStream acknowledged it (it stays in the queue until every event before it is acknowledged too) */
  acked?: boolean;
}

const enc = new TextEncoder();

/** How many JetStream publishes may wait for their acknowledgement at once (bench/nats.ts publishes alike). */
export const PUBLISH_WINDOW = 64;

/** The stream's subjects for these event prefixes: asterisk.*.<prefix>.> (never asterisk.*.api: fleet queries). */
export function streamSubjects(prefixes: Iterable<string>): string[] {
  return [...new Set(prefixes)].filter((p) => p !== 'api').map((p) => `asterisk.*.${p}.>`);
}

/**
 * Whether a stream subject (wildcards allowed) takes in fleet requests, asterisk.<any>.api.<path...>: a stream that
 * did would store each request and answer it with a PubAck, which the requester would take for an answer.
 */
export function capturesApi(subject: string): boolean {
  const want = ['asterisk', '*', 'api'];
  const t = subject.split('.');
  for (let i = 0; i < t.length; i++) {
    const tok = t[i]!;
    if (tok === '>') return true; // covers the rest, whatever it is
    if (i >= want.length) return true; // asterisk.<x>.api.<anything>: a request path
    if (tok !== '*' && want[i] !== '*' && tok !== want[i]) return false;
  }
  return false; // asterisk.<x>.api (no path) or shorter
}

export class JetStreamLink {
  private readonly queue: Pending[] = [];
  private head = 0;
  private nc: NatsConnection | null = null;
  private js: JetStreamClient | null = null;
  private streamReady = false;
  private readonly prefixes: Set<string>;
  private closed = false;
  /** queue index of the next event to send (head <= sent <= queue.length) */
  private sent = 0;
  private inFlight = 0;
  /** the link's generation (one more at each loss), and the one the publishes in flight were sent in */
  private gen = 0;
  private inFlightGen = 0;
  /** a publish of the window failed: send nothing new until the window has settled, then start again from head */
  private failed = false;
  private ensuring = false;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  /** events dropped since the last gateway.resync was queued */
  private gap = 0;
  connected = false;
  dropped = 0;
  published = 0;

  constructor(
    private readonly opts: LinkOptions,
    private readonly runId: string,
    private readonly currentSeq: () => number,
    private readonly log: Logger,
  ) {
    this.prefixes = new Set(opts.prefixes);
  }

  get buffered(): number {
    return this.queue.length - this.head;
  }

  /** The client connected (or reconnected): check the stream, then send what waits. */
  attach(nc: NatsConnection): void {
    this.nc = nc;
    this.js = jetstream(nc, { timeout: this.opts.publishTimeoutMs });
    this.connected = true;
    this.streamReady = false;
    this.pump();
  }

  linkUp(): void {
    this.connected = true;
    this.streamReady = false; // a new server may not have the stream
    this.pump();
  }

  linkDown(): void {
    this.connected = false;
    this.gen++;
  }

  /** A bus event. Members-only events (chat messages) are not carried: the broker has no per-user audience. */
  onBusMessage(m: BusMessage): void {
    if ('members' in m.access) return;
    // A full buffer drops the event before its frame is built: while the broker is away, every bus event comes
    // here (thousands a second in an AMI burst), and a frame that is dropped at once is garbage for nothing.
    if (this.buffered >= this.opts.bufferMax) {
      this.dropped++;
      this.gap++;
      return;
    }
    this.enqueue(m.type, `${this.runId}:${m.seq}`, {
      type: m.type,
      seq: m.seq,
      run: this.runId,
      data: m.data,
      timestamp: m.timestamp,
    });
  }

  /** Consumers should read the state again (events were dropped, or Asterisk reconnected). */
  resync(reason: string): void {
    this.pushResync(reason);
    this.pump();
  }

  private pushResync(reason: string): void {
    const seq = this.currentSeq();
    const frame = { type: 'gateway.resync', seq, run: this.runId, data: { reason }, timestamp: new Date().toISOString() };
    // a resync is always kept (one per gap): the queue may exceed its bound by it
    this.queue.push({
      subject: `asterisk.${this.opts.pbxId}.gateway.resync`,
      id: `${this.runId}:${seq}:resync:${Date.now()}:${this.queue.length}`,
      body: enc.encode(JSON.stringify(frame)),
    });
  }

  /** One event into the buffer; the caller checked that it has room. */
  private enqueue(type: string, id: string, frame: unknown): void {
    if (this.gap > 0) {
      this.pushResync(`${this.gap} event(s) did not fit in the gateway's buffer while the broker was unreachable`);
      this.gap = 0;
    }
    const prefix = type.slice(0, type.indexOf('.') >>> 0);
    if (!this.prefixes.has(prefix)) {
      this.prefixes.add(prefix);
      this.streamReady = false;
    }
    this.queue.push({ subject: `asterisk.${this.opts.pbxId}.${type}`, id, body: enc.encode(JSON.stringify(frame)) });
    this.pump();
  }

  private async ensureStream(nc: NatsConnection): Promise<void> {
    const jsm = await jetstreamManager(nc, { timeout: this.opts.publishTimeoutMs });
    const wanted = streamSubjects(this.prefixes);
    let info: Awaited<ReturnType<typeof jsm.streams.info>> | null = null;
    try {
      info = await jsm.streams.info(this.opts.stream);
    } catch (e) {
      if (!/not found/i.test((e as Error).message)) throw e;
    }
    const maxAge = this.opts.maxAgeS * 1_000_000_000;
    if (!info) {
      await jsm.streams.add({ name: this.opts.stream, subjects: wanted, max_age: maxAge, max_bytes: this.opts.maxBytes });
      this.log.info(`created JetStream stream ${this.opts.stream} (${wanted.join(' ')})`);
      return;
    }
    // several gateways share the stream: each adds the subjects it needs and keeps the others', except those that
    // would take in fleet requests (asterisk.>, asterisk.*.>, ...): those are replaced by the explicit ones
    const all = info.config.subjects ?? [];
    const capturing = all.filter(capturesApi);
    const have = all.filter((s) => !capturesApi(s));
    const missing = wanted.filter((s) => !have.includes(s));
    if (missing.length === 0 && capturing.length === 0 && info.config.max_age === maxAge && info.config.max_bytes === this.opts.maxBytes)
      return;
    if (capturing.length > 0) {
      this.log.warn(
        `JetStream stream ${this.opts.stream}: removed ${capturing.join(' ')}, which would store fleet requests (asterisk.*.api.>) and answer them with a PubAck`,
      );
    }
    await jsm.streams.update(this.opts.stream, {
      ...info.config,
      subjects: [...have, ...missing],
      max_age: maxAge,
      max_bytes: this.opts.maxBytes,
    });
    this.log.info(`updated JetStream stream ${this.opts.stream}${missing.length ? ` (added ${missing.join(' ')})` : ''}`);
  }

  private pump(): void {
    if (this.closed || !this.connected || this.ensuring || this.retryTimer) return;
    const nc = this.nc;
    const js = this.js;
    if (!nc || !js) return;
    if (this.inFlight > 0 && (this.failed || !this.streamReady || this.inFlightGen !== this.gen)) return; // let it settle
    if (this.failed) {
      // the window has settled after a failure: a short pause, then again from the oldest event not acknowledged
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined;
        this.failed = false;
        this.sent = this.head;
        this.pump();
      }, 250);
      this.retryTimer.unref?.();
      return;
    }
    if (this.buffered === 0) return;
    if (!this.streamReady) {
      this.ensuring = true;
      this.ensureStream(nc).then(
        () => {
          this.streamReady = true;
          this.ensuring = false;
          this.pump();
        },
        (e) => {
          this.ensuring = false;
          this.log.debug(`JetStream stream check failed, retrying: ${(e as Error).message}`);
          this.failed = true;
          this.pump();
        },
      );
      return;
    }
    while (this.sent < this.queue.length && this.sent - this.head < PUBLISH_WINDOW) {
      const p = this.queue[this.sent++]!;
      if (p.acked) continue; // acknowledged before an earlier one failed: stored already
      const h = natsHeaders();
      h.set('Pbx-Id', this.opts.pbxId);
      this.inFlight++;
      this.inFlightGen = this.gen;
      js.publish(p.subject, p.body, { msgID: p.id, headers: h, timeout: this.opts.publishTimeoutMs }).then(
        () => this.acked(p),
        (e) => {
          if (!this.failed) this.log.debug(`JetStream publish failed, retrying: ${(e as Error).message}`);
          this.failed = true;
          this.streamReady = false;
          this.settle();
        },
      );
    }
  }

  private acked(p: Pending): void {
    p.acked = true;
    this.published++;
    while (this.head < this.queue.length && this.queue[this.head]!.acked) {
      this.queue[this.head] = undefined as unknown as Pending;
      this.head++;
    }
    // room again after a gap: the resync goes right after the events that fitted, even if no event follows
    if (this.gap > 0 && this.buffered < this.opts.bufferMax) {
      this.pushResync(`${this.gap} event(s) did not fit in the gateway's buffer while the broker was unreachable`);
      this.gap = 0;
    }
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.sent -= this.head;
      this.head = 0;
    }
    this.settle();
  }

  private settle(): void {
    this.inFlight--;
    this.pump();
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.retryTimer);
  }
}
