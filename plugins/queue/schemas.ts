// The queue plugin's objects as answered and published: the one declaration of each shape (types derive from it).
import { event } from '../../core/contract/events.ts';
import { bool, ignored, int, line, name, named, nonNegInt, nullable, num, obj, opt, type Out } from '../../core/contract/schema.ts';

const ADMINS = { like: '/admin/queue/queues' };

export const QueueSchema = named(
  'Queue',
  obj({
    name: line('queue name'),
    strategy: line('call distribution, e.g. ringall'),
    max: int('most callers that may wait (0: no limit)'),
    weight: int('queue priority'),
    calls: int('callers waiting now'),
    completed: int('calls answered by a member'),
    abandoned: int('callers who hung up while waiting'),
    hold_time: int('average wait in seconds'),
    talk_time: int('average talk time in seconds'),
    service_level: int('the service level interval in seconds'),
    service_level_perf: num('service level performance in percent; the spec writes <integer>, Asterisk gives one decimal (66.7)'),
    tm_update: line('ISO 8601 time of the last change'),
  }),
);
export type Queue = Out<typeof QueueSchema>;

export const QueueMemberSchema = named(
  'QueueMember',
  obj({
    id: line('<name>@<queue_name>'),
    name: line('member name (its interface when it has none)'),
    queue_name: line(),
    status: int('device state of the member (AST_DEVICE_*: 1 not in use, 2 in use, 5 unavailable ...)'),
    membership: line('static (queues.conf), dynamic (added over AMI or the API) or realtime'),
    state_interface: line(),
    location: line('the interface called, e.g. PJSIP/2001 or Local/2001@agents/n'),
    paused: int('1 paused, 0 not'),
    paused_reason: line(),
    penalty: int(),
    calls_taken: int(),
    in_call: int('1 while on a call from the queue'),
    last_call: int('epoch seconds of the last call taken (0: none)'),
    last_pause: int('epoch seconds of the last pause (0: none)'),
    ring_inuse: nullable(
      int('1 the member is rung while in use, 0 not; null until a QueueMember* event carries it (QueueStatus does not)'),
    ),
    tm_update: line(),
    login_time: int('beyond the spec: epoch seconds when the member was added to the queue (Asterisk LoginTime; 0: unknown)'),
    paused_since: int('beyond the spec: epoch seconds when the current pause began (0: not paused)'),
    paused_for_s: int('beyond the spec: seconds paused so far (0: not paused)'),
    calls_taken_15m: int('beyond the spec: calls this member answered from this queue in the last 15 minutes'),
    calls_taken_60m: int('beyond the spec: the same for the last 60 minutes'),
    calls_taken_since_reset: int('beyond the spec: the same since the daily reset (queue_stats.reset_at)'),
  }),
);
export type QueueMember = Out<typeof QueueMemberSchema>;
/** A member as kept in the state: the answer without the figures computed when it is shown. */
export type StoredMember = Omit<
  QueueMember,
  'paused_since' | 'paused_for_s' | 'calls_taken_15m' | 'calls_taken_60m' | 'calls_taken_since_reset'
>;

const WINDOW_DOC = 'calls are counted by the moment they were answered or abandoned';
export const QueueWindowStatsSchema = named(
  'QueueWindowStats',
  obj(
    {
      from: line('ISO 8601 start of the window'),
      offered: int('answered + abandoned'),
      answered: int('calls a member answered (AgentConnect)'),
      abandoned: int('callers who hung up while waiting (QueueCallerAbandon)'),
      completed: int('answered calls that have ended (AgentComplete): what Asterisk counts as Completed'),
      answered_in_sl: int('answered after waiting no longer than the service level threshold (service_level_s)'),
      service_level_pct: nullable(num('answered_in_sl / answered in percent, one decimal (null: nothing answered)')),
      abandoned_pct: nullable(num('abandoned / offered in percent, one decimal (null: no calls)')),
      avg_wait_s: nullable(num('average wait of the answered calls in seconds, one decimal (null: none)')),
      avg_abandon_wait_s: nullable(num('average wait of the abandoned calls before hanging up (null: none)')),
      max_wait_s: int('longest wait of a call answered or abandoned in the window'),
      avg_talk_s: nullable(num('average talk time of the completed calls in seconds, one decimal (null: none)')),
    },
    WINDOW_DOC,
  ),
);
export type QueueWindowStats = Out<typeof QueueWindowStatsSchema>;

