// Use cases of the park plugin that talk to Asterisk or its files: the Parkinglots / ParkedCalls resync, hanging up
// a parked call, and editing a lot's section of res_parking.conf followed by a reload of res_parking.
import type { AmiPort } from '../../core/ami/port.ts';
import type { ConfigFiles, ReloadOutcome } from '../../core/config-files.ts';
import type { Logger } from '../../core/log.ts';
import { badRequest, notFound } from '../../core/http/errors.ts';
import { Debounced, StateReads } from '../../core/live/reads.ts';
import { parseConfig, validateName, validateValue, type ConfigDocument, type EntryInput, type EntryOp } from '../../config-store/index.ts';
import type { Lot, ParkedCall, ParkState } from './state.ts';

export const PARKING_CONF = 'res_parking.conf';
const DEBOUNCE_MS = 200;

const YES_NO = /^(yes|no|true|false|on|off|1|0|y|n|t|f)$/i;
const WHO = /^(caller|callee|both|no)$/i;
const UINT = /^\d+$/;

/** res_parking.conf lot options (res/res_parking.c), each with a check of its value. */
const LOT_OPTIONS: Record<string, (v: string) => string | null> = {
  parkext: (v) => (/^[0-9A-Za-z*#_+.!-]+$/.test(v) ? null : 'must be an extension'),
  parkext_exclusive: (v) => (YES_NO.test(v) ? null : 'must be yes or no'),
  parkpos: (v) => {
    const m = /^(\d+)\s*-\s*(\d+)$/.exec(v);
    if (!m) return 'must be a range of spaces such as 701-720';
    return Number(m[1]) <= Number(m[2]) ? null : 'the first space must not be above the last';
  },
  context: (v) => (v !== '' ? null : 'must not be empty'),
  parkinghints: (v) => (YES_NO.test(v) ? null : 'must be yes or no'),
  parkingtime: (v) => (UINT.test(v) ? null : 'must be a whole number of seconds'),
  comebacktoorigin: (v) => (YES_NO.test(v) ? null : 'must be yes or no'),
  comebackdialtime: (v) => (UINT.test(v) ? null : 'must be a whole number of seconds'),
  comebackcontext: (v) => (v !== '' ? null : 'must not be empty'),
  courtesytone: () => null,
  parkedplay: (v) => (/^(caller|callee|parked|parker|both|no)$/i.test(v) ? null : 'must be caller, callee, both or no'),
  parkedcalltransfers: (v) => (WHO.test(v) ? null : 'must be caller, callee, both or no'),
  parkedcallreparking: (v) => (WHO.test(v) ? null : 'must be caller, callee, both or no'),
  parkedcallhangup: (v) => (WHO.test(v) ? null : 'must be caller, callee, both or no'),
  parkedcallrecording: (v) => (WHO.test(v) ? null : 'must be caller, callee, both or no'),
  findslot: (v) => (/^(first|next)$/i.test(v) ? null : 'must be first or next'),
  parkedmusicclass: (v) => (v !== '' ? null : 'must not be empty'),
};

export interface LotSetting {
  key: string;
  /** `=>` when the value was given as "> value" (the spec's example), else the op already used in the file. */
  op?: EntryOp;
  value: string;
}

export interface LotEditResult {
  reload: ReloadOutcome;
  parkinglot: Lot | null;
}

export class ParkService {
  /** The Parkinglots / ParkedCalls resync: it replays the events that arrived while it was in flight. */
  readonly reads = new StateReads();
  private readonly soon = new Debounced(DEBOUNCE_MS, () => {
    if (!this.ami.connected) return;
    this.resync().catch((e) => this.log.warn(`parking re-read failed: ${(e as Error).message}`));
  });

  constructor(
    private readonly ami: AmiPort,
    private readonly state: ParkState,
    private readonly files: ConfigFiles,
    private readonly log: Logger,
  ) {}

  resync(): Promise<void> {
    return this.reads.serial(() => this.load());
  }

  private load(): Promise<void> {
    return this.reads.read(
      () => Promise.all([this.ami.list('Parkinglots'), this.ami.list('ParkedCalls')]),
      ([lots, calls]) => {
        this.state.loadLots(lots.events);
        this.state.loadCalls(calls.events);
      },
    );
  }

  /** Lots come and go only with a reload of res_parking; re-read them (debounced) when one is seen. */
  resyncSoon(): void {
    this.soon.schedule();
  }

  reset(): void {
    this.close();
    this.state.reset();
  }

  close(): void {
    this.soon.cancel();
  }

  lotOr404(name: string): Lot {
    const lot = this.state.lots.get(name);
    if (!lot) throw notFound(`no parking lot named ${name}`);
    return lot;
  }

  callOr404(uid: string): ParkedCall {
    const call = this.state.calls.get(uid);
    if (!call) throw notFound(`no parked call with parkee_unique_id ${uid}`);
    return call;
  }

  async hangup(call: ParkedCall): Promise<void> {
    try {
      await this.ami.action('Hangup', { Channel: call.parkee_channel });
    } catch (e) {
      if ((e as Error).name === 'AmiError' && /No such channel/i.test((e as Error).message)) {
        this.state.calls.delete(call.parkee_unique_id);
        throw notFound(`parked call ${call.parkee_unique_id} (${call.parkee_channel}) is already gone`);
      }
      throw e;
    }
  }

  // ---- res_parking.conf ----

  /** A lot name for a section header: not [general], and nothing Asterisk's parser would read differently. */
  lotName(name: string): string {
    if (name.toLowerCase() === 'general') throw badRequest('[general] holds res_parking\'s global options; it is not a parking lot');
    validateName(name);
    return name;
  }

  /**
   * The body of a PUT as lines of the lot's section. Values are strings (numbers and booleans are written as
   * text); a value written "> x", as in the spec's example, becomes `key => x`. Everything is checked before any
   * file is touched.
   */
  lotSettings(body: Record<string, unknown>): LotSetting[] {
    const out: LotSetting[] = [];
    const keys = Object.keys(body);
    if (keys.length === 0) throw badRequest('the body must set at least one lot option (e.g. {"parkpos": "801-820"})');
    for (const key of keys) {
      const check = LOT_OPTIONS[key];
      if (!check) throw badRequest(`${key}: not a parking lot option (known: ${Object.keys(LOT_OPTIONS).join(', ')})`, { field: key });
      const raw = body[key];
      let text: string;
      if (typeof raw === 'string') text = raw;
      else if (typeof raw === 'number' && Number.isFinite(raw)) text = String(raw);
      else if (typeof raw === 'boolean') text = raw ? 'yes' : 'no';
      else throw badRequest(`${key}: must be a string, a number or a boolean`, { field: key });
      if (/[\r\n\0]/.test(text)) throw badRequest(`${key}: must not contain CR, LF or NUL characters`, { field: key });
      let op: EntryOp | undefined;
      const arrow = /^>\s*/.exec(text);
      if (arrow) {
        op = '=>';
        text = text.slice(arrow[0].length);
      }
      text = text.trim();
      const problem = check(text);
      if (problem) throw badRequest(`${key}: "${text}" ${problem}`, { field: key });
      validateValue(text);
      out.push({ key, op, value: text });
    }
    return out;
  }

  /** The lot sections of res_parking.conf, by name. */
  async configuredLots(): Promise<Map<string, { key: string; op: EntryOp; value: string }[]>> {
    const { text } = await this.files.store.read(PARKING_CONF);
    const out = new Map<string, { key: string; op: EntryOp; value: string }[]>();
    for (const s of parseConfig(text, PARKING_CONF).sections()) {
      if (s.name.toLowerCase() === 'general' || s.isTemplate) continue;
      out.set(s.name, [...(out.get(s.name) ?? []), ...s.entries]);
    }
    return out;
  }

  /** PUT: the lot's section becomes exactly these settings (existing keys keep their place); a new lot is added. */
  async putLot(name: string, settings: LotSetting[], ifMatch?: string): Promise<LotEditResult> {
    await this.files.store.update(PARKING_CONF, (doc: ConfigDocument) => {
      const count = doc.countSections(name);
      if (count === 0) {
        doc.addSection(name, settings.map((s): EntryInput => ({ key: s.key, op: s.op ?? '=', value: s.value })));
        return;
      }
      const existing = doc.sections().find((s) => s.name === name)!;
      const given = new Map(settings.map((s) => [s.key, s]));
      const wanted: EntryInput[] = [];
      const placed = new Set<string>();
      for (const e of existing.entries) {
        const s = given.get(e.key);
        if (!s || placed.has(e.key)) continue;
        placed.add(e.key);
        wanted.push({ key: e.key, op: s.op ?? e.op, value: s.value });
      }
      for (const s of settings) if (!placed.has(s.key)) wanted.push({ key: s.key, op: s.op, value: s.value });
      doc.replaceSectionEntries(name, wanted);
    }, { ifMatch });
    return this.afterEdit(name);
  }

  async deleteLot(name: string, ifMatch?: string): Promise<LotEditResult> {
    await this.files.store.update(PARKING_CONF, (doc: ConfigDocument) => {
      if (doc.countSections(name) === 0) throw notFound(`parking lot ${name} is not defined in ${PARKING_CONF}`);
      while (doc.countSections(name) > 0) doc.deleteSection(name, { sectionIndex: 0 });
    }, { ifMatch });
    return this.afterEdit(name);
  }

  private async afterEdit(name: string): Promise<LotEditResult> {
    const reload = await this.files.reload(PARKING_CONF);
    if (reload.status === 'done' && this.ami.connected) {
      try {
        this.state.loadLots((await this.ami.list('Parkinglots')).events);
      } catch (e) {
        this.log.warn(`re-reading parking lots after the reload failed: ${(e as Error).message}`);
      }
    }
    return { reload, parkinglot: this.state.lots.get(name) ?? null };
  }
}
