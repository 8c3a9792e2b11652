// Use cases of the park plugin that talk to Asterisk or its files: the Parkinglots / ParkedCalls resync, hanging up
// a parked call, and editing a lot's section of res_parking.conf followed by a reload of res_parking.
import { randomUUID } from 'node:crypto';
import { AmiError } from '../../core/ami/errors.ts';
import type { AmiPort } from '../../core/ami/port.ts';
import type { ConfigDryRun, ConfigFiles, WriteMode } from '../../core/config-files.ts';
import type { Logger } from '../../core/log.ts';
import { badRequest, conflict, invalidField, notFound } from '../../core/http/errors.ts';
import { patchEntries, type SectionPatch } from '../../core/config-routes/section-form.ts';
import type { LiveKit } from '../../core/live/kit.ts';
import type { PluginContext } from '../../core/plugins/contract.ts';
import type { Debounced } from '../../core/live/reads.ts';
import {
  parseConfig,
  restNameProblem,
  validateName,
  validateValue,
  type ConfigDocument,
  type EntryInput,
  type EntryOp,
  type WriteResult,
} from '../../config-store/index.ts';
import {
  LOT_OPTIONS,
  type LotValue,
  type ParkingLot,
  type ParkingLotEdit,
  type ParkingLotOptions,
  type ParkingLotPatch,
} from './schemas.ts';
import type { ParkedCall, ParkState } from './state.ts';

export const PARKING_CONF = 'res_parking.conf';
const DEBOUNCE_MS = 200;

/** One line of a lot's section. */
export type LotSetting = LotValue & { key: string };

export class ParkService {
  private readonly soon: Debounced;

  constructor(
    private readonly ami: AmiPort,
    private readonly state: ParkState,
    private readonly files: ConfigFiles,
    private readonly log: Logger,
    private readonly live: LiveKit,
    /** Asterisk's option lists (core/config-routes/options.ts): what a lot write adds or changes is checked inside it. */
    private readonly options?: PluginContext['configOptions'],
  ) {
    this.soon = live.soon(DEBOUNCE_MS, 'parking re-read', () => this.resync());
  }

