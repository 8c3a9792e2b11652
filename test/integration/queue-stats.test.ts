// Queue statistics against a real Asterisk 22: a scripted mix of Local calls (answered by gwq's static member, and
// abandoned by hanging up while waiting in gwq-hold, which has no members); the gateway's figures equal the counts
// worked out from the script, and Asterisk's QueueStatus (Completed, Abandoned, ServicelevelPerf) and QueueSummary
// (Callers, LongestHoldTime) where both have the figure. This bed's Asterisk starts fresh, so its counters start at 0.
//
// Run: flock /tmp/asterisk-test.lock node --import tsx --test --test-concurrency=1 test/integration/queue-stats.test.ts
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { skipReason, startBed, type Bed } from '../support/bed.ts';
import { eventually } from '../support/http.ts';
import { TESTBED } from '../asterisk/testbed.ts';
import type { AmiMessage } from '../../core/ami/message.ts';
import type { BusMessage } from '../../core/bus/bus.ts';

const reason = skipReason();
const skip = reason ?? false;
let bed: Bed;
const bus: { at: number; m: BusMessage }[] = [];

before(async () => {
  if (reason) return;
  bed = await startBed({ plugins: ['queue'] });
  bed.gateway.bus.subscribe((m) => bus.push({ at: Date.now(), m }));
});
after(async () => {
  await bed?.close();
});

const Q = TESTBED.queues;
const CTX = TESTBED.contexts;

/** The script: answered calls into gwq (one at a time: the one member is not rung while in use), abandoned ones in gwq-hold. */
const ANSWERED = 3;
const ABANDONED = 4;

async function params(queue: string): Promise<Record<string, string>> {
  const r = await bed.gateway.ami.list('QueueStatus', { Queue: queue });
  const p = r.events.find((m: AmiMessage) => m.fields.Event === 'QueueParams' && m.fields.Queue === queue);
  assert.ok(p, `QueueParams of ${queue}`);
  return p.fields;
}

async function summary(queue: string): Promise<Record<string, string>> {
  const r = await bed.gateway.ami.list('QueueSummary', { Queue: queue });
  const s = r.events.find((m: AmiMessage) => m.fields.Event === 'QueueSummary' && m.fields.Queue === queue);
  assert.ok(s, `QueueSummary of ${queue}`);
  return s.fields;
}

async function stats(queue: string) {
  const a = await bed.api.get(`/v1/admin/queue/queues/${encodeURIComponent(queue)}/stats`);
  assert.equal(a.status, 200, a.text);
  return a.body.result;
}

async function entries(queue: string): Promise<{ unique_id: string; channel: string }[]> {
  const a = await bed.api.get(`/v1/admin/queue/entries?queue_name=${encodeURIComponent(queue)}`);
  assert.equal(a.status, 200, a.text);
  return a.body.result.list;
}

test('an unknown queue has no statistics (404)', { skip }, async () => {
  const a = await bed.api.get('/v1/admin/queue/queues/no-such-queue/stats');
  assert.equal(a.status, 404, a.text);
});

