// Call control of the core plugin: originate (click-to-call), blind and attended transfer, park, recording, DTMF,
// mute and channel variables, each one AMI action on a channel the gateway knows. Asterisk's refusals are mapped by
// what they mean: the channel is gone (404), the channel cannot do that now (409), the request names a target that
// does not exist (400); every value goes through the AMI encoder, which refuses CR/LF (400) before anything is sent.
import { randomUUID } from 'node:crypto';
import path from 'node:path/posix';
import { AmiError } from '../../core/ami/errors.ts';
import { type AmiMessage, own } from '../../core/ami/message.ts';
import type { AmiHeaders, AmiPort } from '../../core/ami/port.ts';
import { clockMs, isoNow } from '../../core/live/clock.ts';
import { ApiError, badRequest, notFound } from '../../core/http/errors.ts';
import type { Channel, CoreState } from './state.ts';
import type { OriginateOutcome, Recording, TransferProgress } from './schemas.ts';

/** Asterisk's answers that say the channel is gone (Getvar/Setvar/MuteAudio/MixMonitor: "No such channel";
 * Redirect/Park: "Channel does not exist: X"; PlayDTMF: "Channel not found"; Atxfer: "Channel specified does not exist"). */
const GONE = /no such channel|channel( specified)? does not exist|channel not found/i;
/** Answers that say a target of the request (extension, context, lot) does not exist: the request is wrong. */
const BAD_TARGET = /^(extension does not exist|invalid |requested parking lot)/i;

/** Asterisk's message without the trailing LF some carry (Park's "Park action failed\n"). */
const text = (e: AmiError) => e.message.replace(/\s+$/, '');

/** Map an AMI refusal on a channel action: gone 404, bad target 400, anything else the channel's state: 409. */
export function channelRefusal(e: unknown, ch: { channel: string }, what: string): unknown {
  if (!(e instanceof AmiError)) return e;
  const msg = text(e);
  if (GONE.test(msg)) return notFound(`channel ${ch.channel} is gone (Asterisk: ${msg})`);
  if (BAD_TARGET.test(msg)) return badRequest(`Asterisk refused to ${what}: ${msg}`);
  return new ApiError(409, `Asterisk refused to ${what} on ${ch.channel}: ${msg}`);
}

/** OriginateResponse's Reason (the last control frame seen, AST_CONTROL_*) in words. */
const REASONS: Record<number, { reason: OriginateOutcome['reason']; message: string }> = {
  0: { reason: 'failed', message: 'the channel could not be created or called' },
  1: { reason: 'hangup', message: 'hung up before answering' },
  2: { reason: 'no_answer', message: 'rang without answer' },
  3: { reason: 'no_answer', message: 'rang without answer (timeout)' },
  4: { reason: 'answered', message: 'answered' },
  5: { reason: 'busy', message: 'busy' },
  8: { reason: 'congestion', message: 'congestion (all circuits busy, or the far end refused)' },
};

export interface OriginateRequest {
  channel: string;
  context?: string;
  exten?: string;
  priority?: string;
  application?: string;
  data?: string;
  caller_id_name?: string;
  caller_id_num?: string;
  variables?: Record<string, string>;
  timeout_s?: number;
  account_code?: string;
}

interface PendingOriginate {
  unique_id: string;
  other_unique_id: string;
  channel: string;
  expires: number;
}

/** A variable name as Set() takes it: a name, or a function call such as CALLERID(num). */
export const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_.]*(\([^()\r\n]*\))?$/;
const PENDING_MAX = 10_000;

/** What settle() reads of an OriginateResponse. */
interface OriginateResponse {
  reason: string | undefined;
  response: string | undefined;
}

function originateResponse(m: AmiMessage): OriginateResponse {
  const { Reason, Response } = m.fields;
  return { reason: Reason === undefined ? undefined : own(Reason), response: Response === undefined ? undefined : own(Response) };
}
const EARLY_KEEP_MS = 30_000;

export class CallService {
  /** Originates waiting for their OriginateResponse, by the Originate's ActionID. */
  private readonly pending = new Map<string, PendingOriginate>();
  /**
   * OriginateResponses that came before the Originate's own answer (a fast failure), by ActionID, oldest first
   * (see sweep). Only the two fields settle() reads are kept, as own() copies: a whole event would pin the piece of
   * text it was decoded from for 30 s (see own()).
   */
  private readonly early = new Map<string, { outcome: OriginateResponse; at: number }>();
  /** Transferers with an attended transfer started over REST and not yet completed or cancelled. */
  private readonly atxfers = new Map<string, { context: string; exten: string }>();

