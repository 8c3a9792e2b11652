// HTTP routes of the agents plugin, at the spec's paths: /agents (ids), /agents/ (detail by a JSON body, as the
// spec does) and /agents/<id>; beyond the spec, POST /agents/<id>/logoff.
import { route } from '../../core/contract/route.ts';
import { listOf, opt, pathName } from '../../core/contract/schema.ts';
import { ok } from '../../core/http/envelope.ts';
import { badRequest } from '../../core/http/errors.ts';
import type { PluginContext } from '../../core/plugins/contract.ts';
import { AgentDetailQuerySchema, AgentIdSchema, AgentSchema, events, LogoffSchema } from './schemas.ts';
import type { AgentService } from './service.ts';
import type { AgentState } from './state.ts';
import type { AgentStatsBook } from './stats.ts';

const tags = ['agents'];
const idParam = { id: pathName('agent id') };

export function registerRoutes(ctx: PluginContext, state: AgentState, service: AgentService, book: AgentStatsBook): void {
  const r = ctx.router;

  r.add(
    route({
      method: 'GET',
      path: '/agents',
      summary: 'All agents (ids only, as the spec has it)',
      tags,
      live: true,
      responses: { 200: listOf(AgentIdSchema) },
      handler: () => ok({ list: [...state.agents.values()].map((a) => ({ id: a.id })) }),
    }),
  );
  // The spec gives the id in a JSON body of a GET; ?id= and /agents/<id> are offered too, since many clients cannot
  // send one.
  r.add(
    route({
      method: 'GET',
      path: '/agents/',
      summary: 'One agent (spec form: {"id"} in a GET body, or ?id=)',
      tags,
      live: true,
      body: AgentDetailQuerySchema,
      bodyOptional: true,
      query: { id: opt(pathName('agent id, when the client cannot send a GET body')) },
      responses: { 200: AgentSchema },
      errors: [404],
      handler: (_c, { body, query }) => {
        const id = body.id ?? query.id;
        if (!id) throw badRequest('id: is required (in the JSON body, as ?id=, or use /agents/<id>)', { field: 'id' });
        return ok(book.render(service.agentOr404(id)));
      },
    }),
  );
  r.add(
    route({
      method: 'GET',
      path: '/agents/:id',
      summary: 'One agent',
      tags,
      live: true,
      params: idParam,
      responses: { 200: AgentSchema },
      errors: [404],
      handler: (_c, { params }) => ok(book.render(service.agentOr404(params.id))),
    }),
  );
  r.add(
    route({
      method: 'POST',
      path: '/agents/:id/logoff',
      summary: 'Log an agent off (AgentLogoff)',
      tags,
      live: true,
      params: idParam,
      body: LogoffSchema,
      bodyOptional: true,
      responses: { 200: null },
      errors: [404, 409, 502],
      handler: async (_c, { params, body }) => {
        const agent = service.agentOr404(params.id);
        const soft = body.soft ?? false;
        await service.logoff(agent, soft);
        ctx.bus.publish(events.logoffRequested, { id: agent.id, soft });
        return ok();
      },
    }),
  );
}
