// HTTP routes of the dialplan plugin: extensions.conf as a whole file with backups, and its contexts one by one.
// All of it is core/config-routes.ts; this file only says which file, which paths and which sections.
import type { ConfigRoutesContext } from '../../core/config-routes.ts';
import { registerConfigFileRoutes, registerConfigSectionRoutes } from '../../core/config-routes.ts';

export const DIALPLAN_FILE = 'extensions.conf';

/** pbx_config reads these two sections as settings, not contexts (compared case-insensitively, as it does). */
export function isDialplanContext(name: string): boolean {
  return !/^(general|globals)$/i.test(name);
}

export function registerRoutes(ctx: ConfigRoutesContext): void {
  registerConfigFileRoutes(ctx, { file: DIALPLAN_FILE, base: '/admin/dialplan/configurations' });
  // Admins see every section of extensions.conf, [general] and [globals] included.
  registerConfigSectionRoutes(ctx, { file: DIALPLAN_FILE, base: '/admin/dialplan/sdps', form: 'array', noun: 'context' });
  // Managers edit dialplan contexts only.
  registerConfigSectionRoutes(ctx, {
    file: DIALPLAN_FILE,
    base: '/manager/sdialplans',
    form: 'array',
    noun: 'context',
    filter: isDialplanContext,
  });
}