  constructor(
    private readonly ami: AmiPort,
    private readonly state: CoreState,
    private readonly recordings: { dir: string; format: string },
    private readonly publishOutcome: (o: OriginateOutcome) => void,
  ) {}

  // ---- originate ----

  async originate(req: OriginateRequest): Promise<{ unique_id: string; other_unique_id: string }> {
    const dialplan = req.context !== undefined || req.exten !== undefined;
    const app = req.application !== undefined;
    if (dialplan === app)
      throw badRequest('give either context and exten (and priority), or application (and data)', { field: app ? 'application' : 'exten' });
    if (dialplan && (!req.context || !req.exten))
      throw badRequest('context and exten go together', { field: req.context ? 'exten' : 'context' });
    if (!app && req.data !== undefined) throw badRequest('data goes with application', { field: 'data' });
    const vars = Object.entries(req.variables ?? {});
    for (const [k, val] of vars) {
      if (!VARIABLE_NAME.test(k))
        throw badRequest(`variables: "${k.replace(/[\r\n]/g, '?')}" is not a variable name`, { field: 'variables' });
      // Originate splits a Variable header at commas (AST_STANDARD_APP_ARGS); one value must stay one value
      if (val.includes(',')) throw badRequest(`variables.${k}: must not contain a comma (Asterisk would split it)`, { field: 'variables' });
    }
    // Two fresh ids; neither may be a prefix of the other (Asterisk checks clashes by prefix).
    const unique_id = randomUUID();
    const other_unique_id = randomUUID();
    const headers: AmiHeaders = {
      Channel: req.channel,
      Context: req.context,
      Exten: req.exten,
      Priority: dialplan ? (req.priority ?? '1') : undefined,
      Application: req.application,
      Data: req.data,
      Timeout: (req.timeout_s ?? 30) * 1000,
      CallerID: callerId(req.caller_id_name, req.caller_id_num),
      Account: req.account_code,
      Variable: vars.length ? vars.map(([k, val]) => `${k}=${val}`) : undefined,
      Async: 'true',
      ChannelId: unique_id,
      OtherChannelId: other_unique_id,
    };
    let res: AmiMessage;
    try {
      res = await this.ami.action('Originate', headers);
    } catch (e) {
      if (e instanceof AmiError && BAD_TARGET.test(text(e))) throw badRequest(`Asterisk refused the originate: ${text(e)}`);
      throw e;
    }
    const actionId = res.fields.ActionID ?? '';
    const entry = { unique_id, other_unique_id, channel: req.channel, expires: Date.now() + (req.timeout_s ?? 30) * 1000 + 60_000 };
    const already = this.early.get(actionId);
    if (already) {
      this.early.delete(actionId);
      void this.settle(entry, already.outcome);
    } else {
      this.sweep();
      this.pending.set(actionId, entry);
    }
    return { unique_id, other_unique_id };
  }

  /** OriginateResponse: the outcome of one of our originates (matched by ActionID), published as an event. */
  onOriginateResponse(m: AmiMessage): void {
    const actionId = m.fields.ActionID;
    if (!actionId) return;
    const entry = this.pending.get(actionId);
    if (!entry) {
      // maybe ours, ahead of the Originate's answer; or another AMI client's: kept 30 s either way
      this.sweep();
      if (this.early.size < PENDING_MAX) {
        // delete first: a repeated ActionID goes to the end, so the map stays in arrival order
        this.early.delete(actionId);
        this.early.set(actionId, { outcome: originateResponse(m), at: clockMs() });
      }
      return;
    }
    this.pending.delete(actionId);
    void this.settle(entry, originateResponse(m));
  }

  private async settle(entry: PendingOriginate, r: OriginateResponse): Promise<void> {
    const code = Number(r.reason ?? '0');
    const answered = r.response === 'Success';
    let { reason, message } = REASONS[code] ?? { reason: 'failed' as const, message: `Asterisk's reason code ${code}` };
    if (answered) ({ reason, message } = REASONS[4]!);
    else if (reason === 'answered') reason = 'failed';
    if (!answered && code === 0) {
      const target = await this.missingLocalTarget(entry.channel);
      if (target) {
        reason = 'no_such_extension';
        message = `no such extension: ${target}`;
      }
    }
    this.publishOutcome({
      unique_id: entry.unique_id,
      other_unique_id: entry.other_unique_id,
      channel: entry.channel,
      outcome: answered ? 'answered' : 'failed',
      reason,
      reason_code: Number.isFinite(code) ? code : 0,
      message,
    });
  }