test('answered and abandoned calls: the figures equal the script and Asterisk', { skip }, async () => {
  const t0 = Date.now();
  // -- answered: each call is answered at once by Local/100@gw-test-member/n, then the caller hangs up
  for (let i = 1; i <= ANSWERED; i++) {
    await bed.originate(`Local/${Q.main}@${CTX.queue}`);
    await eventually(async () => (await stats(Q.main)).since_reset.answered === i, 15000, `call ${i} answered`);
    // the caller's and the member's channels go at once: app_queue's AgentComplete then comes with or without the
    // caller's channel fields (without them when the caller is gone first); both must complete the call
    await bed.gateway.ami.list('Hangup', { Channel: `/^Local/(${Q.main}@${CTX.queue}|100@${CTX.member})-/` });
    await eventually(async () => (await stats(Q.main)).since_reset.completed === i, 10000, `call ${i} complete`);
  }

  // -- abandoned: callers wait in gwq-hold (no members), then hang up one by one
  const ids: string[] = [];
  for (let i = 0; i < ABANDONED; i++) ids.push(await bed.originate(`Local/${Q.hold}@${CTX.queue}`));
  await eventually(async () => (await entries(Q.hold)).length === ABANDONED, 15000, 'all callers waiting');
  await new Promise((r) => setTimeout(r, 2100)); // let them wait a couple of seconds
  // while they wait: callers and the longest wait as QueueSummary counts them
  const [mid, sum] = await Promise.all([stats(Q.hold), summary(Q.hold)]);
  assert.equal(mid.waiting, ABANDONED);
  assert.equal(mid.waiting, Number(sum.Callers), 'waiting = QueueSummary Callers');
  assert.ok(mid.longest_wait_s >= 2, `longest wait ${mid.longest_wait_s} s`);
  assert.ok(
    Math.abs(mid.longest_wait_s - Number(sum.LongestHoldTime)) <= 1,
    `longest_wait_s ${mid.longest_wait_s} ~ LongestHoldTime ${sum.LongestHoldTime}`,
  );
  for (const e of await entries(Q.hold)) await bed.gateway.ami.action('Hangup', { Channel: e.channel });
  await eventually(async () => (await stats(Q.hold)).since_reset.abandoned === ABANDONED, 10000, 'all abandoned');

  // -- the figures, by hand from the script
  const main = await stats(Q.main);
  const hold = await stats(Q.hold);
  for (const w of ['last_15m', 'last_60m', 'since_reset'] as const) {
    assert.deepEqual(
      [main[w].answered, main[w].completed, main[w].abandoned, main[w].offered],
      [ANSWERED, ANSWERED, 0, ANSWERED],
      `${Q.main} ${w}`,
    );
    assert.deepEqual(
      [hold[w].answered, hold[w].abandoned, hold[w].offered, hold[w].abandoned_pct],
      [0, ABANDONED, ABANDONED, 100],
      `${Q.hold} ${w}`,
    );
  }
  assert.equal(main.waiting, 0);
  assert.equal(hold.waiting, 0);
  assert.equal(hold.longest_wait_s, 0);
  assert.ok(hold.since_reset.avg_abandon_wait_s >= 2, `abandoned after waiting ${hold.since_reset.avg_abandon_wait_s} s`);
  assert.equal(hold.since_reset.service_level_pct, null, 'nothing answered');
  assert.ok(main.since_reset.avg_talk_s !== null && main.since_reset.avg_talk_s >= 0);
  assert.ok(main.since_reset.avg_wait_s !== null && main.since_reset.avg_wait_s <= 2, 'answered at once');

  // -- and as Asterisk counts them (this Asterisk started with the bed: its counters began at 0)
  const [pm, ph] = await Promise.all([params(Q.main), params(Q.hold)]);
  assert.equal(main.since_reset.completed, Number(pm.Completed), 'completed = QueueStatus Completed');
  assert.equal(main.since_reset.abandoned, Number(pm.Abandoned));
  assert.equal(hold.since_reset.abandoned, Number(ph.Abandoned), 'abandoned = QueueStatus Abandoned');
  assert.equal(hold.since_reset.completed, Number(ph.Completed));
  assert.equal(main.service_level_s, Number(pm.ServiceLevel));
  assert.equal(main.since_reset.service_level_pct, Number(pm.ServicelevelPerf), 'service level = ServicelevelPerf');
  const [sm, sh] = await Promise.all([summary(Q.main), summary(Q.hold)]);
  assert.equal(main.waiting, Number(sm.Callers));
  assert.equal(hold.waiting, Number(sh.Callers));

  // -- the static member: calls taken in the windows and the time of the last call
  const m = await bed.api.get(`/v1/admin/queue/members/${encodeURIComponent(TESTBED.staticMember.interface)}?queue_name=${Q.main}`);
  assert.equal(m.status, 200, m.text);
  const mem = m.body.result;
  assert.deepEqual([mem.calls_taken_15m, mem.calls_taken_60m, mem.calls_taken_since_reset], [ANSWERED, ANSWERED, ANSWERED]);
  assert.equal(mem.calls_taken, ANSWERED, "Asterisk's own CallsTaken agrees");
  assert.ok(mem.last_call >= Math.floor(t0 / 1000) && mem.last_call <= Math.ceil(Date.now() / 1000), `last_call ${mem.last_call}`);

  // -- the event: published, with the route's figures, at most once a second per queue
  const sent = () => bus.filter((b) => b.m.type === 'queue.stats.updated');
  const last = (q: string) =>
    sent()
      .filter((b) => (b.m.data as { queue_name: string }).queue_name === q)
      .at(-1);
  await eventually(
    () => (last(Q.hold)?.m.data as { since_reset: { abandoned: number } } | undefined)?.since_reset.abandoned === ABANDONED,
    3000,
    'the last event carries the final figures',
  );
  for (const q of [Q.main, Q.hold]) {
    const times = bus
      .filter((b) => b.m.type === 'queue.stats.updated' && (b.m.data as { queue_name: string }).queue_name === q)
      .map((b) => b.at);
    assert.ok(times.length >= 2, `${q}: ${times.length} events`);
    for (let i = 1; i < times.length; i++)
      assert.ok(times[i]! - times[i - 1]! >= 950, `${q}: events ${times[i]! - times[i - 1]!} ms apart`);
  }
});

test('a paused member shows its reason and since when it is paused', { skip }, async () => {
  const iface = encodeURIComponent(TESTBED.staticMember.interface);
  const put = await bed.api.put(`/v1/admin/queue/members/${iface}?queue_name=${Q.main}`, { paused: true, paused_reason: 'lunch' });
  assert.equal(put.status, 200, put.text);
  const at = Math.floor(Date.now() / 1000);
  const r = await eventually(
    async () => {
      const m = (await bed.api.get(`/v1/admin/queue/members/${iface}?queue_name=${Q.main}`)).body.result;
      return m.paused === 1 && m.paused_reason === 'lunch' ? m : undefined;
    },
    5000,
    'paused with a reason',
  );
  assert.ok(Math.abs(r.paused_since - at) <= 1, `paused_since ${r.paused_since} ~ ${at}`);
  assert.ok(r.paused_for_s >= 0 && r.paused_for_s <= 2);
  await new Promise((res) => setTimeout(res, 2100));
  const later = (await bed.api.get(`/v1/admin/queue/members/${iface}?queue_name=${Q.main}`)).body.result;
  assert.ok(later.paused_for_s >= 2, `paused for ${later.paused_for_s} s`);
  assert.equal(later.paused_since, r.paused_since);
  const un = await bed.api.put(`/v1/admin/queue/members/${iface}?queue_name=${Q.main}`, { paused: false });
  assert.equal(un.status, 200, un.text);
  assert.deepEqual([un.body.result.paused, un.body.result.paused_since, un.body.result.paused_for_s], [0, 0, 0]);
});
