// /manager/trunks: SIP providers as same-named sections of pjsip.conf (trunk-service.ts), with their live status
// from the pjsip plugin's state. Wired from this plugin's index.ts: registerTrunkRoutes(ctx, state).
//
//   GET    /manager/trunks           {list: [Trunk]}
//   POST   /manager/trunks           TrunkCreate -> TrunkWritten     (409 when the name is taken in pjsip.conf)
//   GET    /manager/trunks/<name>    Trunk
//   PUT    /manager/trunks/<name>    TrunkUpdate -> TrunkWritten     (only the fields given change)
//   PATCH  /manager/trunks/<name>    TrunkPatch -> TrunkWritten      (the same; null removes an optional option)
//   DELETE /manager/trunks/<name>    TrunkDeleted                    (exactly the trunk's sections go)
//
// Answers carry pjsip.conf's ETag header; writes honour If-Match (412, nothing written). The GETs show live state
// and so answer 503 while it is not current; writes only need the file (the reload is made when AMI is back).
import type { Context } from 'hono';
import { route } from '../../core/contract/route.ts';
import { listOf, v } from '../../core/contract/schema.ts';
import { ConfigDryRunSchema, WRITE_MODE_QUERY, writeMode } from '../../core/config-files.ts';
import type { ConfigRoutesContext } from '../../core/config-routes/routes.ts';
import { ok } from '../../core/http/envelope.ts';
import { TrunkService, TRUNK_FILE, type Tagged, type TrunkLiveState } from './trunk-service.ts';
import {
  TrunkCreateSchema,
  TrunkDeletedSchema,
  TrunkPatchSchema,
  TrunkPathNameSchema,
  TrunkSchema,
  TrunkUpdateSchema,
  TrunkWrittenSchema,
} from './trunk-schemas.ts';

const tags = ['pjsip'];
const BASE = '/manager/trunks';

const IF_MATCH =
  `Send the ETag header of the GET you based the change on as If-Match: if ${TRUNK_FILE} changed since, the answer is ` +
  '412 and nothing is written.';
const WRITE =
  `One write of ${TRUNK_FILE} (one backup, named in \`backup\`), then one reload of res_pjsip (\`reload\`: done, failed, ` +
  'pending while Asterisk is not connected, none when nothing changed). Comments and every other section keep their ' +
  `bytes. A refused request writes nothing. ${IF_MATCH} ?dry_run=true answers the diff (ConfigDryRun) and writes ` +
  'nothing; ?reload=later leaves the reload for POST /v1/admin/config/apply; an endpoint res_pjsip does not list after ' +
  'the reload is rolled back (422 reload_rejected).';
const STATUS = '`status` is live: it follows the reload a moment after a write.';

const ifMatch = (c: Context) => c.req.header('if-match');
const tagged = <T>({ result, etag }: Tagged<T>) => ok(result, 200, etag ? { etag } : undefined);

export function registerTrunkRoutes(ctx: ConfigRoutesContext, state: TrunkLiveState): void {
  const r = ctx.router;
  const svc = new TrunkService(ctx.configFiles, state, ctx.configOptions);
  const params = { name: TrunkPathNameSchema };

  r.add(
    route({
      method: 'GET',
      path: BASE,
      summary: 'All trunks (SIP providers)',
      tags,
      live: true,
      description:
        `Every name of ${TRUNK_FILE} whose sections make a trunk: plain sections (no templates) of types endpoint, aor, ` +
        'identify, and optionally auth and registration, one of each, the endpoint using the AOR of its name and the ' +
        `identify naming the endpoint. Hand-made trunks that follow this are listed too. ${STATUS}`,
      responses: { 200: listOf(TrunkSchema) },
      handler: async () => tagged(await svc.list()),
    }),
  );
  r.add(
    route({
      method: 'POST',
      path: BASE,
      summary: 'Create a trunk',
      tags,
      description:
        'Writes the endpoint, aor, identify, auth (with a username) and registration (with register: true) sections, ' +
        `all named after the trunk, at the end of ${TRUNK_FILE}. A name any section already has is 409. A username needs ` +
        `a password and register needs a username (400); a transport must be a transport section of ${TRUNK_FILE}. ` +
        `Defaults: allow "ulaw,alaw", qualify_frequency 60. ${WRITE}`,
      body: TrunkCreateSchema,
      query: WRITE_MODE_QUERY,
      responses: { 200: v.union([TrunkWrittenSchema, ConfigDryRunSchema]) },
      errors: [409, 412, 422, 504, 507],
      handler: async (c, { query, body }) => tagged(await svc.create(body, ifMatch(c), writeMode(query))),
    }),
  );
  r.add(
    route({
      method: 'GET',
      path: `${BASE}/:name`,
      summary: 'One trunk',
      tags,
      live: true,
      description: `A name whose sections are not a trunk is 404, saying why. ${STATUS}`,
      params,
      responses: { 200: TrunkSchema },
      errors: [404],
      handler: async (_c, { params }) => tagged(await svc.get(params.name)),
    }),
  );
  r.add(
    route({
      method: 'PUT',
      path: `${BASE}/:name`,
      summary: 'Change a trunk',
      tags,
      description:
        'Only the fields given change; a field left out keeps its value (the password too). "" removes an optional ' +
        'option (transport, caller_id, from_user, from_domain); username "" removes the auth section. register: true ' +
        'adds the registration section, false removes it. Options of the sections the gateway does not manage stay as ' +
        `they are. The name cannot change (400). ${WRITE}`,
      params,
      query: WRITE_MODE_QUERY,
      body: TrunkUpdateSchema,
      responses: { 200: v.union([TrunkWrittenSchema, ConfigDryRunSchema]) },
      errors: [404, 409, 412, 422, 504, 507],
      handler: async (c, { params, query, body }) => tagged(await svc.update(params.name, body, ifMatch(c), writeMode(query))),
    }),
  );
  r.add(
    route({
      method: 'PATCH',
      path: `${BASE}/:name`,
      summary: 'Change some fields of a trunk',
      tags,
      description:
        'The same partial change as PUT (which here, too, changes only the fields given): a field left out keeps its ' +
        'value, and null removes an optional option (transport, caller_id, from_user, from_domain; username: the auth ' +
        'section), as "" does. Only the lines of the options that change are rewritten. The name cannot change (400). ' +
        WRITE,
      params,
      query: WRITE_MODE_QUERY,
      body: TrunkPatchSchema,
      responses: { 200: v.union([TrunkWrittenSchema, ConfigDryRunSchema]) },
      errors: [404, 409, 412, 422, 504, 507],
      handler: async (c, { params, query, body }) => tagged(await svc.update(params.name, body, ifMatch(c), writeMode(query))),
    }),
  );
  r.add(
    route({
      method: 'DELETE',
      path: `${BASE}/:name`,
      summary: 'Delete a trunk',
      tags,
      description: `Removes exactly the trunk's sections (listed in the answer) and nothing else. ${WRITE}`,
      params,
      query: WRITE_MODE_QUERY,
      responses: { 200: v.union([TrunkDeletedSchema, ConfigDryRunSchema]) },
      errors: [404, 409, 412, 422, 504, 507],
      handler: async (c, { params, query }) => tagged(await svc.remove(params.name, ifMatch(c), writeMode(query))),
    }),
  );
}
