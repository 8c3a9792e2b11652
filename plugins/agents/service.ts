// Use cases of the agents plugin that talk to Asterisk: the Agents resync (also re-run, debounced, after call
// events, since app_agent_pool decides ONCALL from the agent channel's bridge) and AgentLogoff.
import { AmiError } from '../../core/ami/errors.ts';
import type { AmiPort } from '../../core/ami/port.ts';
import { conflict, notFound } from '../../core/http/errors.ts';
import type { LiveKit } from '../../core/live/kit.ts';
import type { Debounced } from '../../core/live/reads.ts';
import type { StoredAgent as Agent } from './schemas.ts';
import type { AgentState } from './state.ts';

/** Delay of the Agents re-read after a call event; bursts coalesce into one read. */
export const REREAD_DEBOUNCE_MS = 250;

export class AgentService {
  private readonly soon: Debounced;
  /** Told of every agent a re-read found changed (so changes that came without an event are published too). */
  onChange: ((a: Agent) => void) | undefined;

  constructor(
    private readonly ami: AmiPort,
    private readonly state: AgentState,
    private readonly live: LiveKit,
  ) {
    this.soon = live.soon(REREAD_DEBOUNCE_MS, 'agents re-read', () => this.resync(), 'debug');
  }

  /** The Agents resync: it replays the events that arrived while it was in flight. */
  resync(): Promise<void> {
    return this.live.serialRead(
      () => this.ami.list('Agents'),
      (r) => {
        const changed = this.state.load(r.events);
        for (const a of changed) this.onChange?.(a);
      },
    );
  }

  /** Re-read every agent from Asterisk shortly (debounced). */
  rereadSoon(): void {
    this.soon.schedule();
  }

  agentOr404(id: string): Agent {
    const a = this.state.agents.get(id);
    if (!a) throw notFound(`no agent with id ${id} (agents are defined in agents.conf)`);
    return a;
  }

  async logoff(agent: Agent, soft: boolean): Promise<void> {
    if (agent.status === 'AGENT_LOGGEDOFF') throw conflict(`agent ${agent.id} is not logged in`);
    try {
      await this.ami.action('AgentLogoff', { Agent: agent.id, Soft: soft ? 'true' : undefined });
    } catch (e) {
      if (e instanceof AmiError && /No such agent/i.test(e.message)) throw notFound(`no agent with id ${agent.id}`);
      throw e;
    }
  }
}
