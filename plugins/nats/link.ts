// The bus -> JetStream publisher. Every bus event becomes one JetStream message on asterisk.<pbx_id>.<event type>
// with the WebSocket's frame as its JSON payload ({type, seq, run, timestamp, data}) and the header Pbx-Id.
//
// Order: one publish is in flight at a time. A pipelined window would be faster, but when the link breaks, a publish
// written to the dead socket is lost while the ones still in the client's outbound buffer go out after the reconnect,
// and the retry of the lost one would land after them. Each message carries Nats-Msg-Id <run>:<seq>, so a publish
// retried after a lost acknowledgement is stored once (JetStream's duplicate window).
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
}

const enc = new TextEncoder();

/** The stream's subjects for these event prefixes: asterisk.*.<prefix>.> (never asterisk.*.api: fleet queries). */
export function streamSubjects(prefixes: Iterable<string>): string[] {
  return [...new Set(prefixes)].filter((p) => p !== 'api').map((p) => `asterisk.*.${p}.>`);
}

export class JetStreamLink {
  private readonly queue: Pending[] = [];
  private head = 0;
  private nc: NatsConnection | null = null;
  private js: JetStreamClient | null = null;
  private streamReady = false;
  private readonly prefixes: Set<string>;
  private pumping = false;
  private closed = false;
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
    // several gateways share the stream: each adds the subjects it needs and keeps the others'
    const have = info.config.subjects ?? [];
    const missing = wanted.filter((s) => !have.includes(s) && !have.includes('asterisk.>'));
    if (missing.length === 0 && info.config.max_age === maxAge && info.config.max_bytes === this.opts.maxBytes) return;
    await jsm.streams.update(this.opts.stream, {
      ...info.config,
      subjects: [...have, ...missing],
      max_age: maxAge,
      max_bytes: this.opts.maxBytes,
    });
    this.log.info(`updated JetStream stream ${this.opts.stream}${missing.length ? ` (added ${missing.join(' ')})` : ''}`);
  }

  private pump(): void {
    if (this.pumping || this.closed || !this.connected) return;
    this.pumping = true;
    void this.run().finally(() => {
      this.pumping = false;
      if (!this.closed && this.connected && this.buffered > 0) setTimeout(() => this.pump(), 250).unref?.();
    });
  }

  private async run(): Promise<void> {
    const h = natsHeaders();
    h.set('Pbx-Id', this.opts.pbxId);
    while (!this.closed && this.connected && this.buffered > 0) {
      const nc = this.nc;
      const js = this.js;
      if (!nc || !js) return;
      try {
        if (!this.streamReady) {
          await this.ensureStream(nc);
          this.streamReady = true;
        }
        const p = this.queue[this.head]!;
        await js.publish(p.subject, p.body, { msgID: p.id, headers: h, timeout: this.opts.publishTimeoutMs });
        this.published++;
        this.queue[this.head] = undefined as unknown as Pending;
        this.head++;
        // room again after a gap: the resync goes right after the events that fitted, even if no event follows
        if (this.gap > 0 && this.buffered < this.opts.bufferMax) {
          this.pushResync(`${this.gap} event(s) did not fit in the gateway's buffer while the broker was unreachable`);
          this.gap = 0;
        }
        if (this.head > 1024 && this.head * 2 > this.queue.length) {
          this.queue.splice(0, this.head);
          this.head = 0;
        }
      } catch (e) {
        this.streamReady = false;
        this.log.debug(`JetStream publish failed, retrying: ${(e as Error).message}`);
        return; // pump() schedules the retry
      }
    }
  }

  close(): void {
    this.closed = true;
  }
}
