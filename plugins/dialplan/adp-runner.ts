// Runs async dialplans on calls. The dialplan hands a call over with AGI(agi:async,<adpma name or uuid>); Asterisk
// announces it with AsyncAGIStart (Env carries agi_arg_1). The gateway then sends that adpma's adps, in sequence
// order, one AMI `AGI` action (Channel, Command, CommandID) at a time, waiting for each AsyncAGIExec (its CommandId
// echoes ours; Result is the url-encoded AGI reply). After the last one it sets ADPSTATUS and sends ASYNCAGI BREAK,
// so the call goes on with the next dialplan priority; AsyncAGIEnd ends the session.
//
// ADPSTATUS (a channel variable, like AGISTATUS): SUCCESS every adp answered 200; FAILED one did not (510 unknown
// command, 520 usage, EXEC of an unknown application (result=-2), result=-1), the rest are skipped; NOTFOUND no
// adpma by that name or uuid (without an argument, the channel variable ADPMA is read instead); INTERRUPTED the gateway
// lost AMI mid-run (found again after the reconnect: the call is let go, not run twice).
//
// The gateway drives every AGI(agi:async) call it sees. A run uses the adps as they were when the call arrived.
import { randomBytes } from 'node:crypto';
import { AmiError, AmiNotConnectedError } from '../../core/ami/errors.ts';
import type { AmiMessage } from '../../core/ami/message.ts';
import { header } from '../../core/ami/message.ts';
import type { AmiPort } from '../../core/ami/port.ts';
import type { EventBus } from '../../core/bus/bus.ts';
import { isoNow } from '../../core/live/clock.ts';
import { LiveTable } from '../../core/live/table.ts';
import type { Logger } from '../../core/log.ts';
import { asyncAgiArgs, parseAgiEnv, parseAgiResult, parseCommand, parseConciseChannels, type AgiResult } from './agi.ts';
import type { AdpService } from './adp-service.ts';
import { events, type AdpSession, type AdpSessionStep, type Outcome } from './schemas.ts';

/**
 * The session as it is now, for an event payload: the live session and its steps go on changing, and the resume
 * ring keeps payloads, so one handed out as is would be replayed as it is later, not as it was sent.
 */
function snapshot(s: AdpSession, tmUpdate = s.tm_update): AdpSession {
  return { ...s, adps: s.adps.map((step) => ({ ...step })), tm_update: tmUpdate };
}

/** The channel variable that names the adpma when AGI(agi:async) has no argument. */
export const ADPMA_VARIABLE = 'ADPMA';
/** The channel variable the gateway sets before letting the call go on. */
export const STATUS_VARIABLE = 'ADPSTATUS';

interface Run {
  session: AdpSession;
  /** CommandID -> the step waiting for its AsyncAGIExec, and the waiter (null: the session ended first). */
  pending: Map<string, { step: AdpSessionStep; resolve: (r: AgiResult | null) => void }>;
  ended: boolean;
  /** Set while letGo's SET VARIABLE + ASYNCAGI BREAK are under way; settles (never rejects) when they have. */
  releasing?: Promise<void>;
}

/** 200 and not result=-1 (failure or hangup); EXEC answers result=-2 when the application does not exist. */
export function succeeded(step: Pick<AdpSessionStep, 'agi_command'>, reply: AgiResult): boolean {
  if (reply.code !== 200 || reply.result === -1) return false;
  return !(/^exec\b/i.test(step.agi_command) && reply.result === -2);
}

export class AdpRunner {
  readonly sessions = new LiveTable<AdpSession>();
  private readonly runs = new Map<string, Run>();
  private readonly byCommand = new Map<string, Run>();
  /**
   * Calls that were mid-run when AMI went away (unique id -> whether they were let go already). The reconnect's
   * resync finds them still in AGI and lets them go with ADPSTATUS=INTERRUPTED rather than starting them again.
   */
  private readonly lost = new Map<string, 'lost' | 'released'>();
  private readonly idPrefix = `gw-adp-${randomBytes(4).toString('hex')}-`;
  private idSeq = 0;

