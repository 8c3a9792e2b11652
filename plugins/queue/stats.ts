// Queue statistics kept by the gateway from queue events (not from Asterisk's cumulative counters): callers waiting
// now and the longest current wait, and per window (last 15 min, last 60 min, since the daily reset) the calls
// answered and abandoned, the service level, average wait and talk time; per member the calls taken per window.
//
// What each event adds:
//   QueueCallerJoin     a waiting caller (Uniqueid, Queue), waiting since the clock's now
//   AgentConnect        an answered call: Queue, Uniqueid (the caller), Interface (the member), HoldTime (s waited)
//   AgentComplete       its talk time (TalkTime, s): the call is complete (what Asterisk's Completed counts)
//   QueueCallerAbandon  an abandoned call: HoldTime (s waited)
//   QueueCallerLeave    the caller no longer waits (answered, abandoned, or left by a timeout)
// A call is counted in a window by the moment it was answered or abandoned.
import type { AmiMessage } from '../../core/ami/message.ts';
import { num } from '../../core/ami/channel-block.ts';
import { type Clock, TimedLog, WINDOW_NAMES, type WindowName, windowStarts } from '../../core/live/windows.ts';
import type { QueueStats, QueueWindowStats } from './schemas.ts';

/** One answered or abandoned call, as kept (and saved to the store). Short keys: there may be many thousands. */
export interface CallRecord {
  /** ms since epoch when it was answered or abandoned */
  at: number;
  /** queue name */
  q: string;
  /** the caller's unique id */
  id: string;
  /** 'a' answered, 'x' abandoned */
  k: 'a' | 'x';
  /** seconds waited (HoldTime) */
  w: number;
  /** 1 when waited no longer than the queue's service level threshold at that moment */
  sl: 0 | 1;
  /** answered: the member's interface */
  m?: string;
  /** answered and complete: talk seconds (TalkTime) */
  t?: number;
}

interface Waiting {
  queue: string;
  joined: number;
}

const round1 = (x: number) => Math.round(x * 10) / 10;
const avg = (sum: number, n: number) => (n > 0 ? round1(sum / n) : null);

export class QueueStatsBook {
  readonly calls: TimedLog<CallRecord>;
  /** caller unique id -> where and since when it waits */
  private readonly waiting = new Map<string, Waiting>();
  /** Bumped on every change: part of the cache key of rendered members. */
  version = 0;

  constructor(
    private readonly clock: Clock,
    private readonly resetAt: () => string,
    /** The queue's service level threshold in seconds (QueueParams ServiceLevel). */
    private readonly threshold: (queue: string) => number,
  ) {
    this.calls = new TimedLog<CallRecord>(clock, resetAt);
  }

  private changed(): void {
    this.version++;
  }

  /** The waiting callers from a QueueStatus (its QueueEntry items, Wait in seconds): replaces what was known. */
  loadWaiting(entries: AmiMessage[]): void {
    const now = this.clock.now();
    this.waiting.clear();
    for (const m of entries) {
      const f = m.fields;
      if (f.Event !== 'QueueEntry' || !f.Uniqueid || !f.Queue) continue;
      this.waiting.set(f.Uniqueid, { queue: f.Queue, joined: now - num(f.Wait) * 1000 });
    }
    this.changed();
  }

  /** AMI went away: nobody is known to wait any more (the resync brings them back). Records stay. */
  forgetWaiting(): void {
    this.waiting.clear();
    this.changed();
  }

  /** QueueCallerJoin; returns the queue when something changed. */
  join(m: AmiMessage): string | undefined {
    const { Uniqueid: id, Queue: queue } = m.fields;
    if (!id || !queue) return undefined;
    const prev = this.waiting.get(id);
    if (prev && prev.queue === queue) return undefined; // a replay
    this.waiting.set(id, { queue, joined: this.clock.now() });
    this.changed();
    return queue;
  }

  /** QueueCallerLeave. */
  leave(m: AmiMessage): string | undefined {
    const id = m.fields.Uniqueid;
    if (!id || !this.waiting.delete(id)) return undefined;
    this.changed();
    return m.fields.Queue;
  }

  private record(r: CallRecord): void {
    this.calls.add(r);
    this.changed();
  }

  /** A record of this caller in this queue already (an event replayed after a resync): not counted twice. */
  private seen(queue: string, id: string, kind: 'a' | 'x'): CallRecord | undefined {
    return this.calls.findLast((r) => r.id === id && r.q === queue && r.k === kind);
  }

  /** QueueCallerAbandon: HoldTime is the wait. */
  abandon(m: AmiMessage): string | undefined {
    const { Uniqueid: id, Queue: queue } = m.fields;
    if (!id || !queue) return undefined;
    if (this.waiting.get(id)?.queue === queue) this.waiting.delete(id);
    if (this.seen(queue, id, 'x')) return undefined;
    const w = num(m.fields.HoldTime);
    this.record({ at: this.clock.now(), q: queue, id, k: 'x', w, sl: w <= this.threshold(queue) ? 1 : 0 });
    return queue;
  }

