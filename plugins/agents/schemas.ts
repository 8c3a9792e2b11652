// The agents plugin's objects as answered and published: the one declaration of each shape (types derive from it).
import { event } from '../../core/contract/events.ts';
import { bool, int, line, named, obj, oneOf, opt, pathName, type Out } from '../../core/contract/schema.ts';

const ANYONE = { like: '/agents' };

export const AGENT_STATUS = ['AGENT_LOGGEDOFF', 'AGENT_IDLE', 'AGENT_ONCALL'] as const;

export const AgentSchema = named(
  'Agent',
  obj({
    id: line('agent id (its section in agents.conf)'),
    name: line('full name from agents.conf'),
    status: oneOf(AGENT_STATUS),
    logged_in_time: int('epoch seconds of the login; 0 while logged off'),
    channel_name: line('the channel the agent logged in on; empty while logged off'),
    channel_state: int(),
    channel_state_desc: line(),
    caller_id_name: line(),
    caller_id_num: line(),
    connected_line_name: line(),
    connected_line_num: line(),
    context: line(),
    exten: line(),
    priority: line(),
    account_code: line(),
    language: line(),
    unique_id: line(),
    linked_id: line(),
    tm_update: line('ISO 8601 time of the last change'),
    logged_in_s: int('beyond the spec: seconds logged in so far (0 while logged off)'),
    calls_taken_15m: int('beyond the spec: queue calls the agent answered in the last 15 minutes'),
    calls_taken_60m: int('beyond the spec: the same for the last 60 minutes'),
    calls_taken_since_reset: int('beyond the spec: the same since the daily reset (gateway.yaml queue_stats.reset_at)'),
    last_call: int('beyond the spec: epoch seconds when the agent last answered a queue call (0: none in the kept records)'),
  }),
);
export type Agent = Out<typeof AgentSchema>;
/** An agent as kept in the state: the answer without the figures computed when it is shown. */
export type StoredAgent = Omit<Agent, 'logged_in_s' | 'calls_taken_15m' | 'calls_taken_60m' | 'calls_taken_since_reset' | 'last_call'>;
export type AgentStatus = Agent['status'];

/** The spec's list of agents holds only their ids; the detail routes give the rest. */
export const AgentIdSchema = named('AgentId', obj({ id: line('agent id') }));

/** GET /agents/ (the spec's form): the agent id in a JSON body, or as ?id=. */
export const AgentDetailQuerySchema = obj({ id: opt(pathName('agent id')) });

/** POST /agents/<id>/logoff: AgentLogoff; soft waits for the agent's current call to end. */
export const LogoffSchema = obj({ soft: opt(bool('log off after the current call instead of hanging it up')) });

export const events = {
  agentUpdated: event('agents.agent.updated', 'an agent logged in or off, or went on or off a call', AgentSchema, ANYONE),
  logoffRequested: event(
    'agents.agent.logoff_requested',
    'a logoff was asked for over the API (agents.agent.updated follows when Asterisk carries it out)',
    obj({ id: line('agent id'), soft: bool() }),
    ANYONE,
  ),
};
