// The queue plugin against a real Asterisk 22: callers are Local channels originated over AMI into the test bed's
// queues, and every answer of the gateway is compared with Asterisk's own QueueStatus.
//
// Run: node --import tsx --test --test-concurrency=1 test/integration/queue.test.ts
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBed } from '../support/bed.ts';
import { eventually } from '../support/http.ts';
import { TESTBED } from '../asterisk/testbed.ts';
import type { AmiMessage } from '../../core/ami/message.ts';
import type { BusMessage } from '../../core/bus/bus.ts';

const bus: BusMessage[] = [];
const { skip, bed } = useBed({ plugins: ['queue'] }, { started: (b) => b.gateway.bus.subscribe((m) => bus.push(m)) });

const Q = TESTBED.queues;

/** A caller entering `queue`: Local/<queue>@gw-test-queue; returns its queue side's unique id. */
const callInto = (queue: string) => bed.originate(`Local/${queue}@${TESTBED.contexts.queue}`);

async function queueStatus(queue: string): Promise<{ params?: AmiMessage; members: AmiMessage[]; entries: AmiMessage[] }> {
  const r = await bed.gateway.ami.list('QueueStatus', { Queue: queue });
  return {
    params: r.events.find((m) => m.fields.Event === 'QueueParams' && m.fields.Queue === queue),
    members: r.events.filter((m) => m.fields.Event === 'QueueMember' && m.fields.Queue === queue),
    entries: r.events.filter((m) => m.fields.Event === 'QueueEntry' && m.fields.Queue === queue),
  };
}

async function entries(queue: string) {
  const a = await bed.api.get('/v1/admin/queue/entries');
  assert.equal(a.status, 200, a.text);
  return (a.body.result.list as { unique_id: string; queue_name: string; position: number }[]).filter((e) => e.queue_name === queue);
}

/** Our entries of `queue` equal Asterisk's QueueEntry items (unique id, position, channel). */
async function entriesMatchAsterisk(queue: string): Promise<boolean> {
  const [ours, theirs] = await Promise.all([entries(queue), queueStatus(queue)]);
  const a = ours.map((e) => `${e.unique_id}@${e.position}`).sort();
  const b = theirs.entries.map((m) => `${m.fields.Uniqueid}@${m.fields.Position}`).sort();
  return JSON.stringify(a) === JSON.stringify(b);
}

async function hangup(uniqueId: string): Promise<void> {
  const a = await bed.api.get(`/v1/admin/queue/entries/${encodeURIComponent(uniqueId)}`);
  assert.equal(a.status, 200, a.text);
  await bed.gateway.ami.action('Hangup', { Channel: a.body.result.channel });
}

async function member(name: string, queue: string) {
  return bed.api.get(`/v1/admin/queue/members/${encodeURIComponent(name)}?queue_name=${encodeURIComponent(queue)}`);
}

test("queues list matches QueueStatus, with the spec's field types", { skip }, async () => {
  const a = await bed.api.get('/v1/admin/queue/queues');
  assert.equal(a.status, 200, a.text);
  const names = (a.body.result.list as { name: string }[]).map((q) => q.name).sort();
  const r = await bed.gateway.ami.list('QueueStatus');
  const theirs = r.events
    .filter((m) => m.fields.Event === 'QueueParams')
    .map((m) => m.fields.Queue)
    .sort();
  assert.deepEqual(names, theirs);
  for (const q of Object.values(Q)) assert.ok(names.includes(q), `queue ${q} listed`);

  const d = await bed.api.get(`/v1/admin/queue/queues/${Q.main}`);
  assert.equal(d.status, 200, d.text);
  const q = d.body.result;
  assert.equal(q.name, Q.main);
  assert.equal(q.strategy, 'ringall');
  for (const k of ['max', 'weight', 'calls', 'completed', 'abandoned', 'hold_time', 'talk_time', 'service_level', 'service_level_perf']) {
    assert.equal(typeof q[k], 'number', `${k} is a number`);
  }
  assert.equal(typeof q.tm_update, 'string');

  const m = await member(TESTBED.staticMember.name, Q.main);
  assert.equal(m.status, 200, m.text);
  assert.equal(m.body.result.location, TESTBED.staticMember.interface);
  assert.equal(m.body.result.membership, 'static');
  assert.equal(m.body.result.id, `${TESTBED.staticMember.name}@${Q.main}`);
  for (const k of ['status', 'paused', 'penalty', 'calls_taken', 'in_call', 'last_call', 'last_pause']) {
    assert.equal(typeof m.body.result[k], 'number', `${k} is a number`);
  }
  // the member may also be named by its interface
  const byIface = await member(TESTBED.staticMember.interface, Q.main);
  assert.equal(byIface.status, 200, byIface.text);
  assert.equal(byIface.body.result.name, TESTBED.staticMember.name);
});

