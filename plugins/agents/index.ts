// agents plugin: app_agent_pool agents and their status (spec: /agents, /agents/), plus logoff.
import { definePlugin } from '../../core/plugins/contract.ts';
import type { AmiMessage } from '../../core/ami/message.ts';
import { LiveKit } from '../../core/live/kit.ts';
import { registerRoutes } from './routes.ts';
import { SavedLog, systemClock } from '../../core/live/windows.ts';
import { events, type StoredAgent } from './schemas.ts';
import { AgentService } from './service.ts';
import { AgentState } from './state.ts';
import { AgentStatsBook } from './stats.ts';

export default definePlugin({
  name: 'agents',
  description: 'call-centre agents and their status (app_agent_pool)',
  publishes: Object.values(events),
  setup(ctx) {
    const state = new AgentState();
    const live = new LiveKit(ctx);
    const service = new AgentService(ctx.ami, state, live);
    const book = new AgentStatsBook(systemClock, () => ctx.config.queue_stats.reset_at);
    const saved = new SavedLog(ctx.store, 'agent_stats_calls', book.calls, ctx.config.queue_stats.save_interval_s * 1000, (e) =>
      ctx.log.warn(`saving the agent call records failed: ${e.message}`),
    );
    saved.load();
    saved.start();
    registerRoutes(ctx, state, service, book);
    const publish = (agent: StoredAgent | undefined) => live.publish(events.agentUpdated, agent && book.render(agent));
    service.onChange = publish;
    // Asterisk says ONCALL when the agent's channel has a bridge peer: confirm each call event with a re-read.
    const call = (status: 'AGENT_ONCALL' | 'AGENT_IDLE') =>
      live.on((m) => {
        if (status === 'AGENT_ONCALL') {
          // counted whatever the status shows (a re-read may have set ONCALL first); a replay is not counted twice
          const a = state.agentForMember(m);
          if (a && m.fields.Uniqueid && book.answered(a.id, m.fields.Uniqueid) && a.status === 'AGENT_ONCALL') publish(a);
        }
        publish(state.callState(m, status));
        if (!live.replaying) service.rereadSoon();
      });
    const bridge = (m: AmiMessage) => {
      if (state.byChannel(m.fields.Uniqueid)) service.rereadSoon();
    };
    const lifecycle = live.lifecycle({ resync: () => service.resync(), reset: () => state.reset() });
    return {
      ...lifecycle,
      close: async () => {
        lifecycle.close();
        await saved.close().catch((e: Error) => ctx.log.warn(`saving the agent call records failed: ${e.message}`));
      },
      snapshots: {
        'agents.agent': () => {
          const calls = book.perAgent();
          return [...state.agents.values()].map((a) => book.render(a, calls.get(a.id)));
        },
      },
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