  constructor(
    private readonly ami: AmiPort,
    private readonly adps: AdpService,
    private readonly bus: EventBus,
    private readonly log: Logger,
  ) {}

  // ---- AMI events ----
  readonly events = {
    AsyncAGIStart: (m: AmiMessage) => {
      const uid = m.fields.Uniqueid;
      const channel = m.fields.Channel;
      if (!uid || !channel) return;
      if (this.runs.has(uid)) return; // already taken up from the resync's channel list
      this.lost.delete(uid); // a new AGI run on that channel
      this.start(uid, channel, parseAgiEnv(m.fields.Env).agi_arg_1 ?? '');
    },
    AsyncAGIExec: (m: AmiMessage) => {
      const id = header(m, 'CommandID'); // Asterisk 22 spells it CommandId
      if (!id) return;
      const run = this.byCommand.get(id);
      if (!run) return;
      this.byCommand.delete(id);
      const waiter = run.pending.get(id);
      run.pending.delete(id);
      if (!waiter) return;
      // Recorded here, not in the waiting loop: on a hangup AsyncAGIEnd follows at once and ends the session.
      const reply = parseAgiResult(m.fields.Result);
      const step = waiter.step;
      step.result = reply.text;
      step.tm_exec = isoNow();
      step.status = succeeded(step, reply) ? 'done' : 'failed';
      this.touch(run);
      waiter.resolve(reply);
    },
    AsyncAGIEnd: (m: AmiMessage) => this.ended(m.fields.Uniqueid),
    // AsyncAGIEnd comes first on a hangup; this is the safety net.
    Hangup: (m: AmiMessage) => this.ended(m.fields.Uniqueid),
  };

  private ended(uid: string | undefined): void {
    if (!uid) return;
    this.lost.delete(uid);
    const run = this.runs.get(uid);
    if (!run) return;
    // The AGI ended while the gateway was letting the call go (after a command failed): whether that was its BREAK or
    // a hangup is told by the release itself, which fails on a channel that left AGI (letGo then says HANGUP). A
    // command answers result=-1 on a hangup (e.g. EXEC Wait), and AsyncAGIEnd may come in a later read than it.
    if (run.releasing !== undefined && !run.ended) {
      run.releasing.then(() => this.finish(run, run.session.outcome ?? 'HANGUP'));
      return;
    }
    this.finish(run, run.session.outcome ?? 'HANGUP');
  }

  // ---- life cycle ----
  /**
   * AMI went away: every run loses its thread (its AsyncAGIExec events are gone). Those that had not yet sent
   * ASYNCAGI BREAK are remembered: their calls are still in AGI, waiting for the next command.
   */
  reset(): void {
    for (const run of [...this.runs.values()]) {
      if (run.session.status === 'running') this.lost.set(run.session.unique_id, 'lost');
      this.finish(run, 'INTERRUPTED', false);
    }
  }

