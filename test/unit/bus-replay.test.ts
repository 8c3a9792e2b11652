// The resume ring keeps payload objects, so a payload must not change once published: a resumed socket would be sent
// the object as it is now instead of the event the other sockets got. The bus's test check finds a publisher that
// breaks this, and the channel state (whose variables change in place on VarSet) hands out copies on write.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type BusMessage, EventBus } from '../../core/bus/bus.ts';
import { event } from '../../core/contract/events.ts';
import { dict, line, obj } from '../../core/contract/schema.ts';
import { events } from '../../plugins/core/schemas.ts';
import { CoreState, renderChannel } from '../../plugins/core/state.ts';

const spec = event('core.channel.updated', 'test', obj({ variables: dict(line()) }), { like: '/admin/core/channels' });

test('checkUnchanged reports a payload changed after it was published, and only that one', () => {
  const bus = new EventBus(10);
  const problems: string[] = [];
  bus.onInvalid = (type, problem) => problems.push(`${type}: ${problem}`);
  const changed = { variables: { A: '1' } };
  const kept = { variables: { B: '2' } };
  bus.publish(spec, changed);
  bus.publish(spec, kept);
  bus.checkUnchanged();
  assert.deepEqual(problems, []);
  changed.variables.A = 'later';
  bus.checkUnchanged();
  assert.equal(problems.length, 1);
  assert.match(
    problems[0] ?? '',
    /^core\.channel\.updated: the payload changed after it was published \(was \{"variables":\{"A":"1"\}\}\)/,
  );
});

test('checkUnchanged keeps the last 20,000 payloads: the newest are checked after the log wrapped, the overwritten are not', () => {
  const bus = new EventBus(0);
  const problems: string[] = [];
  bus.onInvalid = (type, problem) => problems.push(`${type}: ${problem}`);
  const payloads = Array.from({ length: 20_005 }, (_, i) => ({ variables: { N: String(i) } }));
  for (const p of payloads) bus.publish(spec, p);
  payloads[0]!.variables.N = 'changed'; // overwritten in the log by the 20,001st
  payloads[4]!.variables.N = 'changed'; // overwritten by the 20,005th
  bus.checkUnchanged();
  assert.deepEqual(problems, []);
  payloads[5]!.variables.N = 'changed'; // the oldest still kept
  payloads[20_004]!.variables.N = 'changed'; // the newest, in the slot the 5th had
  bus.checkUnchanged();
  assert.equal(problems.length, 2);
  assert.deepEqual(problems.map((p) => /"N":"(\d+)"/.exec(p)?.[1]).sort(), ['20004', '5']);
});

test('a channel variable set after an update was published leaves that update, and its replay, as it was sent', () => {
  const state = new CoreState();
  const bus = new EventBus(10);
  const problems: string[] = [];
  bus.onInvalid = (type, problem) => problems.push(`${type}: ${problem}`);
  const fields = (f: Record<string, string>) => ({ fields: { Uniqueid: '1.1', Channel: 'PJSIP/a-1', ...f } });
  const publish = () =>
    bus.publish(events.channelUpdated, renderChannel(state.upsertChannel(fields({ Event: 'Newstate', ChannelState: '6' }))!));

  state.upsertChannel(fields({ Event: 'Newchannel', ChannelState: '0' }));
  state.setVariable(fields({ Event: 'VarSet', Variable: 'FIRST', Value: 'a' }));
  publish(); // seq 1: FIRST only
  state.setVariable(fields({ Event: 'VarSet', Variable: 'SECOND', Value: 'b' }));
  state.setVariable(fields({ Event: 'VarSet', Variable: 'FIRST', Value: 'changed' }));
  publish(); // seq 2: both, FIRST changed
  state.setVariable(fields({ Event: 'VarSet', Variable: 'THIRD', Value: 'c' })); // after the last publish: seen by REST only

  const replay = bus.since(0)!.map((m) => (m.data as { variables: Record<string, string> }).variables);
  assert.deepEqual(replay, [{ FIRST: 'a' }, { FIRST: 'changed', SECOND: 'b' }]);
  assert.deepEqual(state.channels.get('1.1')!.variables, { FIRST: 'changed', SECOND: 'b', THIRD: 'c' });
  bus.checkUnchanged();
  assert.deepEqual(problems, []);
});

test('since() gives every kept message after a seq, as published, also after the ring wrapped; older or future: undefined', () => {
  const bus = new EventBus(5);
  const other = event('test.other.changed', 'test', obj({ n: line() }), { members: 'test' });
  /** What a message says, as listeners and replays compare it. */
  const view = (m: BusMessage) => ({ seq: m.seq, type: m.type, data: m.data, ...(m.audience ? { audience: m.audience } : {}) });
  const published: ReturnType<typeof view>[] = [];
  bus.subscribe((m) => published.push(view(m)));
  assert.deepEqual(bus.since(0), []);
  for (let i = 1; i <= 12; i++) {
    if (i % 3 === 0) bus.publish(other, { n: String(i) }, [`user-${i}`]);
    else bus.publish(spec, { variables: { N: String(i) } });
  }
  assert.equal(bus.seq, 12);
  assert.equal(bus.replayDepth, 5);
  // 8..12 are kept (12 messages in 5 places: the ring went round more than twice); each as its listener got it, audience
  // and payload object included
  for (const from of [7, 8, 10, 11]) assert.deepEqual(bus.since(from)!.map(view), published.slice(from), `since(${from})`);
  assert.equal(bus.since(9)![0]!.data, published[9]!.data, 'the payload object itself, not a copy');
  const [first] = bus.since(7)!;
  assert.equal(first!.access, spec.access);
  assert.match(first!.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.deepEqual(bus.since(12), []);
  assert.equal(bus.since(6), undefined, 'seq 7 is no longer kept');
  assert.equal(bus.since(13), undefined, 'a seq not published yet');
  assert.equal(bus.since(-1), undefined);
});
