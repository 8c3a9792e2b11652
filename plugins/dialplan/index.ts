// dialplan plugin: extensions.conf over REST (spec: /admin/dialplan/configurations, /admin/dialplan/sdps,
// /manager/sdialplans), and async dialplans run over AsyncAGI (spec: /admin/dialplan/adpmas, /admin/dialplan/adps;
// live sessions at /admin/dialplan/adp_sessions). Config writes are followed by `dialplan reload` (made after
// reconnect when AMI is down). The async dialplans live in the gateway's store; calls reach them through
// AGI(agi:async,<adpma>) and are driven from the AsyncAGI events (adp-runner.ts).
import { definePlugin } from '../../core/plugins/contract.ts';
import { registerDialplanConfigRoutes } from './config-routes.ts';
import { AdpService } from './adp-service.ts';
import { AdpRunner } from './adp-runner.ts';
import { registerAdpRoutes } from './adp-routes.ts';
import { events } from './schemas.ts';

export default definePlugin({
  name: 'dialplan',
  description: 'extensions.conf: whole file with backups, static dialplan contexts; async dialplans over AsyncAGI',
  publishes: Object.values(events),
  setup(ctx) {
    registerDialplanConfigRoutes(ctx);
    const adps = new AdpService(ctx.store);
    const runner = new AdpRunner(ctx.ami, adps, ctx.bus, ctx.log);
    registerAdpRoutes(ctx.router, adps, runner);
    return {
      events: runner.events,
      snapshots: { 'dialplan.adp_session': () => [...runner.sessions.values()] },
      resync: () => runner.resync(),
      reset: () => runner.reset(),
      close: () => runner.close(),
    };
  },
});