  /**
   * After a (re)connect: calls in AGI(agi:async) that the gateway does not drive. Those it lost mid-run are let go
   * (ADPSTATUS=INTERRUPTED): a lost call that still exists is still in AGI, as only the gateway's BREAK or a hangup
   * ends it, though the channel list may show the last application an EXEC ran (Asterisk 22 leaves it there). The
   * others arrived while the gateway was away: nothing ran on them, so the list shows them in AGI, and they are
   * started now. Read with a CLI command, not a list action, so the AsyncAGIStart events held during the resync are
   * all replayed afterwards (one for a call started here is then a duplicate and is ignored).
   */
  async resync(): Promise<void> {
    const channels = parseConciseChannels(await this.ami.command('core show channels concise'));
    const present = new Map(channels.map((c) => [c.unique_id, c.channel]));
    for (const uid of [...this.lost.keys()]) if (!present.has(uid)) this.lost.delete(uid);
    for (const [uid, state] of this.lost) {
      if (state === 'released') continue;
      this.lost.set(uid, 'released');
      const channel = present.get(uid)!;
      this.log.warn(`async dialplan: ${channel} was mid-run when AMI went away; letting it go (${STATUS_VARIABLE}=INTERRUPTED)`);
      await this.release(channel, 'INTERRUPTED').catch((e) =>
        this.log.warn(`async dialplan: could not let ${channel} go: ${(e as Error).message}`),
      );
    }
    const inAgi = new Map<string, { channel: string; args: string[] }>();
    for (const c of channels) {
      const args = c.application.toUpperCase() === 'AGI' ? asyncAgiArgs(c.data) : null;
      if (args && c.unique_id) inAgi.set(c.unique_id, { channel: c.channel, args });
    }
    this.log.debug(
      `resync: ${channels.length} channels; waiting in AGI(agi:async): ${[...inAgi.keys()].join(' ') || 'none'}; driving: ${[...this.runs.keys()].join(' ') || 'none'}`,
    );
    for (const [uid, c] of inAgi) {
      if (this.runs.has(uid) || this.lost.has(uid)) continue;
      this.start(uid, c.channel, c.args[0] ?? '');
    }
  }

  /** Gateway shutdown (AMI is still up): let every call we drive continue in its dialplan with INTERRUPTED. */
  async close(): Promise<void> {
    const runs = [...this.runs.values()];
    for (const run of runs) this.finish(run, 'INTERRUPTED', false);
    if (!this.ami.connected) return;
    await Promise.all(
      runs.map((run) =>
        this.release(run.session.channel, 'INTERRUPTED').catch((e) =>
          this.log.warn(`async dialplan: could not let ${run.session.channel} go: ${(e as Error).message}`),
        ),
      ),
    );
  }

  // ---- one call ----
  private start(uid: string, channel: string, key: string): void {
    const t = isoNow();
    const session: AdpSession = {
      unique_id: uid,
      channel,
      adpma: key || null,
      adpma_uuid: null,
      adpma_name: null,
      status: 'running',
      outcome: null,
      adps: [],
      tm_create: t,
      tm_update: t,
    };
    const run: Run = { session, pending: new Map(), ended: false };
    this.runs.set(uid, run);
    this.sessions.set(uid, session);
    this.bus.publish(events.sessionStarted, snapshot(session));
    this.drive(run).catch((e) => {
      this.log.error(`async dialplan on ${channel} failed:`, e);
      if (!run.ended) this.letGo(run, 'FAILED').catch(() => undefined);
    });
  }

  private touch(run: Run): void {
    run.session.tm_update = isoNow();
    this.sessions.touch();
  }

  private async drive(run: Run): Promise<void> {
    const s = run.session;
    let key = s.adpma ?? '';
    if (!key) {
      key = await this.ami.action('Getvar', { Channel: s.channel, Variable: ADPMA_VARIABLE }).then(
        (r) => (r.fields.Value ?? '').trim(),
        () => '',
      );
      if (run.ended) return;
      s.adpma = key || null;
    }
    const adpma = key ? this.adps.resolveAdpma(key) : undefined;
    if (!adpma) {
      this.log.warn(
        `async dialplan: ${s.channel} asked for ${key ? `adpma "${key}", which does not exist` : 'no adpma'}; letting it go (${STATUS_VARIABLE}=NOTFOUND)`,
      );
      return this.letGo(run, 'NOTFOUND');
    }
    s.adpma_uuid = adpma.uuid;
    s.adpma_name = adpma.name;
    for (const a of this.adps.steps(adpma.uuid)) {
      if (a.command === null) continue; // an adp without a command runs nothing
      const p = parseCommand(a.command);
      if ('error' in p) continue; // refused when written; cannot happen
      s.adps.push({
        adp_uuid: a.uuid,
        sequence: a.sequence,
        name: a.name,
        command: a.command,
        agi_command: p.agi,
        command_id: null,
        status: 'pending',
        result: null,
        tm_exec: null,
      });
    }
    this.touch(run);
    for (const step of s.adps) {
      if (run.ended) return;
      step.status = 'running';
      const reply = await this.exec(run, step);
      if (reply === null || run.ended) return; // the session ended (hangup, AGI over, AMI gone)
      this.bus.publish(events.sessionUpdated, snapshot(s));
      if ((step.status as AdpSessionStep['status']) === 'failed') {
        // set by the AsyncAGIExec handler
        for (const rest of s.adps) if (rest.status === 'pending') rest.status = 'skipped';
        return this.letGo(run, 'FAILED');
      }
      // HANGUP: the channel is going; AsyncAGIEnd follows and nothing more may be queued.
      if (/^hangup$/i.test(step.agi_command.trim())) return;
    }
    return this.letGo(run, 'SUCCESS');
  }

