// HTTP routes of the pjsip plugin: pjsip.conf as a whole file with backups (core/config-routes.ts).
import type { ConfigRoutesContext } from '../../core/config-routes.ts';
import { registerConfigFileRoutes } from '../../core/config-routes.ts';

export const PJSIP_FILE = 'pjsip.conf';

export function registerRoutes(ctx: ConfigRoutesContext): void {
  registerConfigFileRoutes(ctx, { file: PJSIP_FILE, base: '/admin/pjsip/configurations' });
}
