// park plugin: parking lots and parked calls (spec: /admin/park/parkinglots, /admin/park/parkedcalls); lots are
// edited in res_parking.conf.
import { definePlugin } from '../../core/plugins/contract.ts';
import type { AmiMessage } from '../../core/ami/message.ts';
import type { EventSpec } from '../../core/contract/events.ts';
import { LiveKit } from '../../core/live/kit.ts';
import { registerRoutes } from './routes.ts';
import { registerParkConfigRoutes } from './config-routes.ts';
import { events, type ParkedCallSchema } from './schemas.ts';
import { ParkService } from './service.ts';
import { ParkState, renderParkedCall, type ParkedCall } from './state.ts';

export default definePlugin({
  name: 'park',
  description: 'parking lots and parked calls (res_parking)',
  publishes: Object.values(events),
  setup(ctx) {
    const state = new ParkState();
    const live = new LiveKit(ctx);
    const service = new ParkService(ctx.ami, state, ctx.configFiles, ctx.log, live, ctx.configOptions);
    registerRoutes(ctx, state, service);
    registerParkConfigRoutes(ctx);
    const publish = (spec: EventSpec<typeof ParkedCallSchema>, call: ParkedCall | undefined) =>
      live.publish(spec, call && renderParkedCall(call));
    const left = (spec: EventSpec<typeof ParkedCallSchema>) => live.on((m: AmiMessage) => publish(spec, state.left(m)));
    return {
      ...live.lifecycle({ resync: () => service.resync(), reset: () => state.reset() }),
      snapshots: {
        'park.parkedcall': () => [...state.calls.values()].map((c) => renderParkedCall(c)),
      },
      events: {
        ParkedCall: live.on((m) => {
          const { call, lotKnown } = state.parked(m);
          if (!lotKnown) service.resyncSoon(); // a lot made since the last read (dynamic lots, or a reload)
          publish(events.parked, call);
        }),
        ParkedCallSwap: live.on((m) => publish(events.swapped, state.swapped(m))),
        UnParkedCall: left(events.unparked),
        ParkedCallTimeOut: left(events.timeout),
        ParkedCallGiveUp: left(events.giveup),
        Reload: live.onReload('res_parking', () => service.resyncSoon()),
      },
    };
  },
});
