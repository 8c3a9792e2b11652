// pjsip.conf over REST (spec: /admin/pjsip/configurations): the whole file with backups (core/config-routes/). A
// write is followed by a reload of res_pjsip, whose Reload event makes the live state re-read everything. Wired
// from this plugin's index.ts: registerPjsipConfigRoutes(ctx).
import { registerConfigFileRoutes, type ConfigRoutesContext } from '../../core/config-routes/routes.ts';

export const PJSIP_FILE = 'pjsip.conf';

export function registerPjsipConfigRoutes(ctx: ConfigRoutesContext): void {
  registerConfigFileRoutes(ctx, { file: PJSIP_FILE, base: '/admin/pjsip/configurations', tag: 'pjsip' });
}