test('a caller waiting in a queue appears with the right position and disappears when it hangs up', { skip }, async () => {
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) {
    const id = await callInto(Q.hold);
    ids.push(id);
    // one at a time, so the join order (and so the position) is known
    await eventually(async () => (await entries(Q.hold)).some((e) => e.unique_id === id), 10000, `caller ${i + 1} in ${Q.hold}`);
  }
  const ours = await entries(Q.hold);
  assert.deepEqual(
    ids.map((id) => ours.find((e) => e.unique_id === id)?.position),
    [1, 2, 3],
  );
  assert.ok(await entriesMatchAsterisk(Q.hold), 'entries match QueueStatus');

  const detail = await bed.api.get(`/v1/admin/queue/entries/${ids[1]}`);
  assert.equal(detail.status, 200, detail.text);
  const e = detail.body.result;
  assert.equal(e.queue_name, Q.hold);
  assert.equal(e.position, 2);
  assert.equal(typeof e.wait, 'number');
  assert.match(e.channel, new RegExp(`^Local/${Q.hold}@${TESTBED.contexts.queue}-[0-9a-f]+;2$`));
  const q = await bed.api.get(`/v1/admin/queue/queues/${Q.hold}`);
  assert.equal(q.body.result.calls, 3);

  // the middle caller hangs up: it leaves, and the one behind it moves up
  await hangup(ids[1]!);
  await eventually(async () => !(await entries(Q.hold)).some((x) => x.unique_id === ids[1]), 10000, 'caller 2 gone');
  const after = await entries(Q.hold);
  assert.equal(after.find((x) => x.unique_id === ids[0])?.position, 1);
  assert.equal(after.find((x) => x.unique_id === ids[2])?.position, 2);
  assert.ok(await entriesMatchAsterisk(Q.hold), 'entries match QueueStatus after a leave');
  const gone = await bed.api.get(`/v1/admin/queue/entries/${ids[1]}`);
  assert.equal(gone.status, 404, gone.text);

  await hangup(ids[0]!);
  await hangup(ids[2]!);
  await eventually(async () => (await entries(Q.hold)).length === 0, 10000, 'queue empty');
  // the counters follow Asterisk's (abandoned comes from a debounced QueueStatus refresh)
  await eventually(
    async () => {
      const [ours, theirs] = await Promise.all([bed.api.get(`/v1/admin/queue/queues/${Q.hold}`), queueStatus(Q.hold)]);
      const r = ours.body.result;
      return r.calls === 0 && r.abandoned === Number(theirs.params!.fields.Abandoned) && r.abandoned >= 3;
    },
    5000,
    'abandoned counter = QueueStatus',
  );
});

