// LiveKit (core/live/kit.ts), the skeleton agents, park and queue share: publishing skips replayed events and empty
// changes; "re-read soon" folds a burst into one run, runs only while AMI is up, logs a failure, and is cancelled by
// reset and close; the per-key form keeps keys apart; the Reload handler matches the module or All; serialRead runs
// reads one at a time and replays what overtook them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LiveKit } from '../../core/live/kit.ts';
import { EventBus, type BusMessage } from '../../core/bus/bus.ts';
import { event } from '../../core/contract/events.ts';
import { int, line, obj } from '../../core/contract/schema.ts';
import type { Logger } from '../../core/log.ts';
import type { AmiMessage } from '../../core/ami/message.ts';

const Thing = obj({ id: line(), n: int() });
const updated = event('test.thing.updated', 'a thing changed', Thing, { like: '/admin/core/channels' });

function setup() {
  const bus = new EventBus();
  const invalid: string[] = [];
  bus.onInvalid = (type, problem) => invalid.push(`${type}: ${problem}`);
  const seen: BusMessage[] = [];
  bus.subscribe((m) => seen.push(m));
  const logged: string[] = [];
  const log = {
    debug: (m: unknown) => logged.push(`debug ${String(m)}`),
    info: () => undefined,
    warn: (m: unknown) => logged.push(`warn ${String(m)}`),
    error: () => undefined,
  } as unknown as Logger;
  const ami = { connected: true };
  const live = new LiveKit({ ami, bus, log });
  return { live, bus, seen, invalid, logged, ami };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ev = (fields: Record<string, string>): AmiMessage => ({ fields: { Event: 'Test', ...fields } });

function deferred<T>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((res) => (resolve = res));
  return { promise, resolve };
}

test('publish sends a change once: not when there is none, and not again when its event is replayed', async () => {
  const { live, seen, invalid } = setup();
  const applied: string[] = [];
  const apply = live.on((m) => {
    applied.push(live.replaying ? `${m.fields.Id}~` : String(m.fields.Id));
    live.publish(updated, m.fields.Id ? { id: m.fields.Id, n: 1 } : undefined);
  });
  apply(ev({ Id: 'a' }));
  apply(ev({}));
  assert.deepEqual(
    seen.map((m) => m.data),
    [{ id: 'a', n: 1 }],
  );

  const answer = deferred<string>();
  const read = live.serialRead(
    () => answer.promise,
    () => undefined,
  );
  await sleep(5); // the read is sent
  apply(ev({ Id: 'b' })); // arrives while the read is in flight: published now, replayed after the answer
  answer.resolve('snapshot');
  await read;
  assert.deepEqual(applied, ['a', 'undefined', 'b', 'b~'], 'b was replayed');
  assert.deepEqual(
    seen.map((m) => (m.data as { id: string }).id),
    ['a', 'b'],
    'the replay published nothing',
  );
  assert.equal(live.replaying, false);
  assert.deepEqual(invalid, []);
});

test('soon() folds a burst into one run, and runs only while AMI is connected', async () => {
  const { live, ami } = setup();
  let runs = 0;
  const d = live.soon(20, 'test re-read', async () => void runs++);
  d.schedule();
  d.schedule();
  d.schedule();
  await sleep(60);
  assert.equal(runs, 1, 'three schedules, one run');
  ami.connected = false;
  d.schedule();
  await sleep(60);
  assert.equal(runs, 1, 'not run while AMI is down');
  ami.connected = true;
  d.schedule();
  await sleep(60);
  assert.equal(runs, 2, 'scheduled again after the timer fired');
});

test('a failed soon() run is logged at its level as "<what> failed: <message>"', async () => {
  const { live, logged } = setup();
  live
    .soon(5, 'parking re-read', async () => {
      throw new Error('list failed');
    })
    .schedule();
  live
    .soon(
      5,
      'agents re-read',
      async () => {
        throw new Error('timeout');
      },
      'debug',
    )
    .schedule();
  await sleep(40);
  assert.deepEqual(logged.sort(), ['debug agents re-read failed: timeout', 'warn parking re-read failed: list failed']);
});