  /** Send one command and wait for its AsyncAGIExec. null when the session ends first or the action failed. */
  private exec(run: Run, step: AdpSessionStep): Promise<AgiResult | null> {
    const id = `${this.idPrefix}${++this.idSeq}`;
    step.command_id = id;
    this.touch(run);
    return new Promise((resolve) => {
      // Registered before the action: the AsyncAGIExec can come before the action's answer.
      run.pending.set(id, { step, resolve });
      this.byCommand.set(id, run);
      this.ami.action('AGI', { Channel: run.session.channel, Command: step.agi_command, CommandID: id }).catch((e: Error) => {
        run.pending.delete(id);
        this.byCommand.delete(id);
        resolve(null);
        this.actionFailed(run, e);
      });
    });
  }

  private actionFailed(run: Run, e: Error): void {
    if (run.ended) return;
    if (e instanceof AmiError) {
      // "Channel ... does not exist.": it hung up between two commands
      this.log.info(`async dialplan: ${run.session.channel}: ${e.message}`);
      this.finish(run, 'HANGUP');
    } else if (e instanceof AmiNotConnectedError) {
      // reset() takes it from here
    } else {
      this.log.warn(`async dialplan: ${run.session.channel}: AGI action failed: ${e.message}`);
      this.letGo(run, 'FAILED').catch(() => undefined);
    }
  }

  /** Set ADPSTATUS and end the async AGI: the call continues in the dialplan. AsyncAGIEnd then ends the session. */
  private async letGo(run: Run, outcome: Outcome): Promise<void> {
    if (run.ended) return;
    run.session.outcome = outcome;
    run.session.status = 'ending';
    this.touch(run);
    const released = this.release(run.session.channel, outcome);
    run.releasing = released.then(
      () => undefined,
      () => undefined,
    );
    try {
      await released;
    } catch (e) {
      if (e instanceof AmiError) this.finish(run, 'HANGUP');
      else if (!(e instanceof AmiNotConnectedError))
        this.log.warn(`async dialplan: could not end AGI on ${run.session.channel}: ${(e as Error).message}`);
    }
  }

  /** Both queued at once: AGI runs them in order, and the BREAK ends it whatever the first answered. */
  private async release(channel: string, outcome: Outcome): Promise<void> {
    const send = (cmd: string) => this.ami.action('AGI', { Channel: channel, Command: cmd, CommandID: `${this.idPrefix}${++this.idSeq}` });
    await send(`SET VARIABLE ${STATUS_VARIABLE} ${outcome}`);
    await send('ASYNCAGI BREAK');
  }

  private finish(run: Run, outcome: Outcome, publish = true): void {
    if (run.ended) return;
    run.ended = true;
    const s = run.session;
    if (s.outcome === null || outcome === 'HANGUP' || outcome === 'INTERRUPTED') s.outcome = outcome;
    for (const step of s.adps) if (step.status === 'pending' || step.status === 'running') step.status = 'skipped';
    for (const [id, waiter] of run.pending) {
      this.byCommand.delete(id);
      waiter.resolve(null);
    }
    run.pending.clear();
    this.runs.delete(s.unique_id);
    this.sessions.delete(s.unique_id);
    if (publish) this.bus.publish(events.sessionEnded, snapshot(s, isoNow()));
  }
}
