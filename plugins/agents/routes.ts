// HTTP routes of the agents plugin, at the spec's paths: /agents (ids), /agents/ (detail by a JSON body, as the
// spec does) and /agents/<id>; beyond the spec, POST /agents/<id>/logoff.
import type { PluginContext } from '../../core/plugins/contract.ts';
import { ok } from '../../core/http/envelope.ts';
import { detailKey, param, pathName, readJson, validate } from '../../core/http/body.ts';
import type { AgentService } from './service.ts';
import type { AgentState } from './state.ts';

const live = { live: true };

export function registerRoutes(ctx: PluginContext, state: AgentState, service: AgentService): void {
  const r = ctx.router;

  // The spec's list holds only ids; the detail routes give the rest.
  r.get('/agents', () => ok({ list: [...state.agents.values()].map((a) => ({ id: a.id })) }), live);
  r.get('/agents/', async (c) => ok(service.agentOr404(pathName(await detailKey(c, 'id', '/agents/<id>'), 'id'))), live);
  r.get('/agents/:id', (c) => ok(service.agentOr404(pathName(param(c, 'id'), 'agent id'))), live);
  r.post('/agents/:id/logoff', async (c) => {
    const agent = service.agentOr404(pathName(param(c, 'id'), 'agent id'));
    const body = validate(await readJson(c, { allowEmpty: true }), { soft: 'boolean?' });
    await service.logoff(agent, body.soft ?? false);
    ctx.bus.publish('agents.agent.logoff_requested', { id: agent.id, soft: body.soft ?? false });
    return ok();
  }, live);
}