  /** AgentConnect: answered after HoldTime seconds by the member at Interface. */
  connect(m: AmiMessage): string | undefined {
    const { Uniqueid: id, Queue: queue } = m.fields;
    if (!id || !queue) return undefined;
    if (this.waiting.get(id)?.queue === queue) this.waiting.delete(id);
    if (this.seen(queue, id, 'a')) return undefined;
    const w = num(m.fields.HoldTime);
    this.record({
      at: this.clock.now(),
      q: queue,
      id,
      k: 'a',
      w,
      sl: w <= this.threshold(queue) ? 1 : 0,
      m: m.fields.Interface ?? '',
    });
    return queue;
  }

  /**
   * AgentComplete: the talk time of the answered call. When the caller's channel is gone by the time app_queue
   * publishes it (the caller hung up first: seen on Asterisk 22), the event has no channel fields at all, only Queue,
   * Interface, MemberName, HoldTime, TalkTime and Reason: the call is then the member's latest open one in that queue.
   */
  complete(m: AmiMessage): string | undefined {
    const { Uniqueid: id, Queue: queue, Interface: member } = m.fields;
    if (!queue) return undefined;
    let r: CallRecord | undefined;
    if (id) r = this.seen(queue, id, 'a');
    else if (member) r = this.calls.findLast((x) => x.q === queue && x.k === 'a' && x.m === member && x.t === undefined);
    if (!r || r.t !== undefined) return undefined;
    r.t = num(m.fields.TalkTime);
    this.calls.touch();
    this.changed();
    return queue;
  }

  /** The figures of one queue at the clock's now. */
  stats(queue: string, resetAtText = this.resetAt()): QueueStats {
    const now = this.clock.now();
    let waiting = 0;
    let oldest = now;
    for (const w of this.waiting.values()) {
      if (w.queue !== queue) continue;
      waiting++;
      if (w.joined < oldest) oldest = w.joined;
    }
    const starts = windowStarts(now, resetAtText);
    const acc = Object.fromEntries(
      WINDOW_NAMES.map((n) => [n, { answered: 0, abandoned: 0, inSl: 0, completed: 0, wait: 0, abandonWait: 0, talk: 0, maxWait: 0 }]),
    ) as Record<
      WindowName,
      {
        answered: number;
        abandoned: number;
        inSl: number;
        completed: number;
        wait: number;
        abandonWait: number;
        talk: number;
        maxWait: number;
      }
    >;
    for (const r of this.calls.all()) {
      if (r.q !== queue || r.at > now) continue;
      for (const n of WINDOW_NAMES) {
        if (r.at < starts[n]) continue;
        const a = acc[n];
        if (r.w > a.maxWait) a.maxWait = r.w;
        if (r.k === 'x') {
          a.abandoned++;
          a.abandonWait += r.w;
          continue;
        }
        a.answered++;
        a.wait += r.w;
        a.inSl += r.sl;
        if (r.t !== undefined) {
          a.completed++;
          a.talk += r.t;
        }
      }
    }
    const win = (n: WindowName): QueueWindowStats => {
      const a = acc[n];
      return {
        from: new Date(starts[n]).toISOString(),
        offered: a.answered + a.abandoned,
        answered: a.answered,
        abandoned: a.abandoned,
        completed: a.completed,
        answered_in_sl: a.inSl,
        service_level_pct: a.answered > 0 ? round1((100 * a.inSl) / a.answered) : null,
        abandoned_pct: a.answered + a.abandoned > 0 ? round1((100 * a.abandoned) / (a.answered + a.abandoned)) : null,
        avg_wait_s: avg(a.wait, a.answered),
        avg_abandon_wait_s: avg(a.abandonWait, a.abandoned),
        max_wait_s: a.maxWait,
        avg_talk_s: avg(a.talk, a.completed),
      };
    };
    return {
      queue_name: queue,
      waiting,
      longest_wait_s: waiting > 0 ? Math.max(0, Math.floor((now - oldest) / 1000)) : 0,
      service_level_s: this.threshold(queue),
      reset_at: resetAtText,
      last_15m: win('last_15m'),
      last_60m: win('last_60m'),
      since_reset: win('since_reset'),
      tm_update: new Date(now).toISOString(),
    };
  }

  /**
   * Calls each member (key: memberKey(queue, interface)) answered per window, and when it last answered one (epoch
   * s), in one pass over the records.
   */
  memberCalls(key: (queue: string, iface: string) => string): Map<string, MemberCalls> {
    const now = this.clock.now();
    const starts = windowStarts(now, this.resetAt());
    const out = new Map<string, MemberCalls>();
    for (const r of this.calls.all()) {
      if (r.k !== 'a' || r.m === undefined || r.at > now) continue;
      const k = key(r.q, r.m);
      let c = out.get(k);
      if (!c) out.set(k, (c = { last_15m: 0, last_60m: 0, since_reset: 0, last: 0 }));
      for (const n of WINDOW_NAMES) if (r.at >= starts[n]) c[n]++;
      c.last = Math.floor(r.at / 1000);
    }
    return out;
  }
}

/** A member's answered calls per window and the last one's time (epoch s, 0: none in the kept records). */
export type MemberCalls = Record<WindowName, number> & { last: number };