test('a call answered by the static member counts as completed, as Asterisk counts it', { skip }, async () => {
  const before = Number((await queueStatus(Q.main)).params!.fields.Completed);
  await callInto(Q.main);
  // Local/100@gw-test-member/n answers at once: the caller leaves the queue, connected to the member
  await eventually(async () => (await queueStatus(Q.main)).members.some((m) => m.fields.InCall === '1'), 15000, 'member in call');
  await eventually(async () => (await entries(Q.main)).length === 0, 10000, 'caller left the queue');
  await bed.gateway.ami.list('Hangup', { Channel: `/^Local/(${Q.main}@${TESTBED.contexts.queue}|100@${TESTBED.contexts.member})-/` });
  // completed, hold and talk time change without an event: the debounced QueueStatus refresh brings them
  await eventually(
    async () => {
      const [ours, theirs] = await Promise.all([bed.api.get(`/v1/admin/queue/queues/${Q.main}`), queueStatus(Q.main)]);
      const r = ours.body.result;
      const p = theirs.params!.fields;
      return (
        r.completed === Number(p.Completed) &&
        r.completed === before + 1 &&
        r.hold_time === Number(p.Holdtime) &&
        r.talk_time === Number(p.TalkTime)
      );
    },
    8000,
    'completed / hold / talk time = QueueStatus',
  );
  await eventually(
    async () => {
      const [ours, theirs] = await Promise.all([member(TESTBED.staticMember.name, Q.main), queueStatus(Q.main)]);
      const t = theirs.members.find((x) => x.fields.Location === TESTBED.staticMember.interface)!;
      return (
        ours.body.result.calls_taken === Number(t.fields.CallsTaken) &&
        ours.body.result.calls_taken >= 1 &&
        ours.body.result.in_call === Number(t.fields.InCall) &&
        ours.body.result.status === Number(t.fields.Status)
      );
    },
    8000,
    'member calls_taken / in_call / status = QueueStatus',
  );
});

test('a member is added, paused, given a penalty and removed over REST, and QueueStatus agrees', { skip }, async () => {
  const iface = 'Local/300@gw-test-member/n';
  const add = await bed.api.post('/v1/admin/queue/members', { queue_name: Q.main, interface: iface, name: 'Rest Three', penalty: 1 });
  assert.equal(add.status, 200, add.text);
  assert.equal(add.body.result.location, iface);
  assert.equal(add.body.result.name, 'Rest Three');
  assert.equal(add.body.result.membership, 'dynamic');
  assert.equal(add.body.result.penalty, 1);
  let st = await queueStatus(Q.main);
  let t = st.members.find((m) => m.fields.Location === iface);
  assert.ok(t, 'QueueStatus lists the new member');
  assert.equal(t.fields.Name, 'Rest Three');
  assert.equal(t.fields.Penalty, '1');

  const again = await bed.api.post('/v1/admin/queue/members', { queue_name: Q.main, interface: iface });
  assert.equal(again.status, 409, again.text);

  const pause = await bed.api.put(`/v1/admin/queue/members/${encodeURIComponent('Rest Three')}?queue_name=${Q.main}`, {
    paused: true,
    paused_reason: 'lunch',
  });
  assert.equal(pause.status, 200, pause.text);
  assert.equal(pause.body.result.paused, 1);
  assert.equal(pause.body.result.paused_reason, 'lunch');
  st = await queueStatus(Q.main);
  t = st.members.find((m) => m.fields.Location === iface)!;
  assert.equal(t.fields.Paused, '1');
  assert.equal(t.fields.PausedReason, 'lunch');
  // the QueueMemberPause event keeps the list right too
  await eventually(async () => (await member('Rest Three', Q.main)).body.result.paused === 1, 5000, 'paused in the list');

  const pen = await bed.api.put(`/v1/admin/queue/members/${encodeURIComponent(iface)}?queue_name=${Q.main}`, { penalty: 4 });
  assert.equal(pen.status, 200, pen.text);
  assert.equal(pen.body.result.penalty, 4);
  st = await queueStatus(Q.main);
  assert.equal(st.members.find((m) => m.fields.Location === iface)!.fields.Penalty, '4');

  const unpause = await bed.api.put(`/v1/admin/queue/members/${encodeURIComponent('Rest Three')}?queue_name=${Q.main}`, { paused: false });
  assert.equal(unpause.status, 200, unpause.text);
  assert.equal(unpause.body.result.paused, 0);
  st = await queueStatus(Q.main);
  assert.equal(st.members.find((m) => m.fields.Location === iface)!.fields.Paused, '0');

  const del = await bed.api.del(`/v1/admin/queue/members/${encodeURIComponent('Rest Three')}?queue_name=${Q.main}`);
  assert.equal(del.status, 200, del.text);
  // each change went out on the bus as a typed event (the bed checks every payload against its schema)
  const seen = (type: string) => bus.filter((m) => m.type === type && (m.data as { location: string }).location === iface);
  await eventually(() => seen('queue.member.removed').length === 1, 5000, 'queue.member.removed published once');
  assert.equal(seen('queue.member.added').length, 1);
  assert.ok(
    seen('queue.member.updated').some((m) => (m.data as { paused: number }).paused === 1),
    'the pause was published',
  );
  st = await queueStatus(Q.main);
  assert.ok(!st.members.some((m) => m.fields.Location === iface), 'QueueStatus no longer lists it');
  assert.equal((await member('Rest Three', Q.main)).status, 404);

  // a static member (queues.conf) cannot be removed over AMI
  const stat = await bed.api.del(`/v1/admin/queue/members/${encodeURIComponent(TESTBED.staticMember.name)}?queue_name=${Q.main}`);
  assert.equal(stat.status, 409, stat.text);
  st = await queueStatus(Q.main);
  assert.ok(st.members.some((m) => m.fields.Location === TESTBED.staticMember.interface));
});