test('soonPer() keeps one timer per key: each key runs once per burst, independently', async () => {
  const { live, logged } = setup();
  const runs: string[] = [];
  const per = live.soonPer(
    20,
    (q) => `refresh of queue ${q}`,
    async (q) => {
      runs.push(q);
      if (q === 'bad') throw new Error('no such queue');
    },
    'debug',
  );
  for (const q of ['sales', 'support', 'sales', 'bad', 'sales']) per.schedule(q);
  await sleep(60);
  assert.deepEqual(runs.sort(), ['bad', 'sales', 'support']);
  assert.deepEqual(logged, ['debug refresh of queue bad failed: no such queue']);
  per.schedule('sales');
  await sleep(60);
  assert.equal(runs.filter((q) => q === 'sales').length, 2, 'a key fires again after its timer ran');
});

test("lifecycle: reset cancels pending re-reads and forgets the state; close cancels them and runs the plugin's close", async () => {
  const { live } = setup();
  const runs: string[] = [];
  const calls: string[] = [];
  const d = live.soon(20, 'resync', async () => void runs.push('resync'));
  const per = live.soonPer(
    20,
    (k) => k,
    async (k) => void runs.push(k),
  );
  const inst = live.lifecycle({
    resync: async () => void calls.push('resync'),
    reset: () => calls.push('state reset'),
    close: () => calls.push('own close'),
  });
  d.schedule();
  per.schedule('q1');
  inst.reset();
  await sleep(60);
  assert.deepEqual(runs, [], 'nothing ran after reset');
  assert.deepEqual(calls, ['own close', 'state reset']);

  d.schedule();
  per.schedule('q2');
  inst.close();
  await sleep(60);
  assert.deepEqual(runs, [], 'nothing ran after close');
  await inst.resync();
  assert.deepEqual(calls, ['own close', 'state reset', 'own close', 'resync']);
});

test('onReload() reacts to the module (with or without .so, any case) and to All, not to other modules', () => {
  const { live } = setup();
  const hits: string[] = [];
  const queue = live.onReload('app_queue', () => hits.push('queue'));
  const pjsip = live.onReload('res_pjsip\\w*', () => hits.push('pjsip'));
  for (const Module of [
    'app_queue',
    'app_queue.so',
    'APP_QUEUE.SO',
    'All',
    'app_queue_extra',
    'res_parking',
    'res_pjsip_outbound_registration.so',
  ]) {
    queue(ev({ Module }));
    pjsip(ev({ Module }));
  }
  queue(ev({}));
  assert.deepEqual(hits, ['queue', 'queue', 'queue', 'queue', 'pjsip', 'pjsip']);
});

test('serialRead() runs reads one at a time and replays the events that overtook each answer', async () => {
  const { live } = setup();
  const state: string[] = [];
  const apply = live.on((m) => void state.push(live.replaying ? `${m.fields.Id}~` : m.fields.Id!));
  const first = deferred<string>();
  const second = deferred<string>();
  let secondStarted = false;
  const a = live.serialRead(
    () => first.promise,
    (x) => void state.push(`answer:${x}`),
  );
  const b = live.serialRead(
    () => {
      secondStarted = true;
      return second.promise;
    },
    (x) => void state.push(`answer:${x}`),
  );
  await sleep(5); // the first read is sent
  apply(ev({ Id: '1' }));
  assert.equal(secondStarted, false, 'the second read waits for the first');
  first.resolve('A');
  await a;
  await sleep(5);
  assert.equal(secondStarted, true);
  apply(ev({ Id: '2' }));
  second.resolve('B');
  await b;
  assert.deepEqual(state, ['1', 'answer:A', '1~', '2', 'answer:B', '2~']);
});
