// Calls each agent answered from its queues, per window (last 15 min, last 60 min, since the daily reset), kept by
// the gateway from AgentConnect events whose member maps to the agent; and the agent's logged-in time so far.
import { type Clock, TimedLog, WINDOW_NAMES, windowStarts } from '../../core/live/windows.ts';
import type { Agent, StoredAgent } from './schemas.ts';

/** One answered queue call, as kept (and saved to the store). */
export interface AgentCall {
  /** ms since epoch when the agent answered */
  at: number;
  /** agent id */
  a: string;
  /** the caller's unique id (a replayed AgentConnect is not counted twice) */
  id: string;
}

export type AgentCalls = { last_15m: number; last_60m: number; since_reset: number; last: number };

const NONE: AgentCalls = { last_15m: 0, last_60m: 0, since_reset: 0, last: 0 };

export class AgentStatsBook {
  readonly calls: TimedLog<AgentCall>;

  constructor(
    private readonly clock: Clock,
    private readonly resetAt: () => string,
  ) {
    this.calls = new TimedLog<AgentCall>(clock, resetAt);
  }

  /** The agent answered the caller `callerId`; false when already counted (a replay). */
  answered(agentId: string, callerId: string): boolean {
    if (this.calls.findLast((c) => c.a === agentId && c.id === callerId)) return false;
    this.calls.add({ at: this.clock.now(), a: agentId, id: callerId });
    return true;
  }

  /** Calls per window and the last one's time (epoch s), per agent id, in one pass. */
  perAgent(): Map<string, AgentCalls> {
    const now = this.clock.now();
    const starts = windowStarts(now, this.resetAt());
    const out = new Map<string, AgentCalls>();
    for (const c of this.calls.all()) {
      if (c.at > now) continue;
      let x = out.get(c.a);
      if (!x) out.set(c.a, (x = { ...NONE }));
      for (const n of WINDOW_NAMES) if (c.at >= starts[n]) x[n]++;
      x.last = Math.floor(c.at / 1000);
    }
    return out;
  }

  render(a: StoredAgent, calls = this.perAgent().get(a.id)): Agent {
    const c = calls ?? NONE;
    const nowS = Math.floor(this.clock.now() / 1000);
    // One literal in the stored agent's key order (every agent is made by plugins/agents/state.ts's agentRecord), not
    // a spread: a spread followed by more keys took the engine's slow generic copy, ~5 µs per agent event.
    return {
      id: a.id,
      name: a.name,
      status: a.status,
      logged_in_time: a.logged_in_time,
      channel_name: a.channel_name,
      channel_state: a.channel_state,
      channel_state_desc: a.channel_state_desc,
      caller_id_name: a.caller_id_name,
      caller_id_num: a.caller_id_num,
      connected_line_name: a.connected_line_name,
      connected_line_num: a.connected_line_num,
      context: a.context,
      exten: a.exten,
      priority: a.priority,
      account_code: a.account_code,
      language: a.language,
      unique_id: a.unique_id,
      linked_id: a.linked_id,
      tm_update: a.tm_update,
      logged_in_s: a.status !== 'AGENT_LOGGEDOFF' && a.logged_in_time > 0 ? Math.max(0, nowS - a.logged_in_time) : 0,
      calls_taken_15m: c.last_15m,
      calls_taken_60m: c.last_60m,
      calls_taken_since_reset: c.since_reset,
      last_call: c.last,
    };
  }
}