test('bad input: unknown queue or member is 404, a non-boolean pause or CR/LF is 400, and nothing changes', { skip }, async () => {
  const snapshot = async () => {
    const r = await bed.gateway.ami.list('QueueStatus');
    return r.events
      .filter((m) => m.fields.Event === 'QueueMember')
      .map((m) => `${m.fields.Queue}|${m.fields.Location}|${m.fields.Name}|${m.fields.Paused}|${m.fields.PausedReason}|${m.fields.Penalty}`)
      .sort()
      .join('\n');
  };
  const before = await snapshot();
  const sm = encodeURIComponent(TESTBED.staticMember.name);
  const cases: [string, Promise<{ status: number; text: string }>, number][] = [
    ['GET unknown queue', bed.api.get('/v1/admin/queue/queues/no-such-queue'), 404],
    ['GET unknown member', bed.api.get(`/v1/admin/queue/members/nobody?queue_name=${Q.main}`), 404],
    ['GET member of unknown queue', bed.api.get(`/v1/admin/queue/members/${sm}?queue_name=no-such-queue`), 404],
    ['GET unknown entry', bed.api.get('/v1/admin/queue/entries/1234.5678'), 404],
    ['POST to unknown queue', bed.api.post('/v1/admin/queue/members', { queue_name: 'no-such-queue', interface: 'Local/1@x/n' }), 404],
    ['PUT unknown member', bed.api.put(`/v1/admin/queue/members/nobody?queue_name=${Q.main}`, { paused: true }), 404],
    ['PUT member of unknown queue', bed.api.put(`/v1/admin/queue/members/${sm}?queue_name=no-such-queue`, { paused: true }), 404],
    ['DELETE unknown member', bed.api.del(`/v1/admin/queue/members/nobody?queue_name=${Q.main}`), 404],
    ['pause with a string', bed.api.put(`/v1/admin/queue/members/${sm}?queue_name=${Q.main}`, { paused: 'yes' }), 400],
    ['pause with a number', bed.api.put(`/v1/admin/queue/members/${sm}?queue_name=${Q.main}`, { paused: 1 }), 400],
    ['penalty not an integer', bed.api.put(`/v1/admin/queue/members/${sm}?queue_name=${Q.main}`, { penalty: '2' }), 400],
    ['empty change', bed.api.put(`/v1/admin/queue/members/${sm}?queue_name=${Q.main}`, {}), 400],
    [
      'CR/LF in the reason',
      bed.api.put(`/v1/admin/queue/members/${sm}?queue_name=${Q.main}`, { paused: true, paused_reason: 'x\r\nAction: Logoff' }),
      400,
    ],
    [
      'CR/LF in the interface',
      bed.api.post('/v1/admin/queue/members', { queue_name: Q.main, interface: 'Local/1@x/n\r\nAction: Logoff' }),
      400,
    ],
    [
      'CR/LF in the member name',
      bed.api.post('/v1/admin/queue/members', { queue_name: Q.main, interface: 'Local/1@x/n', name: 'a\nb' }),
      400,
    ],
    ['CR/LF in the queue name', bed.api.post('/v1/admin/queue/members', { queue_name: `${Q.main}\n`, interface: 'Local/1@x/n' }), 400],
    ['CR/LF in the URL name', bed.api.put(`/v1/admin/queue/members/a%0D%0Ab?queue_name=${Q.main}`, { paused: true }), 400],
    ['CR/LF in queue_name', bed.api.put(`/v1/admin/queue/members/${sm}?queue_name=${Q.main}%0A`, { paused: true }), 400],
    ['malformed JSON', bed.api.put(`/v1/admin/queue/members/${sm}?queue_name=${Q.main}`, '{"paused": tru'), 400],
    ['unknown field', bed.api.post('/v1/admin/queue/members', { queue_name: Q.main, interface: 'Local/1@x/n', pasued: true }), 400],
  ];
  for (const [what, p, want] of cases) {
    const a = await p;
    assert.equal(a.status, want, `${what}: ${a.text}`);
  }
  // the refusals name the field in the gateway's wording
  const words: [Promise<{ body: { result?: any } }>, string, string][] = [
    [
      bed.api.put(`/v1/admin/queue/members/${sm}?queue_name=${Q.main}`, { paused: 'yes' }),
      'paused: must be a boolean (true or false)',
      'invalid_field',
    ],
    [
      bed.api.post('/v1/admin/queue/members', { queue_name: Q.main, interface: 'Local/1@x/n', pasued: true }),
      'pasued: unknown field',
      'unknown_field',
    ],
    [bed.api.post('/v1/admin/queue/members', { interface: 'Local/1@x/n' }), 'queue_name: is required', 'invalid_field'],
    [bed.api.put(`/v1/admin/queue/members/${sm}?queue_name=${Q.main}`, { penalty: -1 }), 'penalty: must not be negative', 'invalid_field'],
  ];
  for (const [p, message, code] of words) {
    const r = (await p).body.result;
    assert.deepEqual([r.message, r.code], [message, code]);
  }
  assert.equal(await snapshot(), before, 'QueueStatus members unchanged');
});

