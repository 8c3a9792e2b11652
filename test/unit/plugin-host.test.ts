// The plugin host's resync ordering: events that arrive while a plugin resyncs are held; those already inside the
// snapshot (seq <= the list's completion seq) are dropped, later ones are applied on top in wire order.
// And the clock it holds while it applies one event (core/live/clock.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PluginHost } from '../../core/plugins/host.ts';
import { clockMs, isoNow } from '../../core/live/clock.ts';
import { testLogger } from '../support/log.ts';
import type { AmiMessage } from '../../core/ami/message.ts';
import type { PluginContext } from '../../core/plugins/contract.ts';

const ev = (name: string, id: string, state: string): AmiMessage => ({ fields: { Event: name, Uniqueid: id, ChannelState: state } });

test('events held during resync: those inside the snapshot are dropped, later ones applied in order', async () => {
  let connected = true;
  const host = new PluginHost(testLogger('t'), () => connected);
  const state = new Map<string, string>();
  let release!: () => void;
  const snapshotTaken = new Promise<void>((r) => (release = r));
  await host.load(
    [
      {
        name: 'p',
        description: 'test',
        setup: () => ({
          events: {
            Newstate: (m) => void state.set(m.fields.Uniqueid ?? '', m.fields.ChannelState ?? ''),
            Hangup: (m) => void state.delete(m.fields.Uniqueid ?? ''),
          },
          async resync() {
            await snapshotTaken;
            // the list completed when 2 events had been delivered: the snapshot already reflects seq 1 and 2
            host.noteSnapshot('p', 2);
            state.clear();
            state.set('a', '6');
            state.set('b', '5');
          },
        }),
      },
    ],
    () => ({}) as PluginContext,
  );
  const done = host.resyncAll('connect');
  host.dispatch(ev('Newstate', 'a', '4'), 1); // older than the snapshot: must not win over it
  host.dispatch(ev('Newstate', 'b', '5'), 2);
  host.dispatch(ev('Hangup', 'a', '6'), 3); // after the snapshot: applied
  host.dispatch(ev('Newstate', 'b', '6'), 4);
  assert.equal(state.size, 0, 'nothing applied while resyncing');
  assert.deepEqual(host.liveness('p'), { reason: 'plugin p is still reading its state from Asterisk; try again shortly', connected: true });
  release();
  await done;
  assert.deepEqual([...state], [['b', '6']]);
  assert.equal(host.liveness('p'), null);
  host.dispatch(ev('Newstate', 'c', '6'), 5);
  assert.equal(state.get('c'), '6', 'live again: applied at once');
  connected = false;
  host.disconnected();
  assert.match(host.liveness('p')!.reason, /not connected/);
  assert.equal(host.liveness('p')!.connected, false);
});

test('every handler of one AMI event reads the same time; outside dispatch the clock runs', async () => {
  const host = new PluginHost(testLogger('t'), () => true);
  const seen: { ms: number; iso: string; wall: number }[] = [];
  const read = () => {
    seen.push({ ms: clockMs(), iso: isoNow(), wall: Date.now() });
    // let the wall clock move on before the next handler reads
    const t = Date.now();
    while (Date.now() < t + 2) {
      /* spin */
    }
  };
  const handler = (name: string, fail = false) => ({
    name,
    description: 'test',
    setup: () => ({
      events: {
        Newstate: () => {
          read();
          if (fail) throw new Error('handler failed');
        },
      },
    }),
  });
  await host.load([handler('a', true), handler('b'), handler('c')], () => ({}) as PluginContext);
  host.dispatch(ev('Newstate', 'x', '6'), 1);
  assert.equal(seen.length, 3, 'a failing handler does not stop the others');
  const [first, , last] = seen as [(typeof seen)[0], (typeof seen)[0], (typeof seen)[0]];
  assert.ok(last.wall >= first.wall + 4, 'the wall clock moved on during the event');
  assert.deepEqual(
    seen.map((s) => [s.ms, s.iso]),
    seen.map(() => [first.ms, new Date(first.ms).toISOString()]),
    'every handler read the one held time',
  );
  // released after the event, the failed handler included: the clock runs again
  const after = clockMs();
  assert.ok(after >= last.wall, `clock after dispatch ${after} follows the wall clock (${last.wall})`);
  host.dispatch(ev('Newstate', 'x', '6'), 2);
  assert.ok(seen[3]!.ms >= after, 'the next event reads a new time');
});
