// The core plugin's objects as answered and published: the one declaration of each shape (types derive from it).
import { event } from '../../core/contract/events.ts';
import { dict, int, line, named, nullable, obj, oneOf, real, type Out } from '../../core/contract/schema.ts';

/** The channel-state block every channel event carries (core/ami/channel-block.ts fills it). */
export const channelBlockEntries = {
  unique_id: line('Uniqueid'),
  linked_id: line('Linkedid'),
  channel: line('channel name, e.g. PJSIP/1001-00000007'),
  channel_state: int('ChannelState (0 down ... 6 up)'),
  channel_state_desc: line('ChannelStateDesc, e.g. Ring, Up'),
  context: line(),
  exten: line(),
  priority: line('a string, as the spec writes it'),
  caller_id_name: line(),
  caller_id_num: line(),
  connected_line_name: line(),
  connected_line_num: line(),
  account_code: line(),
  language: line(),
};

/** A recording the gateway started on a channel (MixMonitor). */
export const RecordingSchema = named(
  'Recording',
  obj({
    file: line("the file's full path as Asterisk writes it (the folder is gateway.yaml's recordings.dir)"),
    file_name: line('the file name alone'),
    format: line('wav, gsm, ulaw ...'),
    state: oneOf(['recording', 'paused', 'stopped'] as const, 'recording, paused (MixMonitorMute), or stopped'),
    started: line('ISO 8601 time the recording began'),
  }),
);
export type Recording = Out<typeof RecordingSchema>;
/** A recording with its channel: the answer of the recording routes and the core.recording.updated event. */
export const ChannelRecordingSchema = named(
  'ChannelRecording',
  obj({ unique_id: line('the recorded channel'), ...RecordingSchema.entries }),
);

export const ChannelSchema = named(
  'Channel',
  obj({
    ...channelBlockEntries,
    application: line(),
    application_data: line(),
    bridge_id: nullable(line()),
    hangup_cause: nullable(int()),
    hangup_cause_desc: nullable(line()),
    variables: dict(line(), 'channel variables set with Set() and seen by AMI (VarSet)'),
    recording: nullable(RecordingSchema),
    duration: int('seconds since the channel was created'),
    tm_update: line('ISO 8601 time of the last change'),
  }),
);
export type ChannelView = Out<typeof ChannelSchema>;

export const DeviceStateSchema = named(
  'DeviceState',
  obj({ device: line('e.g. PJSIP/1001'), state: line('e.g. NOT_INUSE, INUSE, UNAVAILABLE'), tm_update: line() }),
);
export type DeviceState = Out<typeof DeviceStateSchema>;

export const ModuleSchema = named(
  'Module',
  obj({
    name: line('without .so'),
    load: line('Running, Not Running ...'),
    size: nullable(int()),
    description: line(),
    use_count: int(),
    support_level: line(),
    tm_update: line(),
  }),
);
export type Module = Out<typeof ModuleSchema>;

export const SystemSchema = named(
  'System',
  obj({
    id: line(),
    system_name: line(),
    ami_version: line(),
    ast_version: line(),
    cdr_enabled: line(),
    http_enabled: line(),
    real_time_enabled: line(),
    current_calls: int(),
    processed_calls: int(),
    max_calls: int(),
    max_file_handles: int(),
    max_load_avg: real(),
    reload_date: line(),
    reload_time: line(),
    run_group: line(),
    run_user: line(),
    startup_date: line(),
    startup_time: line(),
    tm_update: line(),
  }),
);
export type SystemInfo = Out<typeof SystemSchema>;

/** The outcome of an originate (POST /admin/core/channels), published once Asterisk reports it (OriginateResponse). */
export const OriginateOutcomeSchema = named(
  'OriginateOutcome',
  obj({
    unique_id: line("the unique id the 202 answer gave: the originated channel's"),
    other_unique_id: line('the unique id of the second half of a Local channel (;2), also chosen by the gateway'),
    channel: line('the channel as asked for, e.g. PJSIP/1001'),
    outcome: oneOf(['answered', 'failed'] as const),
    reason: oneOf(
      ['answered', 'busy', 'no_answer', 'congestion', 'hangup', 'no_such_extension', 'failed'] as const,
      [
        "from OriginateResponse's Reason: 4 answered, 5 busy, 3 or 2 (ringing or ring without answer) no_answer, 8 congestion,",
        '1 hangup (hung up before answer), 0 failed (the channel could not be created or called: unknown endpoint, unreachable),',
        'or no_such_extension when the channel is Local/<exten>@<context> and the dialplan has no such extension',
      ].join(' '),
    ),
    reason_code: int("OriginateResponse's Reason as Asterisk sent it"),
    message: line('the outcome in words'),
  }),
);
export type OriginateOutcome = Out<typeof OriginateOutcomeSchema>;

/** A step of a transfer or park started over REST. */
export const TransferProgressSchema = named(
  'TransferProgress',
  obj({
    unique_id: line('the transferring channel'),
    kind: oneOf(['blind', 'attended'] as const),
    state: oneOf(['started', 'completed', 'cancelled', 'failed'] as const),
    context: line(),
    exten: line(),
    message: line("what happened, in Asterisk's words where it gave some"),
  }),
);
export type TransferProgress = Out<typeof TransferProgressSchema>;

export const events = {
  channelUpdated: event('core.channel.updated', 'a channel was created or changed (state, caller id, dialplan position)', ChannelSchema, {
    like: '/admin/core/channels',
  }),
  channelHangup: event('core.channel.hangup', 'a channel hung up (its last state, with the hangup cause)', ChannelSchema, {
    like: '/admin/core/channels',
  }),
  originateAnswered: event('core.originate.answered', 'a call originated over REST was answered', OriginateOutcomeSchema, {
    like: '/admin/core/channels',
  }),
  originateFailed: event(
    'core.originate.failed',
    'a call originated over REST failed (busy, no answer, congestion ...)',
    OriginateOutcomeSchema,
    {
      like: '/admin/core/channels',
    },
  ),
  transfer: event(
    'core.transfer.progress',
    'a transfer started over REST moved on (started, completed, cancelled, failed)',
    TransferProgressSchema,
    {
      like: '/admin/core/channels',
    },
  ),
  recordingUpdated: event(
    'core.recording.updated',
    'a recording started over REST began, paused, resumed or stopped',
    ChannelRecordingSchema,
    {
      like: '/admin/core/channels',
    },
  ),
  deviceStateUpdated: event('core.device_state.updated', 'a device state changed', DeviceStateSchema, { like: '/device_states' }),
};
