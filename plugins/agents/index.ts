// agents plugin: app_agent_pool agents and their status (spec: /agents, /agents/), plus logoff.
import { definePlugin } from '../../core/plugins/contract.ts';
import type { AmiMessage } from '../../core/ami/message.ts';
import { LiveKit } from '../../core/live/kit.ts';
import { registerRoutes } from './routes.ts';
import { events, type Agent } from './schemas.ts';
import { AgentService } from './service.ts';
import { AgentState } from './state.ts';

export default definePlugin({
  name: 'agents',
  description: 'call-centre agents and their status (app_agent_pool)',
  publishes: Object.values(events),
  setup(ctx) {
    const state = new AgentState();
    const live = new LiveKit(ctx);
    const service = new AgentService(ctx.ami, state, live);
    registerRoutes(ctx, state, service);
    const publish = (agent: Agent | undefined) => live.publish(events.agentUpdated, agent);
    service.onChange = publish;
    // Asterisk says ONCALL when the agent's channel has a bridge peer: confirm each call event with a re-read.
    const call = (status: 'AGENT_ONCALL' | 'AGENT_IDLE') =>
      live.on((m) => {
        publish(state.callState(m, status));
        if (!live.replaying) service.rereadSoon();
      });
    const bridge = (m: AmiMessage) => {
      if (state.byChannel(m.fields.Uniqueid)) service.rereadSoon();
    };
    return {
      ...live.lifecycle({ resync: () => service.resync(), reset: () => state.reset() }),
      snapshots: { 'agents.agent': () => [...state.agents.values()] },
      events: {
        AgentLogin: live.on((m) => {
          const { agent, known } = state.login(m);
          if (!known && !live.replaying) service.rereadSoon(); // added to agents.conf since the last read: fetch its name
          publish(agent);
        }),
        AgentLogoff: live.on((m) => publish(state.logoff(m))),
        AgentConnect: call('AGENT_ONCALL'),
        AgentComplete: call('AGENT_IDLE'),
        AgentRingNoAnswer: call('AGENT_IDLE'),
        BridgeEnter: bridge,
        BridgeLeave: bridge,
        Reload: live.onReload('app_agent_pool', () => service.rereadSoon()),
      },
    };
  },
});
