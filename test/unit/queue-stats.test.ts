// Queue statistics (plugins/queue/stats.ts) from a scripted sequence of queue events under a hand-moved clock:
// answered and abandoned counts, waits, talk time and service level worked out by hand from the script; the
// rolling windows expiring; the daily reset; replayed events not counted twice; member figures; the event throttle;
// the records surviving a restart through the store; the gateway.yaml key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AmiMessage } from '../../core/ami/message.ts';
import { lastResetAt, SavedLog, Throttle, TimedLog } from '../../core/live/windows.ts';
import { Store } from '../../core/store/store.ts';
import { parseConfig } from '../../core/config.ts';
import { type CallRecord, QueueStatsBook } from '../../plugins/queue/stats.ts';
import { memberKey, renderMember } from '../../plugins/queue/state.ts';
import type { StoredMember } from '../../plugins/queue/schemas.ts';

const S = 1000;
const MIN = 60 * S;

class FakeClock {
  constructor(public t: number) {}
  now() {
    return this.t;
  }
  advance(ms: number) {
    this.t += ms;
  }
}

const ev = (fields: Record<string, string | number>): AmiMessage => ({
  fields: Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, String(v)])),
});
const join = (q: string, id: string) => ev({ Event: 'QueueCallerJoin', Queue: q, Uniqueid: id, Position: 1, Count: 1 });
const leave = (q: string, id: string) => ev({ Event: 'QueueCallerLeave', Queue: q, Uniqueid: id, Position: 1, Count: 0 });
const abandon = (q: string, id: string, hold: number) =>
  ev({ Event: 'QueueCallerAbandon', Queue: q, Uniqueid: id, Position: 1, OriginalPosition: 1, HoldTime: hold });
const connect = (q: string, id: string, hold: number, iface: string) =>
  ev({ Event: 'AgentConnect', Queue: q, Uniqueid: id, Interface: iface, MemberName: iface, HoldTime: hold, RingTime: 1 });
const complete = (q: string, id: string, hold: number, talk: number, iface: string) =>
  ev({
    Event: 'AgentComplete',
    Queue: q,
    Uniqueid: id,
    Interface: iface,
    MemberName: iface,
    HoldTime: hold,
    TalkTime: talk,
    Reason: 'caller',
  });

/** 10 January 2026, 09:00 local time. */
const START = new Date(2026, 0, 10, 9, 0, 0).getTime();

function book(resetAt = '00:00', threshold = 20) {
  const clock = new FakeClock(START);
  let reset = resetAt;
  const b = new QueueStatsBook(
    clock,
    () => reset,
    () => threshold,
  );
  return { clock, b, setReset: (r: string) => (reset = r) };
}

/**
 * The script (queue sales, service level 20 s):
 *   0 s  c1, c2, c3 join
 *   5 s  c1 answered by PJSIP/a after 5 s        (within 20 s)
 *  30 s  c2 hangs up after 30 s                  (abandoned)
 *  40 s  c3 answered by PJSIP/b after 40 s       (not within 20 s)
 * 100 s  c1's call ends after 95 s of talk; c4 joins
 * By hand: answered 2, abandoned 1, offered 3, completed 1, answered_in_sl 1 -> service level 50 %,
 * abandoned 1/3 = 33.3 %, average wait (5 + 40) / 2 = 22.5 s, average abandon wait 30 s, max wait 40 s,
 * average talk 95 s.
 */
function script(b: QueueStatsBook, clock: FakeClock) {
  for (const id of ['c1', 'c2', 'c3']) b.join(join('sales', id));
  clock.advance(5 * S);
  b.connect(connect('sales', 'c1', 5, 'PJSIP/a'));
  b.leave(leave('sales', 'c1'));
  clock.advance(25 * S);
  b.abandon(abandon('sales', 'c2', 30));
  b.leave(leave('sales', 'c2'));
  clock.advance(10 * S);
  b.leave(leave('sales', 'c3'));
  b.connect(connect('sales', 'c3', 40, 'PJSIP/b'));
  clock.advance(60 * S);
  b.complete(complete('sales', 'c1', 5, 95, 'PJSIP/a'));
  b.join(join('sales', 'c4'));
}

