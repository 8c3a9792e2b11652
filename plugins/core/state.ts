// Live state of the core plugin: channels, device states, modules and the system record, rebuilt by resync and
// kept current from AMI events.
import { type AmiMessage, own } from '../../core/ami/message.ts';
import { channelBlock, hmsToSeconds, num, type ChannelBlock } from '../../core/ami/channel-block.ts';
import { LiveTable } from '../../core/live/table.ts';
import type { ChannelView, DeviceState, Module, SystemInfo } from './schemas.ts';
import { clockMs, isoNow } from '../../core/live/clock.ts';

/** A channel as kept: the answered shape without `duration`, plus when it was created (duration derives from it). */
export type Channel = Omit<ChannelView, 'duration'> & {
  /** ms since epoch; duration is derived from it when rendering */
  created: number;
  /**
   * `variables` was handed out by renderChannel (an event payload, which the resume ring keeps): the next change
   * copies it first, so a payload already published stays as it was sent.
   */
  variablesOut: boolean;
};
export type { DeviceState, Module, SystemInfo };

const now = isoNow;

/**
 * `next` (an own() copy) when the event has the field, else `held`; an equal string keeps the held one (see
 * upsertChannel).
 */
function keep(held: string, next: string | undefined): string {
  return next === undefined || next === held ? held : own(next);
}

/** One literal with every field, so all channels share one object shape (spreads made slow dictionary objects). */
function newChannel(b: ChannelBlock, application: string, applicationData: string, bridgeId: string | null, created: number): Channel {
  return {
    unique_id: b.unique_id,
    linked_id: b.linked_id,
    channel: b.channel,
    channel_state: b.channel_state,
    channel_state_desc: b.channel_state_desc,
    context: b.context,
    exten: b.exten,
    priority: b.priority,
    caller_id_name: b.caller_id_name,
    caller_id_num: b.caller_id_num,
    connected_line_name: b.connected_line_name,
    connected_line_num: b.connected_line_num,
    account_code: b.account_code,
    language: b.language,
    application,
    application_data: applicationData,
    bridge_id: bridgeId,
    hangup_cause: null,
    hangup_cause_desc: null,
    variables: {},
    recording: null,
    created,
    tm_update: now(),
    variablesOut: false,
  };
}

/**
 * The answered shape: every field but `created`, in newChannel's order, then `duration`. One literal, not a rest
 * spread: it runs for every channel event published on the bus, and a spread copy is several times slower.
 */
export function renderChannel(c: Channel, nowMs = clockMs()): ChannelView {
  c.variablesOut = true;
  return {
    unique_id: c.unique_id,
    linked_id: c.linked_id,
    channel: c.channel,
    channel_state: c.channel_state,
    channel_state_desc: c.channel_state_desc,
    context: c.context,
    exten: c.exten,
    priority: c.priority,
    caller_id_name: c.caller_id_name,
    caller_id_num: c.caller_id_num,
    connected_line_name: c.connected_line_name,
    connected_line_num: c.connected_line_num,
    account_code: c.account_code,
    language: c.language,
    application: c.application,
    application_data: c.application_data,
    bridge_id: c.bridge_id,
    hangup_cause: c.hangup_cause,
    hangup_cause_desc: c.hangup_cause_desc,
    variables: c.variables,
    recording: c.recording,
    tm_update: c.tm_update,
    duration: Math.max(0, Math.floor((nowMs - c.created) / 1000)),
  };
}

export class CoreState {
  readonly channels = new LiveTable<Channel>();
  readonly devices = new LiveTable<DeviceState>();
  readonly modules = new LiveTable<Module>();
  system: SystemInfo | null = null;

  reset(): void {
    this.channels.clear();
    this.devices.clear();
    this.modules.clear();
    this.system = null;
  }

  // ---- channels ----
  loadChannels(events: AmiMessage[]): void {
    const nowMs = Date.now();
    this.channels.replaceAll(
      events.map((m) => {
        const c = newChannel(
          channelBlock(m),
          own(m.fields.Application ?? ''),
          own(m.fields.ApplicationData ?? ''),
          m.fields.BridgeId ? own(m.fields.BridgeId) : null,
          nowMs - hmsToSeconds(m.fields.Duration) * 1000,
        );
        return [c.unique_id, c];
      }),
    );
  }