export const QueueStatsSchema = named(
  'QueueStats',
  obj({
    queue_name: line(),
    waiting: int('callers waiting now'),
    longest_wait_s: int('seconds the longest-waiting caller has waited so far (0: nobody waits)'),
    service_level_s: int("the queue's service level threshold in seconds (queues.conf servicelevel)"),
    reset_at: line('local time of the daily reset (gateway.yaml queue_stats.reset_at)'),
    last_15m: QueueWindowStatsSchema,
    last_60m: QueueWindowStatsSchema,
    since_reset: QueueWindowStatsSchema,
    tm_update: line('ISO 8601 time the figures were computed'),
  }),
);
export type QueueStats = Out<typeof QueueStatsSchema>;

export const QueueEntrySchema = named(
  'QueueEntry',
  obj({
    unique_id: line("the waiting channel's unique id"),
    queue_name: line(),
    channel: line(),
    caller_id_name: line(),
    caller_id_num: line(),
    connected_line_name: line(),
    connected_line_num: line(),
    position: int('1 is the next caller to be answered'),
    wait: int('seconds waited so far'),
    tm_update: line(),
  }),
);
export type QueueEntry = Out<typeof QueueEntrySchema>;

/** POST /admin/queue/members: QueueAdd. `location` is the spec's name for the interface; give one of the two. */
export const MemberAddSchema = obj({
  queue_name: name('the queue to join'),
  interface: opt(line("the member's channel, e.g. PJSIP/2001 or Local/2001@agents/n")),
  location: opt(line("the same as interface (the name the member's answer uses)")),
  name: opt(line('member name (default: the interface)')),
  state_interface: opt(line('the device whose state decides whether the member is free')),
  penalty: opt(nonNegInt()),
  paused: opt(bool()),
  paused_reason: opt(line()),
  wrapuptime: opt(nonNegInt('seconds after a call before the member is rung again')),
  id: ignored(),
  tm_update: ignored(),
});
export type MemberAdd = Out<typeof MemberAddSchema>;

/** PUT /admin/queue/members/<name>: QueuePause and/or QueuePenalty. */
export const MemberChangeSchema = obj({
  paused: opt(bool()),
  paused_reason: opt(line('why (with paused, or alone to re-pause with a reason)')),
  penalty: opt(nonNegInt()),
  queue_name: opt(name("the member's queue, when not given as ?queue_name=")),
  id: ignored(),
  name: ignored(),
  location: ignored(),
  tm_update: ignored(),
});
export type MemberChange = Out<typeof MemberChangeSchema>;

export const events = {
  memberAdded: event('queue.member.added', 'a member joined a queue', QueueMemberSchema, ADMINS),
  memberUpdated: event('queue.member.updated', 'a member changed (device state, pause, penalty, ringinuse)', QueueMemberSchema, ADMINS),
  memberRemoved: event('queue.member.removed', 'a member left a queue', QueueMemberSchema, ADMINS),
  entryJoined: event('queue.entry.joined', 'a caller started waiting in a queue', QueueEntrySchema, ADMINS),
  entryLeft: event('queue.entry.left', 'a caller stopped waiting (answered, or gone)', QueueEntrySchema, ADMINS),
  entryAbandoned: event('queue.entry.abandoned', 'a waiting caller hung up', QueueEntrySchema, ADMINS),
  statsUpdated: event(
    'queue.stats.updated',
    "beyond the spec: a queue's statistics changed (a caller joined, left, was answered or abandoned, a call ended); at most once a second per queue",
    QueueStatsSchema,
    ADMINS, // who may GET /admin/queue/queues/<name>/stats: the same role as the queue list
  ),
};
