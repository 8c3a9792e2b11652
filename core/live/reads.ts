// Reads of Asterisk that a plugin's live state must survive. A read (a resync, or a partial refresh such as one
// queue's QueueStatus) answers with a snapshot, but the events that arrive while it is in flight may be newer than
// that snapshot: events that follow the list in the same packet are dispatched before the read's continuation runs.
// So every event applier is wrapped with `live()`; while a read is in flight its events are recorded (and applied
// as usual), and once the answer is applied they are replayed on top of it, in order, with `replaying` set.
//
// Relation to core/plugins/host.ts: the host also holds a plugin's events while that plugin's `resync()` runs and
// applies only those after the list answers' seq (`held`, `noteSnapshot`). That covers resyncs the host starts;
// this recorder covers every read the plugin makes itself (queue's debounced per-queue refresh and member re-reads,
// park's and agents' re-reads after a Reload event), and also the resync the host runs. Both stay.
import type { AmiMessage } from '../ami/message.ts';

export type Applier = (m: AmiMessage) => void;

export class StateReads {
  /** One log per read in flight: reads may overlap (a refresh during a resync), and each replays what it missed. */
  private readonly recorders = new Set<[Applier, AmiMessage][]>();
  private chain: Promise<void> = Promise.resolve();
  /** True while replaying: handlers then skip publishing on the bus (the change was published already). */
  replaying = false;

  /** Wrap an event applier so it is also recorded for replay while a read runs. */
  live(fn: Applier): Applier {
    return (m) => {
      // nearly always no read is in flight: skip making a Set iterator for every event then
      if (this.recorders.size !== 0) for (const log of this.recorders) log.push([fn, m]);
      fn(m);
    };
  }

  /**
   * Read from Asterisk, apply the answer, then replay the events that arrived meanwhile. When the fetch or the
   * apply throws, nothing is replayed: the events were applied already, and there is no answer to put them on.
   */
  async read<T>(fetch: () => Promise<T>, apply: (answer: T) => void): Promise<void> {
    const log: [Applier, AmiMessage][] = [];
    this.recorders.add(log);
    try {
      apply(await fetch());
      // the answer is in: what arrives from now on is newer than it and needs no replay
      this.recorders.delete(log);
      this.replaying = true;
      try {
        for (const [fn, m] of log) fn(m);
      } finally {
        this.replaying = false;
      }
    } finally {
      this.recorders.delete(log);
    }
  }

  /**
   * Run tasks one at a time, each after the previous one settled (a failure does not stop the next). Resyncs go
   * through here: the host's and one after a reload may meet, and two full loads must not interleave.
   */
  serial(task: () => Promise<void>): Promise<void> {
    const run = this.chain.catch(() => undefined).then(() => task());
    this.chain = run;
    return run;
  }
}

/**
 * "Re-read soon": the first schedule() starts a timer, later calls before it fires fold into the same run, so a
 * burst of events costs one read of Asterisk. The timer never keeps the process alive.
 */
export class Debounced {
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly ms: number,
    private readonly task: () => void,
  ) {}

  schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.task();
    }, this.ms);
    this.timer.unref?.();
  }

  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