  /** Newchannel, Newstate, NewCallerid, NewConnectedLine, Newexten: upsert with the event's channel block. */
  upsertChannel(m: AmiMessage): Channel | undefined {
    const f = m.fields;
    const uid = f.Uniqueid;
    if (!uid) return undefined;
    let c = this.channels.get(uid);
    if (!c) {
      c = newChannel(channelBlock(m), '', '', null, clockMs());
      this.channels.set(c.unique_id, c); // the key is the channel's own copy too (a Map holds the string it is given)
    } else {
      // Hot path (thousands of events a second): assign the block's fields in place, no intermediate objects.
      // keep() holds on to the string already kept when the event repeats it (most fields of most events):
      // the event's strings are views into the text it was decoded from (see own()), and copying costs more than
      // comparing.
      c.channel = keep(c.channel, f.Channel);
      const st = Number(f.ChannelState);
      if (Number.isFinite(st)) c.channel_state = st;
      c.channel_state_desc = keep(c.channel_state_desc, f.ChannelStateDesc);
      c.caller_id_num = keep(c.caller_id_num, f.CallerIDNum);
      c.caller_id_name = keep(c.caller_id_name, f.CallerIDName);
      c.connected_line_num = keep(c.connected_line_num, f.ConnectedLineNum);
      c.connected_line_name = keep(c.connected_line_name, f.ConnectedLineName);
      c.language = keep(c.language, f.Language);
      c.account_code = keep(c.account_code, f.AccountCode);
      c.context = keep(c.context, f.Context);
      c.exten = keep(c.exten, f.Exten);
      c.priority = keep(c.priority, f.Priority);
      c.linked_id = keep(c.linked_id, f.Linkedid);
      c.tm_update = now();
      this.channels.touch();
    }
    if (f.Event === 'Newexten') {
      c.application = keep(c.application, f.Application);
      c.application_data = keep(c.application_data, f.AppData);
    }
    return c;
  }

  setVariable(m: AmiMessage): void {
    const c = this.channels.get(m.fields.Uniqueid ?? '');
    if (!c || !m.fields.Variable) return; // globals come with Uniqueid "none"
    const value = m.fields.Value ?? '';
    // see keep(); the name needs no copy: a property name is kept as the engine's own (interned) string
    if (c.variables[m.fields.Variable] !== value) {
      if (c.variablesOut) {
        // copy on write: the object handed out in earlier payloads keeps what they said
        c.variables = { ...c.variables };
        c.variablesOut = false;
      }
      c.variables[m.fields.Variable] = own(value);
    }
    c.tm_update = now();
    this.channels.touch();
  }

  bridge(m: AmiMessage, entering: boolean): void {
    const c = this.channels.get(m.fields.Uniqueid ?? '');
    if (!c) return;
    c.bridge_id = entering && m.fields.BridgeUniqueid !== undefined ? own(m.fields.BridgeUniqueid) : null;
    c.tm_update = now();
    this.channels.touch();
  }

  hangup(m: AmiMessage): Channel | undefined {
    const uid = m.fields.Uniqueid ?? '';
    const c = this.channels.get(uid);
    if (!c) return undefined;
    c.hangup_cause = num(m.fields.Cause, 0);
    const desc = m.fields['Cause-txt'];
    c.hangup_cause_desc = desc === undefined ? null : own(desc);
    this.channels.delete(uid);
    return c;
  }

  // ---- device states ----
  loadDevices(events: AmiMessage[]): void {
    const t = now();
    this.devices.replaceAll(
      events.flatMap((m) => {
        const device = m.fields.Device;
        if (!device) return [];
        const d = { device: own(device), state: own(m.fields.State ?? ''), tm_update: t };
        return [[d.device, d] as const];
      }),
    );
  }

