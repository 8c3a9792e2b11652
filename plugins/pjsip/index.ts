// pjsip plugin: pjsip.conf over REST (spec: /admin/pjsip/configurations). Writes are validated, backed up and followed
// by a reload of res_pjsip. Live PJSIP lists (endpoints, contacts, ...) are not part of it yet.
import { definePlugin } from '../../core/plugins/contract.ts';
import { registerRoutes } from './routes.ts';

export default definePlugin({
  name: 'pjsip',
  description: 'pjsip.conf: whole file with backups',
  setup(ctx) {
    registerRoutes(ctx);
    return {};
  },
});
