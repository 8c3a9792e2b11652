// pjsip.conf over REST (spec: /admin/pjsip/configurations): the whole file with backups, and its sections
// (/admin/pjsip/cfg_sections: endpoint, aor, auth, transport ... each a section whose `type =` says which; several
// may share a name, told apart by ?index=) through core/config-routes/. Section writes are checked against the options
// Asterisk registers for the section's type (core/config-routes/options.ts). A write is followed by a reload of
// res_pjsip, whose Reload event makes the live state re-read everything. Wired from this plugin's index.ts:
// registerPjsipConfigRoutes(ctx).
import { registerConfigFileRoutes, registerConfigSectionRoutes, type ConfigRoutesContext } from '../../core/config-routes/routes.ts';

export const PJSIP_FILE = 'pjsip.conf';

export function registerPjsipConfigRoutes(ctx: ConfigRoutesContext): void {
  registerConfigFileRoutes(ctx, { file: PJSIP_FILE, base: '/admin/pjsip/configurations', tag: 'pjsip' });
  registerConfigSectionRoutes(ctx, { file: PJSIP_FILE, base: '/admin/pjsip/cfg_sections', tag: 'pjsip', form: 'object', noun: 'section' });
}
