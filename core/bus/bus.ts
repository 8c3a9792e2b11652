// In-process event bus: plugins publish what changed (declared events: core/contract/events.ts) and the WebSocket
// endpoint forwards it to subscribed clients. Listeners never throw into a publisher.
import type { EventAccess, EventSpec } from '../contract/events.ts';
import { v } from '../contract/schema.ts';

export interface BusMessage {
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
  /**
   * Tests set this: every published payload is then checked against its declared schema, and a mismatch is
   * reported here (production does not pay for the check).
   */
  onInvalid: ((type: string, problem: string) => void) | null = null;

  publish<S extends v.GenericSchema>(spec: EventSpec<S>, data: v.InferOutput<S>, audience?: readonly string[]): void {
    if (this.onInvalid) {
      const r = v.safeParse(spec.payload, data);
      if (!r.success) {
        const i = r.issues[0];
        this.onInvalid(spec.type, `${i.path?.map((p) => String((p as { key?: unknown }).key)).join('.') ?? '(payload)'}: ${i.message}`);
      }
    }
    if (this.listeners.size === 0) return;
    const m: BusMessage = {
      type: spec.type,
      data,
      access: spec.access,
      timestamp: new Date().toISOString(),
      ...(audience ? { audience } : {}),
    };
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
    return this.listeners.size > 0 || this.onInvalid !== null;
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
