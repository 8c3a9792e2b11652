// StateReads (core/live/reads.ts): events seen while a read of Asterisk is in flight are replayed on top of its
// answer, in order and with `replaying` set; overlapping reads each replay their own log; serial() runs one task
// at a time whatever the previous one did.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StateReads } from '../../core/live/reads.ts';
import type { AmiMessage } from '../../core/ami/message.ts';

const ev = (id: string): AmiMessage => ({ fields: { Event: 'Test', Id: id } });

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A StateReads with one live applier that logs `id` (or `id~` when replayed) for every event it applies. */
function setup() {
  const reads = new StateReads();
  const seen: string[] = [];
  const apply = reads.live((m) => void seen.push(reads.replaying ? `${m.fields.Id}~` : m.fields.Id!));
  return { reads, seen, apply };
}

test('events during a read are applied at once, then replayed after the answer in order with replaying=true', async () => {
  const { reads, seen, apply } = setup();
  const answer = deferred<string>();
  const done = reads.read(
    () => answer.promise,
    (a) => {
      assert.equal(reads.replaying, false, 'the answer is applied before the replay');
      seen.push(`answer:${a}`);
    },
  );
  apply(ev('1'));
  apply(ev('2'));
  apply(ev('3'));
  assert.deepEqual(seen, ['1', '2', '3'], 'applied live while the read is in flight');
  answer.resolve('A');
  await done;
  assert.deepEqual(seen, ['1', '2', '3', 'answer:A', '1~', '2~', '3~']);
  assert.equal(reads.replaying, false, 'replaying is cleared after the replay');
});

test('events outside a read are applied once, and not replayed by a later read', async () => {
  const { reads, seen, apply } = setup();
  apply(ev('before'));
  await reads.read(
    async () => 'A',
    (a) => void seen.push(`answer:${a}`),
  );
  apply(ev('after'));
  await reads.read(
    async () => 'B',
    (a) => void seen.push(`answer:${a}`),
  );
  assert.deepEqual(seen, ['before', 'answer:A', 'after', 'answer:B']);
});

test('two overlapping reads each replay their own log', async () => {
  const { reads, seen, apply } = setup();
  const first = deferred<string>();
  const second = deferred<string>();
  const a = reads.read(
    () => first.promise,
    (x) => void seen.push(`answer:${x}`),
  );
  apply(ev('1')); // only the first read is in flight
  const b = reads.read(
    () => second.promise,
    (x) => void seen.push(`answer:${x}`),
  );
  apply(ev('2')); // both are in flight
  second.resolve('B');
  await b;
  apply(ev('3')); // the second read is done; only the first records it
  first.resolve('A');
  await a;
  assert.deepEqual(seen, ['1', '2', 'answer:B', '2~', '3', 'answer:A', '1~', '2~', '3~']);
});

test('a failed read replays nothing and stops recording', async () => {
  const { reads, seen, apply } = setup();
  const answer = deferred<string>();
  const done = reads.read(
    () => answer.promise,
    () => assert.fail('no answer to apply'),
  );
  apply(ev('1'));
  answer.reject(new Error('list failed'));
  await assert.rejects(done, /list failed/);
  await reads.read(
    async () => 'A',
    (a) => void seen.push(`answer:${a}`),
  );
  assert.deepEqual(seen, ['1', 'answer:A'], 'the event recorded by the failed read is not replayed by the next one');
  await assert.rejects(
    reads.read(
      async () => 'B',
      () => {
        throw new Error('apply failed');
      },
    ),
    /apply failed/,
  );
  assert.equal(reads.replaying, false);
});

test('serial() runs tasks one at a time, in order, even if one fails', async () => {
  const reads = new StateReads();
  const order: string[] = [];
  let running = 0;
  const gates = [deferred<void>(), deferred<void>(), deferred<void>()];
  const task = (i: number, fail: boolean) => async () => {
    running++;
    assert.equal(running, 1, `task ${i} runs alone`);
    order.push(`start ${i}`);
    await gates[i]!.promise;
    order.push(`end ${i}`);
    running--;
    if (fail) throw new Error(`task ${i} failed`);
  };
  const t0 = reads.serial(task(0, false));
  const t1 = reads.serial(task(1, true));
  const t2 = reads.serial(task(2, false));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(order, ['start 0'], 'the later tasks wait for the first');
  gates[0]!.resolve();
  await t0;
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(order, ['start 0', 'end 0', 'start 1']);
  gates[1]!.resolve();
  await assert.rejects(t1, /task 1 failed/, 'the failure reaches its own caller');
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(order, ['start 0', 'end 0', 'start 1', 'end 1', 'start 2'], 'and does not stop the next task');
  gates[2]!.resolve();
  await t2;
  assert.deepEqual(order, ['start 0', 'end 0', 'start 1', 'end 1', 'start 2', 'end 2']);
});
