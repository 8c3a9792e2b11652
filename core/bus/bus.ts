// In-process event bus: plugins publish what changed ("channel.updated", "queue.entry.joined", ...) and the
// WebSocket endpoint forwards it to subscribed clients. Listeners never throw into a publisher.
export interface BusMessage {
  type: string;
  data: unknown;
  timestamp: string;
  /** When set, only these users (uuids) may receive it over the WebSocket, e.g. the members of a chat room. */
  audience?: readonly string[];
}
type Listener = (m: BusMessage) => void;

export class EventBus {
  private readonly listeners = new Set<Listener>();

  publish(type: string, data: unknown, audience?: readonly string[]): void {
    if (this.listeners.size === 0) return;
    const m: BusMessage = { type, data, timestamp: new Date().toISOString(), ...(audience ? { audience } : {}) };
    for (const l of this.listeners) {
      try {
        l(m);
      } catch {
        /* a faulty subscriber must not break AMI event handling */
      }
    }
  }

  subscribe(l: Listener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
}
