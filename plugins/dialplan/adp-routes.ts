// HTTP routes of the async dialplans (spec: /admin/dialplan/adpmas, /admin/dialplan/adps, each + /<uuid>), kept in
// the gateway's store, and the calls running them now (/admin/dialplan/adp_sessions, live from AMI).
import { route } from '../../core/contract/route.ts';
import { line, listOf, opt, pathText } from '../../core/contract/schema.ts';
import { ok, okBytes } from '../../core/http/envelope.ts';
import { notFound } from '../../core/http/errors.ts';
import type { Router } from '../../core/plugins/contract.ts';
import type { AdpRunner } from './adp-runner.ts';
import { viewAdp, viewAdpma, type AdpService } from './adp-service.ts';
import {
  AdpCreateSchema,
  AdpSchema,
  AdpSessionSchema,
  AdpUpdateSchema,
  AdpmaCreateSchema,
  AdpmaSchema,
  AdpmaUpdateSchema,
} from './schemas.ts';

const tags = ['async dialplans'];
const adpmaUuid = { uuid: pathText('adpma uuid') };
const adpUuid = { uuid: pathText('adp uuid') };

export function registerAdpRoutes(r: Router, adps: AdpService, runner: AdpRunner): void {
  // ---- adpmas: named groups of adps ----
  r.add(
    route({
      method: 'GET',
      path: '/admin/dialplan/adpmas',
      summary: 'All adpmas (async dialplan groups)',
      tags,
      responses: { 200: listOf(AdpmaSchema) },
      handler: () => ok({ list: adps.listAdpmas() }),
    }),
  );
  r.add(
    route({
      method: 'POST',
      path: '/admin/dialplan/adpmas',
      summary: 'Create an adpma',
      tags,
      description: 'The dialplan hands a call to it with AGI(agi:async,<name>) (or its uuid). The answer is the new adpma.',
      body: AdpmaCreateSchema,
      responses: { 200: AdpmaSchema },
      errors: [409],
      handler: async (_c, { body }) => ok(viewAdpma(await adps.createAdpma(body))),
    }),
  );
  r.add(
    route({
      method: 'GET',
      path: '/admin/dialplan/adpmas/:uuid',
      summary: 'One adpma',
      tags,
      params: adpmaUuid,
      responses: { 200: AdpmaSchema },
      errors: [404],
      handler: (_c, { params }) => ok(viewAdpma(adps.adpma(params.uuid))),
    }),
  );
  r.add(
    route({
      method: 'PUT',
      path: '/admin/dialplan/adpmas/:uuid',
      summary: 'Change an adpma (the fields given)',
      tags,
      params: adpmaUuid,
      body: AdpmaUpdateSchema,
      responses: { 200: AdpmaSchema },
      errors: [404, 409],
      handler: async (_c, { params, body }) => ok(viewAdpma(await adps.updateAdpma(params.uuid, body))),
    }),
  );
  r.add(
    route({
      method: 'DELETE',
      path: '/admin/dialplan/adpmas/:uuid',
      summary: 'Delete an adpma and its adps',
      tags,
      description: 'Calls running it keep the adps they started with.',
      params: adpmaUuid,
      responses: { 200: null },
      errors: [404],
      handler: async (_c, { params }) => {
        await adps.deleteAdpma(params.uuid);
        return ok();
      },
    }),
  );

  // ---- adps: one AGI command each; ?dpma_uuid= narrows the list to one adpma, in run order ----
  r.add(
    route({
      method: 'GET',
      path: '/admin/dialplan/adps',
      summary: "All adps, or one adpma's in run order",
      tags,
      query: { dpma_uuid: opt(line('only the adps of this adpma, in sequence order')) },
      responses: { 200: listOf(AdpSchema) },
      errors: [404],
      handler: (_c, { query }) => {
        if (query.dpma_uuid !== undefined) adps.adpma(query.dpma_uuid); // 404 for an unknown adpma rather than an empty list
        return ok({ list: adps.listAdps(query.dpma_uuid) });
      },
    }),
  );
  r.add(
    route({
      method: 'POST',
      path: '/admin/dialplan/adps',
      summary: 'Create an adp (one step of an adpma)',
      tags,
      description: "Without a sequence it goes after the adpma's last adp. The answer is the new adp.",
      body: AdpCreateSchema,
      responses: { 200: AdpSchema },
      errors: [404, 409],
      handler: async (_c, { body }) => ok(viewAdp(await adps.createAdp(body))),
    }),
  );
  r.add(
    route({
      method: 'GET',
      path: '/admin/dialplan/adps/:uuid',
      summary: 'One adp',
      tags,
      params: adpUuid,
      responses: { 200: AdpSchema },
      errors: [404],
      handler: (_c, { params }) => ok(viewAdp(adps.adp(params.uuid))),
    }),
  );
  r.add(
    route({
      method: 'PUT',
      path: '/admin/dialplan/adps/:uuid',
      summary: 'Change an adp (the fields given; null clears name, detail, command)',
      tags,
      params: adpUuid,
      body: AdpUpdateSchema,
      responses: { 200: AdpSchema },
      errors: [404, 409],
      handler: async (_c, { params, body }) => ok(viewAdp(await adps.updateAdp(params.uuid, body))),
    }),
  );
  r.add(
    route({
      method: 'DELETE',
      path: '/admin/dialplan/adps/:uuid',
      summary: 'Delete an adp',
      tags,
      params: adpUuid,
      responses: { 200: null },
      errors: [404],
      handler: async (_c, { params }) => {
        await adps.deleteAdp(params.uuid);
        return ok();
      },
    }),
  );

  // ---- calls in AGI(agi:async) now, read-only; keyed by the channel's unique id ----
  r.add(
    route({
      method: 'GET',
      path: '/admin/dialplan/adp_sessions',
      summary: 'Calls running an async dialplan now',
      tags,
      live: true,
      responses: { 200: listOf(AdpSessionSchema) },
      handler: () => okBytes(runner.sessions.listBytes()),
    }),
  );
  r.add(
    route({
      method: 'GET',
      path: '/admin/dialplan/adp_sessions/:id',
      summary: 'One call running an async dialplan',
      tags,
      live: true,
      params: { id: pathText('unique id of the channel') },
      responses: { 200: AdpSessionSchema },
      errors: [404],
      handler: (_c, { params }) => {
        const s = runner.sessions.get(params.id);
        if (!s) throw notFound(`no async dialplan session on a channel with unique_id ${params.id}`);
        return ok(s);
      },
    }),
  );
}
