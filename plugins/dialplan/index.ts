// dialplan plugin: extensions.conf over REST (spec: /admin/dialplan/configurations, /admin/dialplan/sdps,
// /manager/sdialplans). Config only: no live state, so it needs no AMI events and no resync; every write is followed
// by `dialplan reload` (made after reconnect when AMI is down).
import { definePlugin } from '../../core/plugins/contract.ts';
import { registerRoutes } from './routes.ts';

export default definePlugin({
  name: 'dialplan',
  description: 'extensions.conf: whole file with backups, static dialplan contexts',
  setup(ctx) {
    registerRoutes(ctx);
    return {};
  },
});
