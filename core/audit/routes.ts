// GET /admin/audit: the audit log, newest first, filtered by user, route or path prefix, and time.
import { route } from '../contract/route.ts';
import { line, listOf, opt, queryInt } from '../contract/schema.ts';
import { ok } from '../http/envelope.ts';
import { badRequest } from '../http/errors.ts';
import type { Router } from '../plugins/contract.ts';
import { type AuditLog, AuditEntrySchema } from './audit.ts';

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?Z$/;

export function registerAuditRoutes(r: Router, audit: AuditLog): void {
  r.add(
    route({
      method: 'GET',
      path: '/admin/audit',
      summary: 'The audit log: who changed what, newest first',
      description:
        'Every successful change made through the API (a POST, PUT, PATCH or DELETE that needs a login): the user or API key, ' +
        'the route and its object, the status, and for config writes the backup made and the reload outcome. Bodies are never logged.',
      tags: ['audit'],
      query: {
        user: opt(line('a user uuid or an API key id')),
        path: opt(line('a prefix of the route (/admin/queue/members/{name}) or of the path called')),
        since: opt(line('ISO 8601 UTC time, e.g. 2026-12-01T00:00:00Z')),
        until: opt(line('ISO 8601 UTC time')),
        limit: opt(queryInt('at most this many entries (default 100, at most 10000)')),
      },
      responses: { 200: listOf(AuditEntrySchema) },
      handler: async (_c, { query }) => {
        for (const k of ['since', 'until'] as const) {
          const t = query[k];
          if (t !== undefined && !ISO.test(t))
            throw badRequest(`${k}: must be an ISO 8601 UTC time such as 2026-12-01T00:00:00Z`, { field: k });
        }
        const limit = Math.min(query.limit ?? 100, 10_000);
        return ok({ list: await audit.query({ ...query, limit }) });
      },
    }),
  );
}
