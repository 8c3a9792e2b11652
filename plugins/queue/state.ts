// Live state of the queue plugin: queues (QueueParams), members (QueueMember) and waiting callers (QueueEntry),
// rebuilt by a QueueStatus resync and kept current from QueueCaller* / QueueMember* events.
//
// Every applier is set-style, so it can be applied to a fresh snapshot, or replayed over one that already holds it,
// without drifting: a member event carries the member's whole record; a caller is inserted into its queue's line at
// the event's Position (once: a second Join of the same caller changes nothing) and a Leave takes it out, so the
// callers behind move up; `calls` is the length of that line, which is the Count Asterisk sends.
import { type AmiMessage, own } from '../../core/ami/message.ts';
import { num, yesNo } from '../../core/ami/channel-block.ts';
import { LiveTable } from '../../core/live/table.ts';
import { clockMs, isoNow } from '../../core/live/clock.ts';
import type { Queue, QueueEntry, QueueMember, StoredMember } from './schemas.ts';
import type { MemberCalls } from './stats.ts';

/** A waiting caller as kept: the answer's fields but `wait`, which is derived from `joined` when rendering. */
export type Entry = Omit<QueueEntry, 'wait'> & {
  /** ms since epoch when the caller joined */
  joined: number;
};

const now = isoNow;

/** The gateway's member key: a member is identified by its interface within a queue (as QueueRemove/QueuePause do). */
export const memberKey = (queue: string, iface: string) => `${queue}\u0000${iface}`;

/** QueueStatus prints an unknown caller id as `unknown`; events print `<unknown>`. Show one spelling. */
const cid = (v: string | undefined) => (v === undefined || v === '' || v === 'unknown' ? '<unknown>' : own(v));

export function renderEntry(e: Entry, nowMs = clockMs()): QueueEntry {
  return {
    unique_id: e.unique_id,
    queue_name: e.queue_name,
    channel: e.channel,
    caller_id_name: e.caller_id_name,
    caller_id_num: e.caller_id_num,
    connected_line_name: e.connected_line_name,
    connected_line_num: e.connected_line_num,
    position: e.position,
    wait: Math.max(0, Math.floor((nowMs - e.joined) / 1000)),
    tm_update: e.tm_update,
  };
}

function emptyQueue(name: string): Queue {
  return {
    name: own(name),
    strategy: '',
    max: 0,
    weight: 0,
    calls: 0,
    completed: 0,
    abandoned: 0,
    hold_time: 0,
    talk_time: 0,
    service_level: 0,
    service_level_perf: 0,
    tm_update: now(),
  };
}

export function queueFromParams(m: AmiMessage, t = now()): Queue {
  const f = m.fields;
  return {
    name: own(f.Queue ?? ''),
    strategy: own(f.Strategy ?? ''),
    max: num(f.Max),
    weight: num(f.Weight),
    calls: num(f.Calls),
    completed: num(f.Completed),
    abandoned: num(f.Abandoned),
    hold_time: num(f.Holdtime),
    talk_time: num(f.TalkTime),
    service_level: num(f.ServiceLevel),
    service_level_perf: num(f.ServicelevelPerf),
    tm_update: t,
  };
}

/** A member from a QueueStatus `QueueMember` item (Name/Location) or a QueueMember* event (MemberName/Interface). */
export function memberFrom(m: AmiMessage, prev: StoredMember | undefined, t = now()): StoredMember {
  const f = m.fields;
  const queue = own(f.Queue ?? '');
  const location = own(f.Interface ?? f.Location ?? '');
  const name = f.MemberName ?? f.Name;
  const stateInterface = f.StateInterface;
  const membership = f.Membership;
  return {
    id: own(`${name ?? location}@${queue}`),
    name: name === undefined ? location : own(name),
    queue_name: queue,
    status: num(f.Status),
    membership: membership === undefined ? (prev?.membership ?? '') : own(membership),
    state_interface: stateInterface === undefined ? location : own(stateInterface),
    location,
    paused: yesNo(f.Paused),
    paused_reason: own(f.PausedReason ?? ''),
    penalty: num(f.Penalty),
    calls_taken: num(f.CallsTaken),
    in_call: yesNo(f.InCall),
    last_call: num(f.LastCall),
    last_pause: num(f.LastPause),
    ring_inuse: f.Ringinuse !== undefined ? yesNo(f.Ringinuse) : (prev?.ring_inuse ?? null),
    tm_update: t,
    login_time: num(f.LoginTime),
  };
}

const NO_CALLS: MemberCalls = { last_15m: 0, last_60m: 0, since_reset: 0, last: 0 };

/**
 * A member as answered: the kept record plus, beyond the spec, since when it is paused (Asterisk sets LastPause
 * when a pause begins, and leaves it on unpause) and the calls it answered per window (from the gateway's records).
 */