test('a scripted mix of answered and abandoned calls gives the figures worked out by hand', () => {
  const { clock, b } = book();
  script(b, clock);
  const s = b.stats('sales');
  assert.equal(s.queue_name, 'sales');
  assert.equal(s.waiting, 1);
  assert.equal(s.longest_wait_s, 0);
  assert.equal(s.service_level_s, 20);
  assert.equal(s.reset_at, '00:00');
  for (const w of [s.last_15m, s.last_60m, s.since_reset]) {
    assert.deepEqual(
      { ...w, from: undefined },
      {
        from: undefined,
        offered: 3,
        answered: 2,
        abandoned: 1,
        completed: 1,
        answered_in_sl: 1,
        service_level_pct: 50,
        abandoned_pct: 33.3,
        avg_wait_s: 22.5,
        avg_abandon_wait_s: 30,
        max_wait_s: 40,
        avg_talk_s: 95,
      },
    );
  }
  assert.equal(s.last_15m.from, new Date(clock.t - 15 * MIN).toISOString());
  assert.equal(s.since_reset.from, new Date(2026, 0, 10, 0, 0).toISOString());

  clock.advance(30 * S);
  const later = b.stats('sales');
  assert.equal(later.waiting, 1);
  assert.equal(later.longest_wait_s, 30, 'c4 has waited 30 s');
  // another queue is untouched
  const other = b.stats('support');
  assert.equal(other.waiting, 0);
  assert.equal(other.last_60m.offered, 0);
  assert.equal(other.last_60m.service_level_pct, null);
  assert.equal(other.last_60m.avg_wait_s, null);
  assert.equal(other.last_60m.avg_talk_s, null);
});

test('the rolling windows expire and records older than every window are pruned', () => {
  const { clock, b } = book();
  script(b, clock); // now START + 100 s
  clock.advance(14 * MIN); // START + 15 min 40 s: c1 (answered at 5 s) and c2 (abandoned at 30 s) are out of 15 min
  let s = b.stats('sales');
  assert.deepEqual([s.last_15m.answered, s.last_15m.abandoned], [1, 0], 'c3 (answered at 40 s) still in');
  assert.deepEqual([s.last_60m.answered, s.last_60m.abandoned], [2, 1]);
  clock.advance(1 * MIN); // START + 16 min 40 s
  s = b.stats('sales');
  assert.equal(s.last_15m.offered, 0);
  assert.equal(s.last_15m.service_level_pct, null);
  assert.equal(s.last_60m.offered, 3);
  clock.advance(45 * MIN); // START + 61 min 40 s
  s = b.stats('sales');
  assert.equal(s.last_60m.offered, 0);
  assert.deepEqual([s.since_reset.answered, s.since_reset.abandoned, s.since_reset.service_level_pct], [2, 1, 50]);
  assert.equal(b.calls.size, 3, 'kept: still inside since_reset');
  // the next day at 00:00 the since_reset figures start again and the old records are dropped
  clock.t = new Date(2026, 0, 11, 0, 0, 30).getTime();
  s = b.stats('sales');
  assert.equal(s.since_reset.offered, 0);
  assert.equal(s.since_reset.from, new Date(2026, 0, 11, 0, 0).toISOString());
  assert.equal(b.calls.size, 0);
});

test('the daily reset at a configured time: before it, since_reset reaches back to yesterday', () => {
  const { clock, b } = book('09:30');
  script(b, clock); // 09:01:40
  let s = b.stats('sales');
  assert.equal(s.since_reset.from, new Date(2026, 0, 9, 9, 30).toISOString());
  assert.equal(s.since_reset.offered, 3);
  clock.t = new Date(2026, 0, 10, 9, 30, 0).getTime();
  b.abandon(abandon('sales', 'c4', 1800));
  s = b.stats('sales');
  assert.equal(s.since_reset.from, new Date(2026, 0, 10, 9, 30).toISOString());
  assert.deepEqual([s.since_reset.answered, s.since_reset.abandoned], [0, 1], 'only what came at or after 09:30');
  assert.deepEqual([s.last_60m.answered, s.last_60m.abandoned], [2, 2]);
  assert.equal(s.waiting, 0);
});

test('lastResetAt is the latest local HH:MM at or before now', () => {
  const at = (d: Date, r: string) => new Date(lastResetAt(d.getTime(), r));
  assert.deepEqual(at(new Date(2026, 2, 5, 23, 59), '00:00'), new Date(2026, 2, 5, 0, 0));
  assert.deepEqual(at(new Date(2026, 2, 5, 0, 0), '00:00'), new Date(2026, 2, 5, 0, 0));
  assert.deepEqual(at(new Date(2026, 2, 5, 5, 59), '06:00'), new Date(2026, 2, 4, 6, 0));
  assert.deepEqual(at(new Date(2026, 2, 1, 5, 0), '06:00'), new Date(2026, 1, 28, 6, 0));
});

