// Live state of the agents plugin (app_agent_pool): every agent of agents.conf with its status and, while logged in,
// the channel it logged in on. Rebuilt by the Agents action, kept current from AgentLogin / AgentLogoff and, for
// calls, from AgentConnect / AgentComplete / AgentRingNoAnswer (whose member is mapped back to the agent).
import type { AmiMessage } from '../../core/ami/message.ts';
import { channelBlock, num } from '../../core/ami/channel-block.ts';
import { LiveTable } from '../../core/live/table.ts';
import { clockMs, isoNow } from '../../core/live/clock.ts';
import { AGENT_STATUS, type StoredAgent as Agent, type AgentStatus } from './schemas.ts';

const now = isoNow;

function statusOf(v: string | undefined): AgentStatus {
  return (AGENT_STATUS as readonly string[]).includes(v ?? '') ? (v as AgentStatus) : 'AGENT_LOGGEDOFF';
}

/** The channel part of an agent: from a channel-state block, or empty while logged off. */
function channelPart(m: AmiMessage | undefined) {
  const b = m ? channelBlock(m) : undefined;
  return {
    channel_name: b?.channel ?? '',
    channel_state: b?.channel_state ?? 0,
    channel_state_desc: b?.channel_state_desc ?? '',
    caller_id_name: b?.caller_id_name ?? '',
    caller_id_num: b?.caller_id_num ?? '',
    connected_line_name: b?.connected_line_name ?? '',
    connected_line_num: b?.connected_line_num ?? '',
    context: b?.context ?? '',
    exten: b?.exten ?? '',
    priority: b?.priority ?? '',
    account_code: b?.account_code ?? '',
    language: b?.language ?? '',
    unique_id: b?.unique_id ?? '',
    linked_id: b?.linked_id ?? '',
  };
}

/**
 * An agent as stored, every key in the answer's order: one literal rather than `...channelPart()` spread into one
 * (the generic copy a spread in the middle of a literal takes costs microseconds per agent event).
 */
function agentRecord(
  id: string,
  name: string,
  status: AgentStatus,
  loggedInTime: number,
  p: ReturnType<typeof channelPart>,
  tmUpdate: string,
): Agent {
  return {
    id,
    name,
    status,
    logged_in_time: loggedInTime,
    channel_name: p.channel_name,
    channel_state: p.channel_state,
    channel_state_desc: p.channel_state_desc,
    caller_id_name: p.caller_id_name,
    caller_id_num: p.caller_id_num,
    connected_line_name: p.connected_line_name,
    connected_line_num: p.connected_line_num,
    context: p.context,
    exten: p.exten,
    priority: p.priority,
    account_code: p.account_code,
    language: p.language,
    unique_id: p.unique_id,
    linked_id: p.linked_id,
    tm_update: tmUpdate,
  };
}

/** An `Agents` list item: Agent, Name, Status, [TalkingToChan, CallStarted], [LoggedInTime, channel block]. */
export function agentFrom(m: AmiMessage, t = now()): Agent {
  const f = m.fields;
  const status = statusOf(f.Status);
  const loggedIn = status !== 'AGENT_LOGGEDOFF';
  return agentRecord(
    f.Agent ?? '',
    f.Name ?? '',
    status,
    loggedIn ? num(f.LoggedInTime) : 0,
    channelPart(loggedIn && f.Channel ? m : undefined),
    t,
  );
}

export class AgentState {
  readonly agents = new LiveTable<Agent>();

  reset(): void {
    this.agents.clear();
  }

  /** The whole picture from one Agents action; returns the agents whose status or login channel changed. */
  load(events: AmiMessage[]): Agent[] {
    const t = now();
    const rows = events.filter((m) => m.fields.Event === 'Agents' && m.fields.Agent).map((m) => agentFrom(m, t));
    const changed = rows.filter((a) => {
      const prev = this.agents.get(a.id);
      if (prev && prev.status === a.status && prev.unique_id === a.unique_id && prev.name === a.name) {
        a.tm_update = prev.tm_update; // nothing happened to it: keep when it last changed
        return false;
      }
      return true;
    });
    this.agents.replaceAll(rows.map((a) => [a.id, a]));
    return changed;
  }

  /** AgentLogin: channel block, Agent. Returns the agent and whether it was known before. */
  login(m: AmiMessage): { agent: Agent | undefined; known: boolean } {
    const id = m.fields.Agent;
    if (!id) return { agent: undefined, known: true };
    const prev = this.agents.get(id);
    const agent = agentRecord(
      id,
      prev?.name ?? '',
      'AGENT_IDLE',
      prev && prev.status !== 'AGENT_LOGGEDOFF' && prev.unique_id === m.fields.Uniqueid
        ? prev.logged_in_time
        : Math.floor(clockMs() / 1000),
      channelPart(m),
      now(),
    );
    this.agents.set(id, agent);
    return { agent, known: prev !== undefined };
  }

  /** AgentLogoff: channel block, Agent, Logintime. */
  logoff(m: AmiMessage): Agent | undefined {
    const id = m.fields.Agent;
    if (!id) return undefined;
    const prev = this.agents.get(id);
    const agent = agentRecord(id, prev?.name ?? '', 'AGENT_LOGGEDOFF', 0, channelPart(undefined), now());
    this.agents.set(id, agent);
    return agent;
  }

  /**
   * Which agent a queue event's member is. Members of agent queues are usually `Agent:<id>` / `Agent/<id>` (state
   * interface) or a Local channel running AgentRequest, `Local/<id>@<context>/n`; failing that, the member name
   * may be the agent's id or full name.
   */
  agentForMember(m: AmiMessage): Agent | undefined {
    const iface = m.fields.Interface ?? '';
    const byIface = /^Agent[/:](.+)$/.exec(iface) ?? /^Local\/([^@]+)@/.exec(iface);
    if (byIface) {
      const a = this.agents.get(byIface[1]!);
      if (a) return a;
    }
    const name = m.fields.MemberName ?? '';
    if (!name) return undefined;
    const direct = this.agents.get(name) ?? this.agents.get(name.replace(/^Agent[/:]/, ''));
    if (direct) return direct;
    const byName = [...this.agents.values()].filter((a) => a.name === name);
    return byName.length === 1 ? byName[0] : undefined;
  }

  /** AgentConnect (on call) / AgentComplete, AgentRingNoAnswer (idle again): only for a logged-in agent. */
  callState(m: AmiMessage, status: 'AGENT_ONCALL' | 'AGENT_IDLE'): Agent | undefined {
    const a = this.agentForMember(m);
    if (!a || a.status === 'AGENT_LOGGEDOFF' || a.status === status) return undefined;
    a.status = status;
    a.tm_update = now();
    this.agents.touch();
    return a;
  }

  /** The logged-in agent whose login channel has this unique id. */
  byChannel(uniqueId: string | undefined): Agent | undefined {
    if (!uniqueId) return undefined;
    for (const a of this.agents.values()) if (a.status !== 'AGENT_LOGGEDOFF' && a.unique_id === uniqueId) return a;
    return undefined;
  }
}