  /** For a Local/<exten>@<context> channel that failed at once: the target when the dialplan lacks it. */
  private async missingLocalTarget(channel: string): Promise<string | null> {
    const l = /^Local\/([^@/]+)@([^/]+)(\/.*)?$/i.exec(channel);
    if (!l) return null;
    return (await this.extensionExists(l[2]!, l[1]!).catch(() => true)) ? null : `${l[1]}@${l[2]}`;
  }

  /** ShowDialPlan of one extension (patterns match too); Asterisk answers an error when there is none. */
  private async extensionExists(context: string, exten: string): Promise<boolean> {
    try {
      await this.ami.list('ShowDialPlan', { Context: context, Extension: exten });
      return true;
    } catch (e) {
      if (e instanceof AmiError) return false;
      throw e;
    }
  }

  private sweep(): void {
    const now = clockMs();
    for (const [id, p] of this.pending) if (p.expires < now || this.pending.size > PENDING_MAX) this.pending.delete(id);
    // oldest first (onOriginateResponse keeps arrival order): stop at the first one still young, instead of walking
    // every kept response on each OriginateResponse
    for (const [id, e] of this.early) {
      if (e.at + EARLY_KEEP_MS >= now) break;
      this.early.delete(id);
    }
  }

  // ---- actions on a channel ----

  private async act(ch: Channel, what: string, action: string, headers: AmiHeaders): Promise<AmiMessage> {
    try {
      return await this.ami.action(action, { Channel: ch.channel, ...headers });
    } catch (e) {
      throw channelRefusal(e, ch, what);
    }
  }

  async redirect(ch: Channel, context: string, exten: string, priority: string): Promise<void> {
    // Redirect takes any target and the channel then hangs up there: check the dialplan has it first
    if (!(await this.extensionExists(context, exten))) throw badRequest(`no such extension: ${exten}@${context}`, { field: 'exten' });
    await this.act(ch, 'transfer the call', 'Redirect', { Context: context, Exten: exten, Priority: priority });
  }

  /** Atxfer: the channel (the transferer) dials the target while its bridged peer waits on hold. */
  async attendedTransfer(ch: Channel, context: string, exten: string): Promise<void> {
    if (!ch.bridge_id) throw new ApiError(409, `channel ${ch.channel} is not in a bridge: an attended transfer needs a bridged peer`);
    if (this.atxfers.has(ch.unique_id)) throw new ApiError(409, `channel ${ch.channel} is already in an attended transfer`);
    await this.act(ch, 'start an attended transfer', 'Atxfer', { Context: context, Exten: exten });
    this.atxfers.set(ch.unique_id, { context, exten });
  }

  /** CancelAtxfer: the target is hung up and the transferer goes back to its peer. */
  async cancelAttendedTransfer(ch: Channel): Promise<{ context: string; exten: string }> {
    const t = this.atxferOr409(ch);
    await this.act(ch, 'cancel the attended transfer', 'CancelAtxfer', {});
    this.atxfers.delete(ch.unique_id);
    return t;
  }

  /** The transferer leaves: Asterisk bridges its held peer with the target (the transfer completes). */
  async completeAttendedTransfer(ch: Channel): Promise<void> {
    // without a transfer under way this would only hang the call up
    this.atxferOr409(ch);
    await this.act(ch, 'complete the attended transfer', 'Hangup', {});
    // the outcome comes with Asterisk's AttendedTransfer event (onAttendedTransfer)
  }

  /** Asterisk's AttendedTransfer event (Result Success, Fail, Invalid, Not Permitted) of a transfer started over REST. */
  onAttendedTransfer(m: AmiMessage): TransferProgress | undefined {
    const uid = m.fields.OrigTransfererUniqueid ?? '';
    const t = this.atxfers.get(uid);
    if (!t) return undefined;
    this.atxfers.delete(uid);
    const ok = m.fields.Result === 'Success';
    return {
      unique_id: uid,
      kind: 'attended',
      state: ok ? 'completed' : 'failed',
      context: t.context,
      exten: t.exten,
      message: ok ? 'the transferer left; its peer is connected to the target' : `Asterisk: ${m.fields.Result ?? 'no result'}`,
    };
  }