test('replayed events (after a resync) are not counted twice; the resync gives the waiting callers', () => {
  const { clock, b } = book();
  script(b, clock);
  // a read was in flight: the events of c1 and c2 are applied again
  assert.equal(b.connect(connect('sales', 'c1', 5, 'PJSIP/a')), undefined);
  assert.equal(b.abandon(abandon('sales', 'c2', 30)), undefined);
  assert.equal(b.complete(complete('sales', 'c1', 5, 95, 'PJSIP/a')), undefined);
  assert.equal(b.join(join('sales', 'c4')), undefined);
  const s = b.stats('sales');
  assert.deepEqual([s.last_60m.answered, s.last_60m.abandoned, s.last_60m.completed, s.waiting], [2, 1, 1, 1]);
  // AMI lost: nobody is known to wait; the QueueStatus of the resync brings the waiting callers with their Wait
  b.forgetWaiting();
  assert.equal(b.stats('sales').waiting, 0);
  b.loadWaiting([
    ev({ Event: 'QueueParams', Queue: 'sales' }),
    ev({ Event: 'QueueEntry', Queue: 'sales', Uniqueid: 'c4', Position: 1, Wait: 42 }),
    ev({ Event: 'QueueEntry', Queue: 'sales', Uniqueid: 'c5', Position: 2, Wait: 7 }),
  ]);
  const r = b.stats('sales');
  assert.deepEqual([r.waiting, r.longest_wait_s], [2, 42]);
  assert.equal(r.last_60m.answered, 2, 'the records stay');
});

test('members: calls taken per window, the last call, and since when a pause lasts', () => {
  const { clock, b } = book();
  script(b, clock);
  clock.advance(20 * MIN);
  b.connect(connect('sales', 'c9', 2, 'PJSIP/a'));
  const calls = b.memberCalls(memberKey);
  const a = calls.get(memberKey('sales', 'PJSIP/a'))!;
  assert.deepEqual({ ...a, last: 0 }, { last_15m: 1, last_60m: 2, since_reset: 2, last: 0 });
  assert.equal(a.last, Math.floor(clock.t / 1000));
  assert.deepEqual({ ...calls.get(memberKey('sales', 'PJSIP/b'))!, last: 0 }, { last_15m: 0, last_60m: 1, since_reset: 1, last: 0 });
  assert.equal(calls.get(memberKey('support', 'PJSIP/a')), undefined);

  const stored: StoredMember = {
    id: 'a@sales',
    name: 'a',
    queue_name: 'sales',
    status: 1,
    membership: 'dynamic',
    state_interface: 'PJSIP/a',
    location: 'PJSIP/a',
    paused: 1,
    paused_reason: 'lunch',
    penalty: 0,
    calls_taken: 2,
    in_call: 0,
    last_call: 0,
    last_pause: Math.floor(clock.t / 1000) - 12 * 60,
    ring_inuse: null,
    tm_update: '',
    login_time: 0,
  };
  const shown = renderMember(stored, a, clock.t);
  assert.equal(shown.paused_reason, 'lunch');
  assert.equal(shown.paused_since, stored.last_pause);
  assert.equal(shown.paused_for_s, 720, 'on break for 12 min');
  assert.deepEqual([shown.calls_taken_15m, shown.calls_taken_60m, shown.calls_taken_since_reset], [1, 2, 2]);
  assert.equal(shown.last_call, a.last);
  const unpaused = renderMember({ ...stored, paused: 0 }, undefined, clock.t);
  assert.deepEqual([unpaused.paused_since, unpaused.paused_for_s, unpaused.calls_taken_60m], [0, 0, 0]);
  assert.equal(unpaused.last_pause, stored.last_pause, "Asterisk's LastPause is kept as it is");
});

