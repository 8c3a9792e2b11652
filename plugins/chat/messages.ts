// Chat messages, kept out of gateway.json: lowdb re-serialises a whole file on every write, so a growing message
// history there would slow every write of users and permissions too. Each room gets its own folder under
// <data_dir>/chat/<room uuid>/ with one lowdb file per UTC month (2026-05.json), so a post rewrites only that room's
// current month, and reading the newest page opens only the newest file(s).
//
// Within a room every message's tm_create is strictly later than the one before (a message in the same millisecond
// is moved 1 ms on), so paging by "older than this timestamp" neither repeats nor skips a message.
import { existsSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { Store } from '../../core/store/store.ts';
import type { Message } from './schemas.ts';

/** A message as stored: the answered fields plus tm_update (every store record has one). */
export type MessageRecord = Message & { tm_update: string };

const MESSAGES = 'messages';
const SEGMENT = /^(\d{4}-\d{2})\.json$/;
const ROOM = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** Open segment files kept in memory; an idle one beyond this is dropped (it is on disk). */
const OPEN_SEGMENTS = 64;

interface Segment {
  store: Store;
  /** The last write to this file; a segment is only dropped, or its room deleted, once it has landed. */
  writing: Promise<void>;
}

export function messageView(m: MessageRecord): Message {
  return { uuid: m.uuid, uuid_owner: m.uuid_owner, message: { message: m.message.message }, tm_create: m.tm_create };
}

export class MessageLog {
  private readonly segments = new Map<string, Promise<Segment>>();
  /** Appends in flight per segment key; such a segment is never dropped from memory. */
  private readonly pending = new Map<string, number>();
  private readonly lastMs = new Map<string, number>();

  /** `dir` is <data_dir>/chat. */
  constructor(private readonly dir: string) {}

  private roomDir(room: string): string {
    // Room uuids are made by the gateway; the check keeps any other value from becoming a path.
    if (!ROOM.test(room)) throw new Error(`not a room uuid: ${room}`);
    return path.join(this.dir, room);
  }

  private segment(room: string, month: string): Promise<Segment> {
    const key = `${room}/${month}`;
    let s = this.segments.get(key);
    if (s) {
      this.segments.delete(key); // most recently used goes last
    } else {
      s = Store.open(this.roomDir(room), `${month}.json`).then((store) => ({ store, writing: Promise.resolve() }));
      s.catch(() => this.segments.delete(key)); // a failed open is retried next time
    }
    this.segments.set(key, s);
    this.evict();
    return s;
  }

  private evict(): void {
    for (const key of this.segments.keys()) {
      if (this.segments.size <= OPEN_SEGMENTS) return;
      if (!this.pending.has(key)) this.segments.delete(key);
    }
  }

  /** The room's segment months on disk, newest first. */
  private months(room: string): string[] {
    const d = this.roomDir(room);
    if (!existsSync(d)) return [];
    return readdirSync(d)
      .map((f) => SEGMENT.exec(f)?.[1])
      .filter((m): m is string => m !== undefined)
      .sort()
      .reverse();
  }

  /** Learn the room's newest message time from disk, once per process. */
  private async loadNewest(room: string): Promise<void> {
    if (this.lastMs.has(room)) return;
    let last = 0;
    for (const month of this.months(room)) {
      const rows = (await this.segment(room, month)).store.rows(MESSAGES);
      for (const r of rows) last = Math.max(last, Date.parse(r.tm_create));
      if (rows.length) break;
    }
    if (!this.lastMs.has(room)) this.lastMs.set(room, last); // a concurrent append may have set a later one
  }

  async append(room: string, owner: string, text: string): Promise<MessageRecord> {
    await this.loadNewest(room);
    // No await between reading and setting lastMs, so concurrent posts get distinct, increasing times.
    const ms = Math.max(Date.now(), this.lastMs.get(room)! + 1);
    this.lastMs.set(room, ms);
    const at = new Date(ms).toISOString();
    const month = at.slice(0, 7);
    const key = `${room}/${month}`;
    this.pending.set(key, (this.pending.get(key) ?? 0) + 1);
    try {
      const seg = await this.segment(room, month);
      const rec: MessageRecord = { uuid: randomUUID(), uuid_owner: owner, message: { message: text }, tm_create: at, tm_update: at };
      seg.store.rows(MESSAGES).push(rec);
      seg.writing = seg.store.flush();
      await seg.writing;
      return rec;
    } finally {
      const n = this.pending.get(key)! - 1;
      if (n > 0) this.pending.set(key, n);
      else this.pending.delete(key);
    }
  }

  /** Up to `count` messages older than `beforeMs` (exclusive; Infinity for the newest), newest first. */
  async page(room: string, beforeMs: number, count: number): Promise<MessageRecord[]> {
    const out: MessageRecord[] = [];
    const beforeMonth = Number.isFinite(beforeMs) ? new Date(beforeMs - 1).toISOString().slice(0, 7) : '9999-12';
    for (const month of this.months(room)) {
      if (month > beforeMonth) continue;
      const rows = (await this.segment(room, month)).store.rows(MESSAGES) as MessageRecord[];
      // Rows are appended in time order; walk back from the newest.
      for (let i = rows.length - 1; i >= 0 && out.length < count; i--) {
        if (Date.parse(rows[i]!.tm_create) < beforeMs) out.push(rows[i]!);
      }
      if (out.length >= count) break;
    }
    return out;
  }

  /** The room is gone: wait for its writes to land, then delete its folder. */
  async drop(room: string): Promise<void> {
    const d = this.roomDir(room);
    const prefix = `${room}/`;
    const open = [...this.segments.entries()].filter(([k]) => k.startsWith(prefix));
    for (const [k] of open) this.segments.delete(k);
    await Promise.allSettled(open.map(async ([, s]) => (await s).writing));
    this.lastMs.delete(room);
    rmSync(d, { recursive: true, force: true });
  }
}
