// In-process event bus: plugins publish what changed (declared events: core/contract/events.ts) and the WebSocket
// endpoint forwards it to subscribed clients. Listeners never throw into a publisher.
// Every message gets a `seq`, monotonic within one gateway run (`runId`), and the last `replayCapacity` messages are
// kept so that a client that reconnects can be sent exactly what it missed (core/ws/ws.ts, ?resume=<run>:<seq>).
import { randomUUID } from 'node:crypto';
import type { EventAccess, EventSpec } from '../contract/events.ts';
import { v } from '../contract/schema.ts';
import { isoNow } from '../live/clock.ts';

export interface BusMessage {
  seq: number;
  type: string;
  data: unknown;
  timestamp: string;
  /** Who may receive it over the WebSocket (the event's declaration). */
  access: EventAccess;
  /** When set, only these users (uuids) may receive it over the WebSocket, e.g. the members of a chat room. */
  audience?: readonly string[];
}
type Listener = (m: BusMessage) => void;

export class EventBus {
  private readonly listeners = new Set<Listener>();
  /** This run's id: a client's resume point from another run is no use. */
  readonly runId = randomUUID();
  private lastSeq = 0;
  private readonly ring: BusMessage[] = [];
  private ringStart = 0;

  /** @param replayCapacity messages kept for resume (gateway.yaml websocket.replay_buffer_events). */
  constructor(readonly replayCapacity = 0) {}

  /** The seq of the last message published (0 before the first). */
  get seq(): number {
    return this.lastSeq;
  }

  /** Messages kept for resume. */
  get replayDepth(): number {
    return this.ring.length;
  }

  /**
   * Every message after `seq`, in order; undefined when some of them are no longer kept (or `seq` is in the future),
   * so the caller must start over from a snapshot.
   */
  since(seq: number): BusMessage[] | undefined {
    if (seq > this.lastSeq || seq < 0) return undefined;
    if (seq === this.lastSeq) return [];
    const oldest = this.ring.length ? this.ring[this.ringStart]!.seq : this.lastSeq + 1;
    if (seq + 1 < oldest) return undefined;
    const out: BusMessage[] = [];
    for (let i = 0; i < this.ring.length; i++) {
      const m = this.ring[(this.ringStart + i) % this.ring.length]!;
      if (m.seq > seq) out.push(m);
    }
    return out;
  }

  private keep(m: BusMessage): void {
    if (this.replayCapacity === 0) return;
    if (this.ring.length < this.replayCapacity) this.ring.push(m);
    else {
      this.ring[this.ringStart] = m;
      this.ringStart = (this.ringStart + 1) % this.replayCapacity;
    }
  }
  /**
   * Tests set this: every published payload is then checked against its declared schema, and a mismatch is
   * reported here (production does not pay for the check). checkUnchanged() reports here too.
   */
  onInvalid: ((type: string, problem: string) => void) | null = null;

  /** While onInvalid is set: the last payloads published, each with its JSON text at the time (see checkUnchanged). */
  private readonly sent: { type: string; data: unknown; json: string }[] = [];
  /** Where the next payload goes once SENT_KEPT are kept (the oldest is overwritten, not shifted out). */
  private sentNext = 0;
  private static readonly SENT_KEPT = 20_000;

  /**
   * Tests call this: a payload changed after it was published is reported to onInvalid. The resume ring keeps the
   * payload objects, so a publisher that goes on changing one (a live state object handed out as is) would make a
   * resumed socket replay the object as it is now, not the event the other sockets got.
   */
  checkUnchanged(): void {
    for (const s of this.sent) {
      if (JSON.stringify(s.data) !== s.json) {
        this.onInvalid?.(s.type, `the payload changed after it was published (was ${s.json.slice(0, 300)})`);
      }
    }
  }

  publish<S extends v.GenericSchema>(spec: EventSpec<S>, data: v.InferOutput<S>, audience?: readonly string[]): void {
    if (this.onInvalid) {
      const r = v.safeParse(spec.payload, data);
      if (!r.success) {
        const i = r.issues[0];
        this.onInvalid(spec.type, `${i.path?.map((p) => String((p as { key?: unknown }).key)).join('.') ?? '(payload)'}: ${i.message}`);
      }
      const entry = { type: spec.type, data, json: JSON.stringify(data) };
      if (this.sent.length < EventBus.SENT_KEPT) this.sent.push(entry);
      else {
        this.sent[this.sentNext] = entry;
        this.sentNext = (this.sentNext + 1) % EventBus.SENT_KEPT;
      }
    }
    if (this.listeners.size === 0 && this.replayCapacity === 0) return;
    // isoNow: the same text as new Date().toISOString(), formatted once per millisecond (AMI bursts publish
    // thousands of events a second); audience is added only when given, without a spread.
    const m: BusMessage = { seq: ++this.lastSeq, type: spec.type, data, access: spec.access, timestamp: isoNow() };
    if (audience) m.audience = audience;
    this.keep(m);
    for (const l of this.listeners) {
      try {
        l(m);
      } catch {
        /* a faulty subscriber must not break AMI event handling */
      }
    }
  }

  /** Whether anyone listens: a publisher may skip building a costly payload when not. */
  get active(): boolean {
    return this.listeners.size > 0 || this.onInvalid !== null || this.replayCapacity > 0;
  }

  subscribe(l: Listener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  /** Listen to one declared event, its data typed by the event's schema (the publisher was held to it). */
  on<S extends v.GenericSchema>(spec: EventSpec<S>, fn: (data: v.InferOutput<S>) => void): () => void {
    return this.subscribe((m) => {
      if (m.type === spec.type) fn(m.data as v.InferOutput<S>);
    });
  }
}
