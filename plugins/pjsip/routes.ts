// HTTP routes of the pjsip plugin: pjsip.conf as a whole file with backups (core/config-routes.ts), and the live
// PJSIP objects at the spec's paths, answered from memory (state.ts) and refused with 503 while that is not current.
import type { Router } from '../../core/plugins/contract.ts';
import { ok, okBytes } from '../../core/http/envelope.ts';
import { notFound } from '../../core/http/errors.ts';
import { param, pathName } from '../../core/http/body.ts';
import type { LiveTable } from '../../core/live/table.ts';
import { renderRegistration, type PjsipState } from './state.ts';

// pjsip.conf's routes are in config-routes.ts (registerPjsipConfigRoutes); this name stays until index.ts imports it.
export { registerPjsipConfigRoutes as registerRoutes, PJSIP_FILE } from './config-routes.ts';

const live = { live: true };

/**
 *   GET /admin/pjsip/endpoints               (+ /<name>)
 *   GET /admin/pjsip/aors                    (+ /<name>)
 *   GET /admin/pjsip/auths                   (+ /<name>; also at /admin/pjsip/auth, the spec's heading)
 *   GET /admin/pjsip/contacts                (+ /<uri-encoded id>, e.g. gw-ep1%3B%40<hash>)
 *   GET /admin/pjsip/registration_outbounds  (+ /<name>)
 * A name from the URL is one path segment: "/", "\", "..", CR, LF are refused (400); an unknown name is 404.
 */
export function registerLiveRoutes(ctx: { readonly router: Router }, state: PjsipState): void {
  const r = ctx.router;
  const serve = <T extends object>(base: string, noun: string, table: LiveTable<T>, render?: (row: T, nowMs: number) => unknown, ticking = false) => {
    r.get(base, () => {
      const nowMs = Date.now();
      return okBytes(table.listBytes(render && ((row) => render(row, nowMs)), ticking ? Math.floor(nowMs / 1000) : 0));
    }, live);
    r.get(`${base}/:name`, (c) => {
      const name = pathName(param(c, 'name'), `${noun} name`);
      const row = table.get(name);
      if (!row) throw notFound(`no PJSIP ${noun} named ${JSON.stringify(name)}`);
      return ok(render ? render(row, Date.now()) : row);
    }, live);
  };
  serve('/admin/pjsip/endpoints', 'endpoint', state.endpoints);
  serve('/admin/pjsip/aors', 'aor', state.aors);
  serve('/admin/pjsip/auths', 'auth', state.auths);
  serve('/admin/pjsip/auth', 'auth', state.auths);
  serve('/admin/pjsip/contacts', 'contact', state.contacts);
  // next_reg counts down each second, so its list is cached per second
  serve('/admin/pjsip/registration_outbounds', 'outbound registration', state.registrations, renderRegistration, true);
}
