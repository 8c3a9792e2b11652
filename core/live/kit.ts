// The skeleton every live plugin (agents, park, queue, pjsip) shares around its state: one StateReads
// (event appliers recorded for replay while a read is in flight), reads that run one at a time, debounced "re-read
// soon" timers that run only while AMI is up and are cancelled on reset and close, a Reload handler for the plugin's
// module, and bus publishing that skips replayed events (their change was published when they first arrived).
//
// The plugin builds one kit in setup() and hands it to its service:
//   const live = new LiveKit(ctx);                            // ctx: ami, bus, log
//   const service = new QueueService(ctx.ami, state, live);   // service.resync = () => live.serialRead(fetch, apply)
//   return { ...live.lifecycle({ resync: () => service.resync(), reset: () => state.reset() }), events: {
//     QueueMemberAdded: live.on((m) => live.publish(events.memberAdded, state.upsertMember(m).member)),
//     Reload: live.onReload('app_queue', () => service.resyncSoon()),
//   } };
import type { AmiMessage } from '../ami/message.ts';
import type { EventBus } from '../bus/bus.ts';
import type { EventSpec } from '../contract/events.ts';
import type { v } from '../contract/schema.ts';
import type { Logger } from '../log.ts';
import { type Applier, Debounced, StateReads } from './reads.ts';

export interface LiveKitContext {
  readonly ami: { readonly connected: boolean };
  readonly bus: EventBus;
  readonly log: Logger;
}

/** Something the kit cancels on reset and close. */
interface Cancellable {
  cancel(): void;
}

/** A debounced task per key (one queue's refresh): a burst for one key costs one run; keys run independently. */
export interface KeyedSoon {
  schedule(key: string): void;
}

export class LiveKit {
  /** Every read of Asterisk the plugin makes goes through here, so the events that overtake it are replayed. */
  readonly reads = new StateReads();
  private readonly pending: Cancellable[] = [];

  constructor(private readonly ctx: LiveKitContext) {}

  /** True while replaying events over a fresh answer: publish nothing and schedule no re-read for them. */
  get replaying(): boolean {
    return this.reads.replaying;
  }

  /** An AMI event applier, recorded for replay while a read is in flight (StateReads.live). */
  on(fn: Applier): Applier {
    return this.reads.live(fn);
  }

  /** Publish a change on the bus, unless there is none or it is a replay (published when the event first came). */
  publish<S extends v.GenericSchema>(spec: EventSpec<S>, data: v.InferOutput<S> | null | undefined): void {
    if (data != null && !this.reads.replaying) this.ctx.bus.publish(spec, data);
  }

  /** Read from Asterisk and apply the answer (with replay), one read at a time with the plugin's other serial reads. */
  serialRead<T>(fetch: () => Promise<T>, apply: (answer: T) => void): Promise<void> {
    return this.reads.serial(() => this.reads.read(fetch, apply));
  }

  /**
   * "Re-read soon": `task` runs `ms` after the first schedule() (later ones fold into it), only while AMI is
   * connected; a failure is logged as "<what> failed: <message>" at `level`. Cancelled by reset and close.
   */
  soon(ms: number, what: string, task: () => Promise<void>, level: 'warn' | 'debug' = 'warn'): Debounced {
    const d = new Debounced(ms, () => this.run(what, task, level));
    this.pending.push(d);
    return d;
  }

  /** soon() per key: `what(key)` names the failed run in the log. */
  soonPer(ms: number, what: (key: string) => string, task: (key: string) => Promise<void>, level: 'warn' | 'debug' = 'warn'): KeyedSoon {
    const timers = new Map<string, Debounced>();
    this.pending.push({
      cancel: () => {
        for (const d of timers.values()) d.cancel();
        timers.clear();
      },
    });
    return {
      schedule: (key) => {
        if (timers.has(key)) return;
        const d = new Debounced(ms, () => {
          timers.delete(key);
          this.run(what(key), () => task(key), level);
        });
        timers.set(key, d);
        d.schedule();
      },
    };
  }

  /**
   * The Reload event handler: `then` runs when Asterisk reloads `module` (its name without .so, as a regular
   * expression source such as 'app_queue' or 'res_pjsip\\w*') or everything (Module: All).
   */
  onReload(module: string, then: () => void): (m: AmiMessage) => void {
    const re = new RegExp(`^(${module}(\\.so)?|All)$`, 'i');
    return (m) => {
      if (re.test(m.fields.Module ?? '')) then();
    };
  }

  /** Cancel every pending re-read (AMI went away, or the gateway stops). */
  cancel(): void {
    for (const p of this.pending) p.cancel();
  }

  /**
   * The plugin instance's lifecycle: resync as given; reset cancels the pending re-reads and forgets the state;
   * close cancels them (and runs the plugin's own close, e.g. a timer of its own).
   */
  lifecycle(opts: { resync: () => Promise<void>; reset: () => void; close?: () => void }) {
    return {
      resync: opts.resync,
      reset: () => {
        this.cancel();
        opts.close?.();
        opts.reset();
      },
      close: () => {
        this.cancel();
        opts.close?.();
      },
    };
  }

  private run(what: string, task: () => Promise<void>, level: 'warn' | 'debug'): void {
    if (!this.ctx.ami.connected) return;
    task().catch((e) => this.ctx.log[level](`${what} failed: ${(e as Error).message}`));
  }
}
