// In-process event bus: plugins publish what changed ("channel.updated", "queue.entry.joined", ...) and the
// WebSocket endpoint forwards it to subscribed clients. Listeners never throw into a publisher.
export interface BusMessage {
  type: string;
  data: unknown;
  timestamp: string;
}
type Listener = (m: BusMessage) => void;

export class EventBus {
  private readonly listeners = new Set<Listener>();

  publish(type: string, data: unknown): void {
    if (this.listeners.size === 0) return;
    const m: BusMessage = { type, data, timestamp: new Date().toISOString() };
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
