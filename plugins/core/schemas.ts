// The core plugin's objects as answered and published: the one declaration of each shape (types derive from it).
import { event } from '../../core/contract/events.ts';
import { dict, int, line, named, nullable, obj, real, type Out } from '../../core/contract/schema.ts';

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

export const events = {
  channelUpdated: event('core.channel.updated', 'a channel was created or changed (state, caller id, dialplan position)', ChannelSchema, {
    like: '/admin/core/channels',
  }),
  channelHangup: event('core.channel.hangup', 'a channel hung up (its last state, with the hangup cause)', ChannelSchema, {
    like: '/admin/core/channels',
  }),
  deviceStateUpdated: event('core.device_state.updated', 'a device state changed', DeviceStateSchema, { like: '/device_states' }),
};