export function renderMember(mem: StoredMember, calls: MemberCalls | undefined, nowMs = clockMs()): QueueMember {
  const c = calls ?? NO_CALLS;
  const pausedSince = mem.paused === 1 ? mem.last_pause : 0;
  return {
    ...mem,
    // the gateway saw a later answered call than Asterisk's LastCall says (LastCall is set when a call ends)
    last_call: Math.max(mem.last_call, c.last),
    paused_since: pausedSince,
    paused_for_s: pausedSince > 0 ? Math.max(0, Math.floor(nowMs / 1000) - pausedSince) : 0,
    calls_taken_15m: c.last_15m,
    calls_taken_60m: c.last_60m,
    calls_taken_since_reset: c.since_reset,
  };
}

function entryFrom(m: AmiMessage, joined: number, t = now()): Entry {
  const f = m.fields;
  return {
    unique_id: own(f.Uniqueid ?? ''),
    queue_name: own(f.Queue ?? ''),
    channel: own(f.Channel ?? ''),
    caller_id_name: cid(f.CallerIDName),
    caller_id_num: cid(f.CallerIDNum),
    connected_line_name: cid(f.ConnectedLineName),
    connected_line_num: cid(f.ConnectedLineNum),
    position: num(f.Position, 1),
    joined,
    tm_update: t,
  };
}

export class QueueState {
  readonly queues = new LiveTable<Queue>();
  readonly members = new LiveTable<StoredMember>();
  readonly entries = new LiveTable<Entry>();
  /**
   * queue name -> unique ids of its waiting callers, first in line first. Positions are this order, not numbers
   * copied from events: a Join inserts at its Position and a Leave removes, so the callers behind move up, and an
   * event applied a second time (replayed after a snapshot that already holds it) changes nothing.
   */
  private readonly lines = new Map<string, string[]>();

  reset(): void {
    this.queues.clear();
    this.members.clear();
    this.entries.clear();
    this.lines.clear();
  }

  /** The whole picture from one QueueStatus (QueueParams, QueueMember, QueueEntry items). */
  load(events: AmiMessage[]): void {
    const t = now();
    const nowMs = Date.now();
    const queues: [string, Queue][] = [];
    const members: [string, StoredMember][] = [];
    const entries: Entry[] = [];
    for (const m of events) {
      switch (m.fields.Event) {
        case 'QueueParams':
          if (m.fields.Queue) {
            const q = queueFromParams(m, t);
            queues.push([q.name, q]);
          }
          break;
        case 'QueueMember': {
          const mem = memberFrom(m, undefined, t);
          const key = memberKey(mem.queue_name, mem.location);
          mem.ring_inuse = this.members.get(key)?.ring_inuse ?? null;
          members.push([key, mem]);
          break;
        }
        case 'QueueEntry': {
          const e = entryFrom(m, nowMs - num(m.fields.Wait) * 1000, t);
          if (e.unique_id) entries.push(e);
          break;
        }
      }
    }
    entries.sort((a, b) => a.position - b.position);
    this.lines.clear();
    for (const e of entries) this.lineOf(e.queue_name).push(e.unique_id);
    this.queues.replaceAll(queues);
    this.members.replaceAll(members);
    this.entries.replaceAll(entries.map((e) => [e.unique_id, e]));
    for (const q of this.lines.keys()) this.renumber(q, 0, t);
  }

  /**
   * A later QueueStatus of one queue: its counters (completed, abandoned, hold/talk time, ...) and the call counts
   * of members already known. Members are not added or removed here: their events do that, and may have overtaken
   * this answer. `calls` stays the number of callers shown.
   */
  refreshQueue(events: AmiMessage[]): Queue | undefined {
    let q: Queue | undefined;
    const t = now();
    for (const m of events) {
      if (m.fields.Event === 'QueueParams' && m.fields.Queue) {
        q = queueFromParams(m, t);
        q.calls = this.lines.get(q.name)?.length ?? 0;
        this.queues.set(q.name, q);
      } else if (m.fields.Event === 'QueueMember') {
        const key = memberKey(m.fields.Queue ?? '', m.fields.Location ?? '');
        const prev = this.members.get(key);
        if (prev) this.members.set(key, memberFrom(m, prev, t));
      }
    }
    return q;
  }

  private lineOf(queue: string): string[] {
    let l = this.lines.get(queue);
    if (!l) this.lines.set(queue, (l = []));
    return l;
  }

  /** Positions of `queue` from index `from` on follow its line again. */
  private renumber(queue: string, from: number, t: string): void {
    const line = this.lines.get(queue) ?? [];
    for (let i = from; i < line.length; i++) {
      const e = this.entries.get(line[i]!);
      if (e && e.position !== i + 1) {
        e.position = i + 1;
        e.tm_update = t;
      }
    }
    this.entries.touch();
  }

