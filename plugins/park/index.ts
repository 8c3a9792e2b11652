// park plugin: parking lots and parked calls (spec: /admin/park/parkinglots, /admin/park/parkedcalls); lots are
// edited in res_parking.conf.
import { definePlugin } from '../../core/plugins/contract.ts';
import type { AmiMessage } from '../../core/ami/message.ts';
import { registerRoutes } from './routes.ts';
import { registerParkConfigRoutes } from './config-routes.ts';
import { ParkService } from './service.ts';
import { ParkState, renderParkedCall, type ParkedCall } from './state.ts';

export default definePlugin({
  name: 'park',
  description: 'parking lots and parked calls (res_parking)',
  setup(ctx) {
    const state = new ParkState();
    const service = new ParkService(ctx.ami, state, ctx.configFiles, ctx.log);
    registerRoutes(ctx, state, service);
    registerParkConfigRoutes(ctx);
    const publish = (type: string, call: ParkedCall | undefined) => {
      if (call && !service.reads.replaying) ctx.bus.publish(type, renderParkedCall(call));
    };
    const on = (fn: (m: AmiMessage) => void) => service.reads.live(fn);
    const left = (type: string) => on((m) => publish(type, state.left(m)));
    return {
      resync: () => service.resync(),
      reset: () => service.reset(),
      close: () => service.close(),
      events: {
        ParkedCall: on((m) => {
          const { call, lotKnown } = state.parked(m);
          if (!lotKnown) service.resyncSoon(); // a lot made since the last read (dynamic lots, or a reload)
          publish('park.parkedcall.parked', call);
        }),
        ParkedCallSwap: on((m) => publish('park.parkedcall.swapped', state.swapped(m))),
        UnParkedCall: left('park.parkedcall.unparked'),
        ParkedCallTimeOut: left('park.parkedcall.timeout'),
        ParkedCallGiveUp: left('park.parkedcall.giveup'),
        Reload: (m) => {
          if (/^(res_parking(\.so)?|All)$/i.test(m.fields.Module ?? '')) service.resyncSoon();
        },
      },
    };
  },
});