  private atxferOr409(ch: Channel): { context: string; exten: string } {
    const t = this.atxfers.get(ch.unique_id);
    if (!t) throw new ApiError(409, `channel ${ch.channel} has no attended transfer under way (start one with "attended": true)`);
    return t;
  }

  /** The channel hung up: whatever transfer it had is over. */
  forget(uniqueId: string): void {
    if (!this.atxfers.has(uniqueId)) return;
    // completing is the transferer hanging up: Asterisk's AttendedTransfer event may come after its Hangup
    setTimeout(() => this.atxfers.delete(uniqueId), 10_000).unref();
  }

  async park(ch: Channel, lot: string | undefined, timeoutS: number | undefined): Promise<void> {
    await this.act(ch, 'park the call', 'Park', {
      Parkinglot: lot,
      Timeout: timeoutS === undefined ? undefined : timeoutS * 1000,
    });
  }

  async playDtmf(ch: Channel, digits: string, durationMs: number | undefined): Promise<void> {
    for (const d of digits) await this.act(ch, 'play DTMF', 'PlayDTMF', { Digit: d, Duration: durationMs });
  }

  async mute(ch: Channel, direction: 'in' | 'out' | 'all', muted: boolean): Promise<void> {
    await this.act(ch, 'mute', 'MuteAudio', { Direction: direction, State: muted ? 'on' : 'off' });
  }

  async getVariable(ch: Channel, name: string): Promise<string> {
    this.variableName(name);
    const r = await this.act(ch, 'read a variable', 'Getvar', { Variable: name });
    return r.fields.Value ?? '';
  }

  async setVariable(ch: Channel, name: string, value: string): Promise<void> {
    this.variableName(name);
    await this.act(ch, 'set a variable', 'Setvar', { Variable: name, Value: value });
  }

  private variableName(name: string): void {
    if (!VARIABLE_NAME.test(name)) throw badRequest(`"${name.replace(/[\r\n]/g, '?')}" is not a variable name`, { field: 'name' });
  }

  // ---- recording ----

  async startRecording(ch: Channel, format: string | undefined): Promise<Recording> {
    if (ch.recording && ch.recording.state !== 'stopped')
      throw new ApiError(409, `channel ${ch.channel} is already being recorded (${ch.recording.file_name})`);
    const fmt = format ?? this.recordings.format;
    const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '');
    const fileName = `${ch.unique_id.replace(/[^A-Za-z0-9_-]/g, '_')}-${stamp}.${fmt}`;
    const file = path.join(this.recordings.dir, fileName);
    await this.act(ch, 'start recording', 'MixMonitor', { File: file });
    const rec: Recording = { file, file_name: fileName, format: fmt, state: 'recording', started: isoNow() };
    this.setRecording(ch, rec);
    return rec;
  }

  async pauseRecording(ch: Channel, paused: boolean): Promise<Recording> {
    const rec = this.recordingOr409(ch);
    await this.act(ch, paused ? 'pause the recording' : 'resume the recording', 'MixMonitorMute', {
      Direction: 'both',
      State: paused ? '1' : '0',
    });
    const next: Recording = { ...rec, state: paused ? 'paused' : 'recording' };
    this.setRecording(ch, next);
    return next;
  }

  async stopRecording(ch: Channel): Promise<Recording> {
    const rec = this.recordingOr409(ch);
    await this.act(ch, 'stop the recording', 'StopMixMonitor', {});
    const next: Recording = { ...rec, state: 'stopped' };
    this.setRecording(ch, next);
    return next;
  }

  private recordingOr409(ch: Channel): Recording {
    if (!ch.recording || ch.recording.state === 'stopped') throw new ApiError(409, `channel ${ch.channel} is not being recorded`);
    return ch.recording;
  }

  private setRecording(ch: Channel, rec: Recording): void {
    ch.recording = rec;
    ch.tm_update = isoNow();
    this.state.channels.touch();
  }
}

/** `"name" <num>`: quotes and angle brackets would change how Asterisk splits it, so they are refused. */
function callerId(name: string | undefined, num: string | undefined): string | undefined {
  if (name === undefined && num === undefined) return undefined;
  for (const [field, v] of [
    ['caller_id_name', name],
    ['caller_id_num', num],
  ] as const) {
    if (v !== undefined && /["<>]/.test(v)) throw badRequest(`${field}: must not contain " < or >`, { field });
  }
  return `${name !== undefined ? `"${name}" ` : ''}<${num ?? ''}>`;
}
