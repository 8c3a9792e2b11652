// The channel-state block that nearly every AMI channel event carries (Channel, ChannelState, ..., Linkedid),
// optionally with a prefix such as "Dest" or "Parkee". Shared by every plugin that follows channels.
import { type AmiMessage, own } from './message.ts';

export interface ChannelBlock {
  channel: string;
  channel_state: number;
  channel_state_desc: string;
  caller_id_num: string;
  caller_id_name: string;
  connected_line_num: string;
  connected_line_name: string;
  language: string;
  account_code: string;
  context: string;
  exten: string;
  priority: string;
  unique_id: string;
  linked_id: string;
}

/** The block's fields, each an own() copy: a block is made to be kept (a live channel, an agent's call). */
export function channelBlock(m: AmiMessage, prefix = ''): ChannelBlock {
  if (prefix !== '') return prefixedBlock(m.fields, prefix);
  // Without a prefix (every Newchannel, an agent's login): the keys as literals, so each read is a plain property
  // load instead of a lookup by a name built at run time.
  const f = m.fields;
  const state = Number(f.ChannelState ?? '');
  return {
    channel: own(f.Channel ?? ''),
    channel_state: Number.isFinite(state) ? state : 0,
    channel_state_desc: own(f.ChannelStateDesc ?? ''),
    caller_id_num: own(f.CallerIDNum ?? ''),
    caller_id_name: own(f.CallerIDName ?? ''),
    connected_line_num: own(f.ConnectedLineNum ?? ''),
    connected_line_name: own(f.ConnectedLineName ?? ''),
    language: own(f.Language ?? ''),
    account_code: own(f.AccountCode ?? ''),
    context: own(f.Context ?? ''),
    exten: own(f.Exten ?? ''),
    priority: own(f.Priority ?? ''),
    unique_id: own(f.Uniqueid ?? ''),
    linked_id: own(f.Linkedid ?? ''),
  };
}

function prefixedBlock(f: Record<string, string>, prefix: string): ChannelBlock {
  const g = (k: string) => own(f[prefix + k] ?? '');
  const state = Number(g('ChannelState'));
  return {
    channel: g('Channel'),
    channel_state: Number.isFinite(state) ? state : 0,
    channel_state_desc: g('ChannelStateDesc'),
    caller_id_num: g('CallerIDNum'),
    caller_id_name: g('CallerIDName'),
    connected_line_num: g('ConnectedLineNum'),
    connected_line_name: g('ConnectedLineName'),
    language: g('Language'),
    account_code: g('AccountCode'),
    context: g('Context'),
    exten: g('Exten'),
    priority: g('Priority'),
    unique_id: g('Uniqueid'),
    linked_id: g('Linkedid'),
  };
}

/** "HH:MM:SS" (CoreShowChannels Duration) to seconds. */
export function hmsToSeconds(hms: string | undefined): number {
  if (!hms) return 0;
  const p = hms.split(':').map(Number);
  if (p.some((n) => !Number.isFinite(n))) return 0;
  return p.reduce((acc, n) => acc * 60 + n, 0);
}

/** A number from an AMI field, or `fallback` when absent or not numeric. */
export function num(v: string | undefined, fallback = 0): number {
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  return Number.isFinite(n) ? n : fallback;
}

// Asterisk's spellings of a boolean (ast_true / ast_false in main/utils.c); AMI events built from JSON write
// True/False, lists write 1/0, config files yes/no.
const YES = /^(yes|true|y|t|1|on)$/i;
const NO = /^(no|false|n|f|0|off)$/i;

/** An AMI or config yes/no value as 1 or 0, or `fallback` when absent or neither. */
export function yesNo(v: string | undefined, fallback = 0): number {
  if (v === undefined) return fallback;
  if (YES.test(v)) return 1;
  if (NO.test(v)) return 0;
  return fallback;
}

/** Whether Asterisk reads `v` as a boolean (a config option that must be yes or no). */
export const isYesNo = (v: string): boolean => YES.test(v) || NO.test(v);
