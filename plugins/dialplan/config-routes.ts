// extensions.conf over REST (spec: /admin/dialplan/configurations, /admin/dialplan/sdps, /manager/sdialplans): the
// whole file with backups, and its contexts one by one. All of it is core/config-routes/; this file only says which
// file, which paths and which sections. Wired from this plugin's index.ts: registerDialplanConfigRoutes(ctx).
import { registerConfigFileRoutes, registerConfigSectionRoutes, type ConfigRoutesContext } from '../../core/config-routes/routes.ts';

export const DIALPLAN_FILE = 'extensions.conf';

/** pbx_config reads these two sections as settings, not contexts (compared case-insensitively, as it does). */
export function isDialplanContext(name: string): boolean {
  return !/^(general|globals)$/i.test(name);
}

export function registerDialplanConfigRoutes(ctx: ConfigRoutesContext): void {
  const common = { file: DIALPLAN_FILE, tag: 'dialplan', form: 'array', noun: 'context' } as const;
  registerConfigFileRoutes(ctx, { file: DIALPLAN_FILE, base: '/admin/dialplan/configurations', tag: 'dialplan' });
  // Admins see every section of extensions.conf, [general] and [globals] included.
  registerConfigSectionRoutes(ctx, { ...common, base: '/admin/dialplan/sdps' });
  // Managers edit dialplan contexts only.
  registerConfigSectionRoutes(ctx, {
    ...common,
    base: '/manager/sdialplans',
    filter: isDialplanContext,
    filterNote: '[general] and [globals]',
  });
}