test('the stats event is throttled to once a second per queue, the last change always sent', () => {
  const clock = new FakeClock(START);
  const fired: string[] = [];
  const timers: { fn: () => void; at: number }[] = [];
  const t = new Throttle(1000, clock, (k) => fired.push(`${k}@${clock.t - START}`), {
    set: (fn, ms) => {
      timers.push({ fn, at: clock.t + ms });
      return 0 as unknown as ReturnType<typeof setTimeout>;
    },
    clear: () => undefined,
  });
  t.notify('sales'); // at once
  t.notify('support'); // another queue: at once too
  clock.advance(200);
  t.notify('sales');
  t.notify('sales');
  assert.deepEqual(fired, ['sales@0', 'support@0']);
  assert.equal(timers.length, 1, 'one pending send for the burst');
  assert.equal(timers[0]!.at - START, 1000);
  clock.t = START + 1000;
  timers.shift()!.fn();
  assert.deepEqual(fired, ['sales@0', 'support@0', 'sales@1000']);
  clock.advance(1500);
  t.notify('sales');
  assert.deepEqual(fired.at(-1), 'sales@2500');
});

test('the records survive a restart through the store; expired ones are dropped on load', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'qstats-'));
  try {
    const { clock, b } = book();
    const store = await Store.open(dir);
    const saved = new SavedLog(store, 'queue_stats_calls', b.calls, 60_000, () => undefined);
    assert.equal(saved.load(), 0, 'a first start: nothing saved');
    script(b, clock);
    await saved.close();

    // a new gateway process, 10 minutes later
    clock.advance(10 * MIN);
    const store2 = await Store.open(dir);
    const b2 = new QueueStatsBook(
      clock,
      () => '00:00',
      () => 20,
    );
    const saved2 = new SavedLog(store2, 'queue_stats_calls', b2.calls, 60_000, () => undefined);
    assert.equal(saved2.load(), 3);
    const s = b2.stats('sales');
    assert.deepEqual(
      [s.last_15m.answered, s.last_15m.abandoned, s.last_15m.completed, s.last_15m.avg_talk_s, s.last_15m.service_level_pct],
      [2, 1, 1, 95, 50],
    );
    assert.equal(s.waiting, 0, 'waiting callers come from the resync, not the store');

    // a day later nothing saved is in any window any more
    clock.advance(24 * 60 * MIN);
    const log = new TimedLog<CallRecord>(clock, () => '00:00');
    assert.equal(new SavedLog(await Store.open(dir), 'queue_stats_calls', log, 60_000, () => undefined).load(), 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('gateway.yaml queue_stats: defaults, and a reset time that is not HH:MM is refused', () => {
  const AMI = 'ami: {username: gw, secret: s}\n';
  const c = parseConfig(AMI, '/etc/gw/gateway.yaml', ['queue'], {});
  assert.deepEqual(c.queue_stats, { reset_at: '00:00', save_interval_s: 60 });
  const d = parseConfig(`${AMI}queue_stats:\n  reset_at: "06:30"\n`, '/etc/gw/gateway.yaml', ['queue'], {});
  assert.equal(d.queue_stats.reset_at, '06:30');
  for (const bad of ['"24:00"', '"6:30"', 'midnight']) {
    assert.throws(
      () => parseConfig(`${AMI}queue_stats:\n  reset_at: ${bad}\n`, '/etc/gw/gateway.yaml', ['queue'], {}),
      /queue_stats\.reset_at/,
    );
  }
  assert.throws(() => parseConfig(`${AMI}queue_stats:\n  reset: "06:30"\n`, '/etc/gw/gateway.yaml', ['queue'], {}), /queue_stats\.reset/);
});

test("an AgentComplete without channel fields (the caller was gone first) completes the member's open call in that queue", () => {
  const { clock, b } = book();
  b.join(join('sales', 'c1'));
  b.join(join('sales', 'c2'));
  clock.advance(3 * S);
  b.connect(connect('sales', 'c1', 3, 'PJSIP/a'));
  b.connect(connect('sales', 'c2', 3, 'PJSIP/b'));
  clock.advance(10 * S);
  // as Asterisk 22 sends it when the caller's channel is already destroyed: Queue, Interface, times, Reason only
  const bare = ev({
    Event: 'AgentComplete',
    Queue: 'sales',
    Interface: 'PJSIP/b',
    MemberName: 'b',
    HoldTime: 3,
    TalkTime: 10,
    Reason: 'caller',
  });
  assert.equal(b.complete(bare), 'sales');
  const s = b.stats('sales').since_reset;
  assert.equal(s.completed, 1);
  assert.equal(s.avg_talk_s, 10);
  assert.equal(b.complete(bare), undefined, 'PJSIP/b has no open call left: nothing counted twice');
  assert.equal(b.complete(ev({ Event: 'AgentComplete', Queue: 'sales', Interface: 'PJSIP/zz', TalkTime: 1 })), undefined);
  assert.equal(b.stats('sales').since_reset.completed, 1);
});
