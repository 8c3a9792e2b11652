// HTTP routes of the park plugin, at the spec's paths. Lots and parked calls come from live state; a lot's PUT and
// PATCH and DELETE edit its section of res_parking.conf and reload res_parking; DELETE of a parked call hangs it up.
import { route } from '../../core/contract/route.ts';
import { listOf, name, named, line, obj, opt, pathName, v, int } from '../../core/contract/schema.ts';
import { ConfigDryRunSchema, WRITE_MODE_QUERY, writeMode } from '../../core/config-files.ts';
import { ok, okBytes } from '../../core/http/envelope.ts';
import { badRequest } from '../../core/http/errors.ts';
import type { PluginContext } from '../../core/plugins/contract.ts';
import {
  events,
  ParkedCallSchema,
  ParkingLotEditSchema,
  ParkingLotOptionsSchema,
  ParkingLotPatchSchema,
  ParkingLotSchema,
} from './schemas.ts';
import type { ParkService } from './service.ts';
import { renderParkedCall, type ParkState } from './state.ts';

const tags = ['park'];
const PickupAcceptedSchema = named(
  'PickupAccepted',
  obj({ unique_id: line("the picking channel's unique id"), other_unique_id: line('the second half of a Local channel (;2)') }),
);
const lotParam = { name: pathName('parking lot name') };
const callParam = { id: pathName('parkee unique id') };
const IF_MATCH =
  'Send If-Match with the ETag of res_parking.conf (GET /admin/park/configurations/res_parking.conf) to refuse the edit (412) when the file changed since.';

const MODES =
  '?dry_run=true answers the diff the edit would make (ConfigDryRun) and writes nothing; ?reload=later writes without ' +
  'reloading (POST /v1/admin/config/apply reloads). A lot Asterisk refuses after the reload is rolled back: 422 reload_rejected.';

