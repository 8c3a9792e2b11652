// Use cases of the agents plugin that talk to Asterisk: the Agents resync (also re-run, debounced, after call
// events, since app_agent_pool decides ONCALL from the agent channel's bridge) and AgentLogoff.
import type { AmiMessage } from '../../core/ami/message.ts';
import type { AmiPort } from '../../core/ami/port.ts';
import type { Logger } from '../../core/log.ts';
import { conflict, notFound } from '../../core/http/errors.ts';
import type { Agent, AgentState } from './state.ts';

/** Delay of the Agents re-read after a call event; bursts coalesce into one read. */
export const REREAD_DEBOUNCE_MS = 250;

type Applier = (m: AmiMessage) => void;

export class AgentService {
  private pending: [Applier, AmiMessage][] | null = null;
  private chain: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  replaying = false;
  /** Told of every agent a re-read found changed (so changes that came without an event are published too). */
  onChange: ((a: Agent) => void) | undefined;

  constructor(
    private readonly ami: AmiPort,
    private readonly state: AgentState,
    private readonly log: Logger,
  ) {}

  /** Wrap an event applier so it is also recorded for replay while a resync runs. */
  live(fn: Applier): Applier {
    return (m) => {
      this.pending?.push([fn, m]);
      fn(m);
    };
  }

  resync(): Promise<void> {
    const run = this.chain.catch(() => undefined).then(() => this.load());
    this.chain = run;
    return run;
  }

  private async load(): Promise<void> {
    this.pending = [];
    try {
      const r = await this.ami.list('Agents');
      const changed = this.state.load(r.events);
      for (const a of changed) this.onChange?.(a);
      const events = this.pending;
      this.pending = null;
      this.replaying = true;
      try {
        for (const [fn, m] of events) fn(m);
      } finally {
        this.replaying = false;
      }
    } finally {
      this.pending = null;
    }
  }

  /** Re-read every agent from Asterisk shortly (debounced). */
  rereadSoon(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.ami.connected) return;
      this.resync().catch((e) => this.log.debug(`agents re-read failed: ${(e as Error).message}`));
    }, REREAD_DEBOUNCE_MS);
    this.timer.unref?.();
  }

  reset(): void {
    this.close();
    this.state.reset();
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
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
      if ((e as Error).name === 'AmiError' && /No such agent/i.test((e as Error).message)) throw notFound(`no agent with id ${agent.id}`);
      throw e;
    }
  }
}
