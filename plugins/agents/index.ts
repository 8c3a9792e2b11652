// agents plugin: app_agent_pool agents and their status (spec: /agents, /agents/), plus logoff.
import { definePlugin } from '../../core/plugins/contract.ts';
import type { AmiMessage } from '../../core/ami/message.ts';
import { registerRoutes } from './routes.ts';
import { AgentService } from './service.ts';
import { AgentState, type Agent } from './state.ts';

export default definePlugin({
  name: 'agents',
  description: 'call-centre agents and their status (app_agent_pool)',
  setup(ctx) {
    const state = new AgentState();
    const service = new AgentService(ctx.ami, state, ctx.log);
    registerRoutes(ctx, state, service);
    const publish = (agent: Agent | undefined) => {
      if (agent && !service.reads.replaying) ctx.bus.publish('agents.agent.updated', agent);
    };
    service.onChange = publish;
    const on = (fn: (m: AmiMessage) => void) => service.reads.live(fn);
    // Asterisk says ONCALL when the agent's channel has a bridge peer: confirm each call event with a re-read.
    const call = (status: 'AGENT_ONCALL' | 'AGENT_IDLE') =>
      on((m) => {
        publish(state.callState(m, status));
        if (!service.reads.replaying) service.rereadSoon();
      });
    const bridge = (m: AmiMessage) => {
      if (state.byChannel(m.fields.Uniqueid)) service.rereadSoon();
    };
    return {
      resync: () => service.resync(),
      reset: () => service.reset(),
      close: () => service.close(),
      events: {
        AgentLogin: on((m) => {
          const { agent, known } = state.login(m);
          if (!known && !service.reads.replaying) service.rereadSoon(); // added to agents.conf since the last read: fetch its name
          publish(agent);
        }),
        AgentLogoff: on((m) => publish(state.logoff(m))),
        AgentConnect: call('AGENT_ONCALL'),
        AgentComplete: call('AGENT_IDLE'),
        AgentRingNoAnswer: call('AGENT_IDLE'),
        BridgeEnter: bridge,
        BridgeLeave: bridge,
        Reload: (m) => {
          if (/^(app_agent_pool(\.so)?|All)$/i.test(m.fields.Module ?? '')) service.rereadSoon();
        },
      },
    };
  },
});