export function registerRoutes(ctx: PluginContext, state: ParkState, service: ParkService): void {
  const r = ctx.router;

  // ---- parking lots ----
  r.add(
    route({
      method: 'GET',
      path: '/admin/park/parkinglots',
      summary: 'All parking lots',
      tags,
      live: true,
      responses: { 200: listOf(ParkingLotSchema) },
      handler: () => okBytes(state.lots.listBytes()),
    }),
  );
  r.add(
    route({
      method: 'GET',
      path: '/admin/park/parkinglots/:name',
      summary: 'One parking lot',
      tags,
      live: true,
      params: lotParam,
      responses: { 200: ParkingLotSchema },
      errors: [404],
      handler: (_c, { params }) => ok(service.lotOr404(params.name)),
    }),
  );
  r.add(
    route({
      method: 'PUT',
      path: '/admin/park/parkinglots/:name',
      summary: 'Create a parking lot, or replace all its options (PATCH changes some)',
      description: `PUT replaces: the lot's section becomes exactly the options given; options of the lot that the body leaves out are removed from res_parking.conf (keys already in the file keep their place). To change some options and keep the rest, use PATCH. Then res_parking is reloaded. A value written "> x", as in the spec's example, is written \`key => x\`. ${IF_MATCH} ${MODES}`,
      tags,
      params: lotParam,
      query: WRITE_MODE_QUERY,
      body: ParkingLotOptionsSchema,
      responses: { 200: v.union([ParkingLotEditSchema, ConfigDryRunSchema]) },
      errors: [404, 409, 412, 422, 504, 507],
      handler: async (c, { params, query, body }) => {
        const name = service.lotName(params.name);
        const out = await service.putLot(name, service.lotSettings(body), ifMatch(c.req.header('if-match')), writeMode(query));
        if (!('dry_run' in out)) ctx.bus.publish(events.lotUpdated, { name, ...out });
        return ok(out);
      },
    }),
  );
  r.add(
    route({
      method: 'PATCH',
      path: '/admin/park/parkinglots/:name',
      summary: 'Change some options of a parking lot',
      description: `Only the options given change: each is rewritten in its line (its comment and its = or => stay); null removes an option; an option the lot lacks is added after its last one. Options left out keep their value and place, and every other line of res_parking.conf keeps its bytes (PUT, by contrast, replaces all options). The lot must be in res_parking.conf (404: PUT creates one). Then res_parking is reloaded. ${IF_MATCH} ${MODES}`,
      tags,
      params: lotParam,
      query: WRITE_MODE_QUERY,
      body: ParkingLotPatchSchema,
      responses: { 200: v.union([ParkingLotEditSchema, ConfigDryRunSchema]) },
      errors: [404, 409, 412, 422, 504, 507],
      handler: async (c, { params, query, body }) => {
        const name = service.lotName(params.name);
        const out = await service.patchLot(name, body, ifMatch(c.req.header('if-match')), writeMode(query));
        if (!('dry_run' in out)) ctx.bus.publish(events.lotUpdated, { name, ...out });
        return ok(out);
      },
    }),
  );
  r.add(
    route({
      method: 'DELETE',
      path: '/admin/park/parkinglots/:name',
      summary: 'Remove a parking lot from res_parking.conf',
      description: `Every section of that name goes, then res_parking is reloaded. ${IF_MATCH} ${MODES}`,
      tags,
      params: lotParam,
      query: WRITE_MODE_QUERY,
      responses: { 200: v.union([ParkingLotEditSchema, ConfigDryRunSchema]) },
      errors: [404, 409, 412, 422, 504, 507],
      handler: async (c, { params, query }) => {
        const name = service.lotName(params.name);
        const out = await service.deleteLot(name, ifMatch(c.req.header('if-match')), writeMode(query));
        if (!('dry_run' in out)) ctx.bus.publish(events.lotDeleted, { name, ...out });
        return ok(out);
      },
    }),
  );

  // ---- parked calls ----
  r.add(
    route({
      method: 'GET',
      path: '/admin/park/parkedcalls',
      summary: 'All parked calls',
      tags,
      live: true,
      responses: { 200: listOf(ParkedCallSchema) },
      handler: () => {
        const nowMs = Date.now();
        return okBytes(state.calls.listBytes((p) => renderParkedCall(p, nowMs), Math.floor(nowMs / 1000)));
      },
    }),
  );
  r.add(
    route({
      method: 'GET',
      path: '/admin/park/parkedcalls/:id',
      summary: 'One parked call',
      tags,
      live: true,
      params: callParam,
      responses: { 200: ParkedCallSchema },
      errors: [404],
      handler: (_c, { params }) => ok(renderParkedCall(service.callOr404(params.id))),
    }),
  );
  r.add(
    route({
      method: 'POST',
      path: '/admin/park/parkedcalls/:id/pickup',
      summary: 'Pick up a parked call',
      description:
        'Beyond the original spec (issue 13). Originates `channel` (e.g. PJSIP/1001) into the parked call: once it answers it runs ParkedCall(<lot>,<space>) and talks to the parkee. Answers 202 with the unique id the new channel gets; the parked call leaves the lot when it is picked up (park.parkedcall.unparked).',
      tags,
      live: true,
      params: callParam,
      body: obj({
        channel: name('who picks the call up, e.g. PJSIP/1001'),
        timeout_s: opt(
          v.pipe(
            int('seconds to wait for that channel to answer (default 30)'),
            v.minValue(1, 'must be from 1 to 3600'),
            v.maxValue(3600, 'must be from 1 to 3600'),
          ),
        ),
      }),
      responses: {
        202: PickupAcceptedSchema,
      },
      errors: [404, 502],
      handler: async (_c, { params, body }) => ok(await service.pickup(service.callOr404(params.id), body.channel, body.timeout_s), 202),
    }),
  );
  r.add(
    route({
      method: 'DELETE',
      path: '/admin/park/parkedcalls/:id',
      summary: 'Hang up a parked call',
      tags,
      live: true,
      params: callParam,
      responses: { 200: null },
      errors: [404, 502],
      handler: async (_c, { params }) => {
        await service.hangup(service.callOr404(params.id));
        return ok();
      },
    }),
  );
}

/** The If-Match header as the config store takes it (a header is not part of the declared input). */
function ifMatch(v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  if (/[\r\n]/.test(v)) throw badRequest('If-Match: must be one line');
  return v.trim();
}