test('after kill -9 and a restart of Asterisk the queue state resyncs and matches Asterisk again', { skip }, async () => {
  const id = await callInto(Q.hold);
  await eventually(async () => (await entries(Q.hold)).some((e) => e.unique_id === id), 10000, 'caller waiting');
  await bed.asterisk.kill9();
  await eventually(async () => (await bed.api.get('/v1/admin/queue/entries')).status === 503, 10000, '503 while AMI is down');
  await bed.asterisk.restart();
  await eventually(async () => (await bed.api.get('/v1/admin/queue/entries')).status === 200, 30000, 'live again');
  // the restarted Asterisk has no callers: the one we had is gone
  assert.ok(await entriesMatchAsterisk(Q.hold));
  assert.equal((await entries(Q.hold)).length, 0);
  const id2 = await callInto(Q.hold);
  await eventually(async () => (await entries(Q.hold)).some((e) => e.unique_id === id2), 10000, 'new caller seen');
  assert.ok(await entriesMatchAsterisk(Q.hold));
  const [queues, theirs] = await Promise.all([bed.api.get('/v1/admin/queue/queues'), bed.gateway.ami.list('QueueStatus')]);
  assert.deepEqual(
    (queues.body.result.list as { name: string }[]).map((q) => q.name).sort(),
    theirs.events
      .filter((m) => m.fields.Event === 'QueueParams')
      .map((m) => m.fields.Queue)
      .sort(),
  );
  const members = await bed.api.get('/v1/admin/queue/members');
  assert.deepEqual(
    (members.body.result.list as { queue_name: string; location: string }[]).map((m) => `${m.queue_name}|${m.location}`).sort(),
    theirs.events
      .filter((m) => m.fields.Event === 'QueueMember')
      .map((m) => `${m.fields.Queue}|${m.fields.Location}`)
      .sort(),
  );
  await hangup(id2);
  await eventually(async () => (await entries(Q.hold)).length === 0, 10000, 'queue empty');
});
