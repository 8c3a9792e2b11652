// HTTP routes of the pjsip plugin: the live PJSIP objects at the spec's paths, answered from memory (state.ts) and
// refused with 503 while that is not current. pjsip.conf's routes are config-routes.ts.
import { route } from '../../core/contract/route.ts';
import { listOf, pathName, type v } from '../../core/contract/schema.ts';
import type { Router } from '../../core/plugins/contract.ts';
import { ok, okBytes } from '../../core/http/envelope.ts';
import { notFound } from '../../core/http/errors.ts';
import type { LiveTable } from '../../core/live/table.ts';
import { renderRegistration } from './rows.ts';
import { AorSchema, AuthSchema, ContactSchema, EndpointSchema, RegistrationOutboundSchema } from './schemas.ts';
import type { PjsipState } from './state.ts';

const tags = ['pjsip'];

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
  const serve = <T extends object, S extends v.GenericSchema>(
    base: string,
    noun: string,
    plural: string,
    table: LiveTable<T>,
    schema: S,
    render?: (row: T, nowMs: number) => v.InferOutput<S>,
    ticking = false,
  ) => {
    r.add(
      route({
        method: 'GET',
        path: base,
        summary: `All PJSIP ${plural}`,
        tags,
        live: true,
        responses: { 200: listOf(schema) },
        handler: () => {
          const nowMs = Date.now();
          return okBytes(table.listBytes(render && ((row) => render(row, nowMs)), ticking ? Math.floor(nowMs / 1000) : 0));
        },
      }),
    );
    r.add(
      route({
        method: 'GET',
        path: `${base}/:name`,
        summary: `One PJSIP ${noun}`,
        tags,
        live: true,
        params: { name: pathName(noun === 'contact' ? 'contact id (URI-encoded)' : `${noun} name`) },
        responses: { 200: schema },
        errors: [404],
        handler: (_c, { params }) => {
          const row = table.get(params.name);
          if (!row) throw notFound(`no PJSIP ${noun} named ${JSON.stringify(params.name)}`);
          return ok(render ? render(row, Date.now()) : row);
        },
      }),
    );
  };
  serve('/admin/pjsip/endpoints', 'endpoint', 'endpoints', state.endpoints, EndpointSchema);
  serve('/admin/pjsip/aors', 'aor', 'AORs', state.aors, AorSchema);
  serve('/admin/pjsip/auths', 'auth', 'auths (secrets are answered as "")', state.auths, AuthSchema);
  serve('/admin/pjsip/auth', 'auth', "auths (the spec's heading; the same as /admin/pjsip/auths)", state.auths, AuthSchema);
  serve('/admin/pjsip/contacts', 'contact', 'contacts (registered and static)', state.contacts, ContactSchema);
  // next_reg counts down each second, so its list is cached per second
  serve(
    '/admin/pjsip/registration_outbounds',
    'outbound registration',
    'outbound registrations',
    state.registrations,
    RegistrationOutboundSchema,
    renderRegistration,
    true,
  );
}
