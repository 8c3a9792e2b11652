// res_parking.conf over REST (spec: /admin/park/configurations, /admin/park/cfg_parkinglots): the whole file with
// backups, and its sections in the object form. Wired from this plugin's index.ts: registerParkConfigRoutes(ctx).
import { registerConfigFileRoutes, registerConfigSectionRoutes, type ConfigRoutesContext } from '../../core/config-routes/routes.ts';

export const PARK_FILE = 'res_parking.conf';

export function registerParkConfigRoutes(ctx: ConfigRoutesContext): void {
  registerConfigFileRoutes(ctx, { file: PARK_FILE, base: '/admin/park/configurations', tag: 'park' });
  registerConfigSectionRoutes(ctx, {
    file: PARK_FILE,
    base: '/admin/park/cfg_parkinglots',
    tag: 'park',
    form: 'object',
    noun: 'parking lot',
  });
}
