// Rolling windows for supervisor figures (queue statistics, calls taken by members and agents): the last 15 and 60
// minutes, and the time since the daily reset (gateway.yaml queue_stats.reset_at, local time). Time comes from an
// injectable clock so unit tests can move it; records older than every window are pruned.
import { clockMs } from './clock.ts';
import type { Collection, Store, StoredRecord } from '../store/store.ts';

/** Where "now" comes from: clockMs (core/live/clock.ts) in the gateway, a hand-moved clock in tests. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: clockMs };

const MINUTE = 60_000;

/** The windows every figure is given for; `since_reset` starts at the last daily reset. */
export const WINDOW_NAMES = ['last_15m', 'last_60m', 'since_reset'] as const;
export type WindowName = (typeof WINDOW_NAMES)[number];

/** "HH:MM" (00:00 to 23:59). */
export const RESET_AT = /^([01]\d|2[0-3]):[0-5]\d$/;

/** The last moment at or before `nowMs` when the local clock read `at` ("HH:MM"). */
export function lastResetAt(nowMs: number, at: string): number {
  const [h, m] = at.split(':').map(Number) as [number, number];
  const d = new Date(nowMs);
  d.setHours(h, m, 0, 0);
  if (d.getTime() > nowMs) {
    d.setDate(d.getDate() - 1);
    d.setHours(h, m, 0, 0);
  }
  return d.getTime();
}

/** Start (ms since epoch, inclusive) of each window at `nowMs`. */
export function windowStarts(nowMs: number, resetAt: string): Record<WindowName, number> {
  return { last_15m: nowMs - 15 * MINUTE, last_60m: nowMs - 60 * MINUTE, since_reset: lastResetAt(nowMs, resetAt) };
}

/** Records that started before this are in no window any more. */
export function keepFrom(nowMs: number, resetAt: string): number {
  const s = windowStarts(nowMs, resetAt);
  return Math.min(s.last_60m, s.since_reset);
}

/**
 * Records ordered by `at` (ms), pruned to what some window still needs. Appends are in time order in practice
 * (events arrive in order); one out of order is inserted in place so the prune stays a prefix cut.
 */
export class TimedLog<R extends { at: number }> {
  private rows: R[] = [];
  /** Changed since the last save (SavedLog clears it). */
  dirty = false;

  constructor(
    private readonly clock: Clock,
    private readonly resetAt: () => string,
  ) {}

  get size(): number {
    return this.rows.length;
  }

  add(r: R): void {
    let i = this.rows.length;
    while (i > 0 && this.rows[i - 1]!.at > r.at) i--;
    this.rows.splice(i, 0, r);
    this.dirty = true;
    this.prune();
  }

  /** A record was changed in place. */
  touch(): void {
    this.dirty = true;
  }

  /** Drop what no window needs; returns how many went. */
  prune(): number {
    const from = keepFrom(this.clock.now(), this.resetAt());
    let n = 0;
    while (n < this.rows.length && this.rows[n]!.at < from) n++;
    if (n > 0) this.rows.splice(0, n);
    return n;
  }

  /** Every kept record, oldest first (after a prune). */
  all(): readonly R[] {
    this.prune();
    return this.rows;
  }

  /** Replace the content (loaded from the store), sorted and pruned. */
  load(rows: R[]): void {
    this.rows = [...rows].sort((a, b) => a.at - b.at);
    this.prune();
  }

  /** The newest record matching `pred`, searching from the end. */
  findLast(pred: (r: R) => boolean): R | undefined {
    for (let i = this.rows.length - 1; i >= 0; i--) if (pred(this.rows[i]!)) return this.rows[i];
    return undefined;
  }
}

/** How many of `rows` (with `at`) fall in each window at `nowMs`. */
export function countPerWindow(rows: Iterable<{ at: number }>, nowMs: number, resetAt: string): Record<WindowName, number> {
  const s = windowStarts(nowMs, resetAt);
  const out = { last_15m: 0, last_60m: 0, since_reset: 0 };
  for (const r of rows) {
    if (r.at > nowMs) continue;
    for (const w of WINDOW_NAMES) if (r.at >= s[w]) out[w]++;
  }
  return out;
}

/**
 * At most one call of `fire(key)` per `minMs` per key: the first change fires at once, later ones within the
 * interval fold into one call at its end (so the last state is always sent).
 */
export class Throttle {
  private readonly last = new Map<string, number>();
  private readonly pending = new Map<string, ReturnType<typeof setTimeout>>();

  constructor(
    private readonly minMs: number,
    private readonly clock: Clock,
    private readonly fire: (key: string) => void,
    private readonly timers: {
      set: (fn: () => void, ms: number) => ReturnType<typeof setTimeout>;
      clear: (t: ReturnType<typeof setTimeout>) => void;
    } = {
      set: (fn, ms) => {
        const t = setTimeout(fn, ms);
        t.unref?.();
        return t;
      },
      clear: (t) => clearTimeout(t),
    },
  ) {}

  notify(key: string): void {
    if (this.pending.has(key)) return;
    const now = this.clock.now();
    const since = now - (this.last.get(key) ?? Number.NEGATIVE_INFINITY);
    if (since >= this.minMs) {
      this.last.set(key, now);
      this.fire(key);
      return;
    }
    this.pending.set(
      key,
      this.timers.set(() => {
        this.pending.delete(key);
        this.last.set(key, this.clock.now());
        this.fire(key);
      }, this.minMs - since),
    );
  }

  cancel(): void {
    for (const t of this.pending.values()) this.timers.clear(t);
    this.pending.clear();
  }
}

/** One record in the store holding a whole log (a collection of one). */
interface SavedRow<R> extends StoredRecord {
  rows: R[];
}

/**
 * A TimedLog kept across restarts: loaded from the store at start, saved every `intervalMs` while it changed, and
 * on close. What happens while the gateway is down is not in it (the events are gone).
 */
export class SavedLog<R extends { at: number }> {
  private readonly coll: Collection<SavedRow<R>>;
  private timer: ReturnType<typeof setInterval> | undefined;
  private saving: Promise<void> = Promise.resolve();

  constructor(
    store: Store,
    collection: string,
    private readonly log: TimedLog<R>,
    private readonly intervalMs: number,
    private readonly onError: (e: Error) => void,
  ) {
    this.coll = store.collection<SavedRow<R>>(collection);
  }

  /** Load what was saved; returns how many records are still in some window. */
  load(): number {
    const row = this.coll.all()[0];
    this.log.load(Array.isArray(row?.rows) ? row.rows.filter((r) => typeof r?.at === 'number') : []);
    this.log.dirty = false;
    return this.log.size;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      if (this.log.dirty) this.save().catch(this.onError);
    }, this.intervalMs);
    this.timer.unref?.();
  }

  /** Write the kept records now (one write at a time). */
  save(): Promise<void> {
    this.saving = this.saving
      .catch(() => {})
      .then(async () => {
        this.log.dirty = false;
        const rows = [...this.log.all()];
        const row = this.coll.all()[0];
        try {
          if (row) await this.coll.update(row.uuid, { rows });
          else await this.coll.insert({ rows });
        } catch (e) {
          this.log.dirty = true;
          throw e;
        }
      });
    return this.saving;
  }

  /** Stop the timer and save once more. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.save();
  }
}