  /** Known queue, or a placeholder for one created since the last resync (the caller refreshes it from Asterisk). */
  private queueFor(name: string): { q: Queue; known: boolean } {
    const q = this.queues.get(name);
    if (q) return { q, known: true };
    const fresh = emptyQueue(name);
    this.queues.set(fresh.name, fresh);
    return { q: fresh, known: false };
  }

  /** `calls` is the number of callers waiting: what Asterisk's Count says once our line is right. */
  private countCalls(name: string, t: string): boolean {
    const { q, known } = this.queueFor(name);
    const n = this.lines.get(name)?.length ?? 0;
    if (q.calls !== n) {
      q.calls = n;
      q.tm_update = t;
      this.queues.touch();
    }
    return known;
  }

  /** Take a caller out of its line; those behind it move up. */
  private removeEntry(e: Entry, t: string): void {
    this.entries.delete(e.unique_id);
    const line = this.lines.get(e.queue_name);
    const i = line ? line.indexOf(e.unique_id) : -1;
    if (i < 0) return;
    line!.splice(i, 1);
    this.renumber(e.queue_name, i, t);
    this.countCalls(e.queue_name, t);
  }

  /** QueueCallerJoin: channel block, Queue, Position, Count. */
  join(m: AmiMessage): { entry: Entry | undefined; queueKnown: boolean } {
    const f = m.fields;
    const queue = f.Queue;
    if (!queue || !f.Uniqueid) return { entry: undefined, queueKnown: true };
    const t = now();
    const prev = this.entries.get(f.Uniqueid);
    if (prev && prev.queue_name !== queue) this.removeEntry(prev, t);
    const again = prev !== undefined && prev.queue_name === queue;
    const e = entryFrom(m, again ? prev.joined : clockMs(), t);
    const line = this.lineOf(e.queue_name);
    if (again) {
      e.position = prev.position; // seen already (a replay): it keeps its place
      this.entries.set(e.unique_id, e);
    } else {
      // Asterisk puts a caller of higher priority ahead of others: insert at its Position, the rest move back.
      const at = Math.min(Math.max(e.position - 1, 0), line.length);
      line.splice(at, 0, e.unique_id);
      this.entries.set(e.unique_id, e);
      this.renumber(queue, at, t);
    }
    return { entry: e, queueKnown: this.countCalls(queue, t) };
  }

  /** QueueCallerLeave: channel block, Queue, Position (of the leaver), Count (left waiting). */
  leave(m: AmiMessage): { entry: Entry | undefined; queueKnown: boolean } {
    const f = m.fields;
    const queue = f.Queue;
    if (!queue) return { entry: undefined, queueKnown: true };
    const t = now();
    const e = this.entries.get(f.Uniqueid ?? '');
    if (e) this.removeEntry(e, t); // absent: gone already (e.g. a replay after a snapshot without it)
    return { entry: e, queueKnown: this.countCalls(queue, t) };
  }

  /** QueueCallerAbandon: the caller hung up while waiting. QueueCallerLeave follows and removes it. */
  abandon(m: AmiMessage): Entry | undefined {
    return this.entries.get(m.fields.Uniqueid ?? '');
  }

  /** QueueMemberAdded / Status / Pause / Penalty / Ringinuse: the event carries the member's whole record. */
  upsertMember(m: AmiMessage): { member: StoredMember | undefined; queueKnown: boolean } {
    const f = m.fields;
    if (!f.Queue || !f.Interface) return { member: undefined, queueKnown: true };
    const queueKnown = this.queues.has(f.Queue);
    if (!queueKnown) this.queueFor(f.Queue);
    const mem = memberFrom(m, this.members.get(memberKey(f.Queue, f.Interface)));
    this.members.set(memberKey(mem.queue_name, mem.location), mem); // a key of the member's own strings
    return { member: mem, queueKnown };
  }

  /** QueueMemberRemoved. */
  removeMember(m: AmiMessage): StoredMember | undefined {
    const key = memberKey(m.fields.Queue ?? '', m.fields.Interface ?? '');
    const mem = this.members.get(key);
    if (!mem) return undefined;
    this.members.delete(key);
    return mem;
  }

  /** Members of `queue` (or of every queue) whose name or interface is `name`. */
  findMembers(name: string, queue?: string): StoredMember[] {
    const out: StoredMember[] = [];
    for (const m of this.members.values()) {
      if (queue !== undefined && m.queue_name !== queue) continue;
      if (m.name === name || m.location === name) out.push(m);
    }
    return out;
  }
}