  /** The Parkinglots / ParkedCalls resync: it replays the events that arrived while it was in flight. */
  resync(): Promise<void> {
    return this.live.serialRead(
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

  lotOr404(name: string): ParkingLot {
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
      if (e instanceof AmiError && /No such channel/i.test(e.message)) {
        this.state.calls.delete(call.parkee_unique_id);
        throw notFound(`parked call ${call.parkee_unique_id} (${call.parkee_channel}) is already gone`);
      }
      throw e;
    }
  }

  /** Originate `channel` into ParkedCall(<lot>,<space>): when it answers it is bridged with the parkee. */
  async pickup(call: ParkedCall, channel: string, timeoutS = 30): Promise<{ unique_id: string; other_unique_id: string }> {
    const unique_id = randomUUID();
    const other_unique_id = randomUUID();
    try {
      await this.ami.action('Originate', {
        Channel: channel,
        Application: 'ParkedCall',
        Data: `${call.parking_lot},${call.parking_space}`,
        Timeout: timeoutS * 1000,
        Async: 'true',
        ChannelId: unique_id,
        OtherChannelId: other_unique_id,
      });
    } catch (e) {
      if (e instanceof AmiError && /^invalid /i.test(e.message)) throw badRequest(`Asterisk refused the pickup: ${e.message}`);
      throw e;
    }
    return { unique_id, other_unique_id };
  }

  // ---- res_parking.conf ----

  /** A lot name for a section header: not [general], and nothing Asterisk's parser would read differently. */
  lotName(name: string): string {
    if (name.toLowerCase() === 'general') throw badRequest("[general] holds res_parking's global options; it is not a parking lot");
    validateName(name);
    return name;
  }

  /**
   * The options of a PUT (already checked by ParkingLotOptionsSchema) as lines of the lot's section, in the order
   * of LOT_OPTIONS. At least one is needed: a PUT that sets nothing would empty the lot.
   */
  lotSettings(options: ParkingLotOptions): LotSetting[] {
    const out: LotSetting[] = [];
    for (const key of Object.keys(LOT_OPTIONS) as (keyof typeof LOT_OPTIONS)[]) {
      const given = options[key];
      if (given === undefined) continue;
      validateValue(given.value);
      out.push({ key, ...given });
    }
    if (out.length === 0) throw badRequest('the body must set at least one lot option (e.g. {"parkpos": "801-820"})');
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
  async putLot(name: string, settings: LotSetting[], ifMatch?: string, mode: WriteMode = {}): Promise<ParkingLotEdit | ConfigDryRun> {
    const res = await this.files.store.update(
      PARKING_CONF,
      this.checked((doc: ConfigDocument) => {
        const count = doc.countSections(name);
        if (count === 0) {
          const wrong = restNameProblem(name); // a new lot must be addressable by its path afterwards
          if (wrong) throw invalidField('name', wrong);
          doc.addSection(
            name,
            settings.map((s): EntryInput => ({ key: s.key, op: s.op ?? '=', value: s.value })),
          );
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
      }),
      { ifMatch, dryRun: mode.dryRun },
    );
    return this.afterEdit(name, res, mode);
  }

  /**
   * PATCH: only the options given change (core/config-routes/section-form.ts patchEntries): each is rewritten in its
   * line, keeping its comment and op; null removes it; a new one goes after the lot's last entry. Every other line
   * keeps its bytes. The lot must be in the file (404); a lot that repeats a given option is 409.
   */
  async patchLot(name: string, patch: ParkingLotPatch, ifMatch?: string, mode: WriteMode = {}): Promise<ParkingLotEdit | ConfigDryRun> {
    const given: SectionPatch = Object.create(null);
    for (const key of Object.keys(LOT_OPTIONS) as (keyof typeof LOT_OPTIONS)[]) {
      const val = patch[key];
      if (val === undefined) continue;
      if (val !== null) validateValue(val.value);
      given[key] = val === null ? null : val.op === '=>' ? `> ${val.value}` : val.value;
    }
    if (Object.keys(given).length === 0) throw badRequest('the body must change at least one lot option (e.g. {"parkingtime": 60})');
    const res = await this.files.store.update(
      PARKING_CONF,
      this.checked((doc: ConfigDocument) => {
        const count = doc.countSections(name);
        if (count === 0) throw notFound(`parking lot ${name} is not defined in ${PARKING_CONF}; PUT creates it`);
        if (count > 1)
          throw conflict(
            `${PARKING_CONF} has ${count} sections named [${name}]; edit it with PUT /admin/park/configurations/${PARKING_CONF}`,
          );
        const next = patchEntries(doc.section(name)!.entries, given);
        if (!Array.isArray(next))
          throw conflict(`parking lot ${name} has ${next.repeats} more than once; change it in /admin/park/cfg_parkinglots with an array`);
        doc.replaceSectionEntries(name, next);
      }),
      { ifMatch, dryRun: mode.dryRun },
    );
    return this.afterEdit(name, res, mode);
  }

  /** A lot edit whose added or changed options are checked against Asterisk's list of lot options (when wired). */
  private checked(edit: (doc: ConfigDocument) => void): (doc: ConfigDocument) => Promise<void> {
    return async (doc) => {
      const before = this.options ? doc.sections() : [];
      edit(doc);
      await this.options?.check(PARKING_CONF, before, doc);
    };
  }

  async deleteLot(name: string, ifMatch?: string, mode: WriteMode = {}): Promise<ParkingLotEdit | ConfigDryRun> {
    const res = await this.files.store.update(
      PARKING_CONF,
      (doc: ConfigDocument) => {
        if (doc.countSections(name) === 0) throw notFound(`parking lot ${name} is not defined in ${PARKING_CONF}`);
        while (doc.countSections(name) > 0) doc.deleteSection(name, { sectionIndex: 0 });
      },
      { ifMatch, dryRun: mode.dryRun },
    );
    return this.afterEdit(name, res, mode);
  }

  /** A dry run's diff; else the reload (checked, rolled back when Asterisk refuses the lot: ConfigFiles.settle). */
  private async afterEdit(name: string, res: WriteResult, mode: WriteMode): Promise<ParkingLotEdit | ConfigDryRun> {
    if (mode.dryRun) return this.files.preview(PARKING_CONF, res);
    const reload = res.before !== undefined ? await this.files.settle(PARKING_CONF, res, mode) : await this.files.reload(PARKING_CONF);
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