  deviceChanged(m: AmiMessage): DeviceState | undefined {
    const device = m.fields.Device;
    if (!device) return undefined;
    // the held row's name when there is one: the same value, and this event's text is then not kept (see keep())
    const held = this.devices.get(device);
    const state = m.fields.State ?? '';
    const d = { device: held?.device ?? own(device), state: held?.state === state ? held.state : own(state), tm_update: now() };
    this.devices.set(d.device, d);
    return d;
  }

  // ---- modules ----
  loadModules(rows: Omit<Module, 'tm_update'>[]): void {
    const t = now();
    this.modules.replaceAll(rows.map((r) => [r.name, { ...r, tm_update: t }]));
  }

  /** Load / Unload events: Asterisk reports the module with its .so name. */
  moduleEvent(m: AmiMessage, loaded: boolean): void {
    const name = own((m.fields.Module ?? '').replace(/\.so$/, ''));
    if (!name || m.fields.Status !== 'Success') return;
    const mod = this.modules.get(name);
    if (mod) {
      mod.load = loaded ? 'Running' : 'Not Running';
      mod.use_count = loaded ? mod.use_count : 0;
      mod.tm_update = now();
      this.modules.touch();
    } else if (loaded) {
      this.modules.set(name, { name, load: 'Running', size: null, description: '', use_count: 0, support_level: '', tm_update: now() });
    }
  }

  // ---- system ----
  setSystem(settings: AmiMessage, status: AmiMessage): void {
    const s = settings.fields,
      st = status.fields;
    this.system = {
      id: '1',
      system_name: s.SystemName ?? '',
      ami_version: s.AMIversion ?? '',
      ast_version: s.AsteriskVersion ?? '',
      cdr_enabled: s.CoreCDRenabled ?? '',
      http_enabled: s.CoreHTTPenabled ?? '',
      real_time_enabled: s.CoreRealTimeEnabled ?? '',
      current_calls: num(st.CoreCurrentCalls),
      processed_calls: num(st.CoreProcessedCalls),
      max_calls: num(s.CoreMaxCalls),
      max_file_handles: num(s.CoreMaxFilehandles),
      max_load_avg: num(s.CoreMaxLoadAvg),
      reload_date: st.CoreReloadDate ?? '',
      reload_time: st.CoreReloadTime ?? '',
      run_group: s.CoreRunGroup ?? '',
      run_user: s.CoreRunUser ?? '',
      startup_date: st.CoreStartupDate ?? '',
      startup_time: st.CoreStartupTime ?? '',
      tm_update: now(),
    };
  }
}

/**
 * Parse `module show` CLI output:
 *   Module                         Description                              Use Count  Status      Support Level
 *   acl                            Named ACL system                         2          Running              core
 *   app_queue.so                   True Call Queueing                       0          Running              core
 *   303 modules loaded
 * Columns are fixed-width in Asterisk's source, so cut at the header's offsets. Built-in parts (acl, udptl) have no .so.
 */
export function parseModuleShow(lines: string[]): Omit<Module, 'tm_update' | 'size'>[] {
  const out: Omit<Module, 'tm_update' | 'size'>[] = [];
  const header = lines.find((l) => /^Module\s+Description\s+Use Count/.test(l));
  if (!header) return out;
  const cDesc = header.indexOf('Description');
  const cUse = header.indexOf('Use Count');
  const cStatus = header.indexOf('Status');
  for (const line of lines) {
    if (line === header || line.length <= cStatus || /^\d+ modules? loaded/.test(line)) continue;
    const name = line.slice(0, cDesc).trim().replace(/\.so$/, '');
    if (!name) continue;
    const use = Number(line.slice(cUse, cStatus).trim());
    const tail = line.slice(cStatus).trim();
    const m = /^(.*?)\s+(\S+)$/.exec(tail);
    out.push({
      name,
      description: line.slice(cDesc, cUse).trim(),
      use_count: Number.isFinite(use) ? use : 0,
      load: m?.[1] ?? tail,
      support_level: m?.[2] ?? '',
    });
  }
  return out;
}
