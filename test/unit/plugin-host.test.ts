// The plugin host's resync ordering: events that arrive while a plugin resyncs are held; those already inside the
// snapshot (seq <= the list's completion seq) are dropped, later ones are applied on top in wire order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PluginHost } from '../../core/plugins/host.ts';
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
