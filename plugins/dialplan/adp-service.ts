// Async dialplans in the gateway's store: adpmas (named groups, chosen by the dialplan as AGI(agi:async,<name>)) and
// their adps (one AGI command each, run in `sequence` order). Input arrives checked against its schema (schemas.ts);
// the rules that need the store live here: unique adpma names, unique sequences per adpma, an adp's adpma exists.
import type { Collection, Store } from '../../core/store/store.ts';
import { ApiError, badRequest, conflict, notFound } from '../../core/http/errors.ts';
import { MAX_SEQUENCE, type Adp, type AdpCreate, type AdpUpdate, type Adpma, type AdpmaCreate, type AdpmaUpdate } from './schemas.ts';

export const ADPMAS = 'adpmas';
export const ADPS = 'adps';

type Fields<T> = Partial<Omit<T, 'uuid' | 'tm_create' | 'tm_update'>>;

/** The URL's uuid, when the body repeats it, must match. */
function sameUuid(given: string | undefined, uuid: string): void {
  if (given !== undefined && given !== uuid) throw badRequest('uuid: does not match the uuid in the URL', { field: 'uuid' });
}

/** The record as answered: the declared fields only, whatever else an older store file may hold. */
export const viewAdpma = (r: Adpma): Adpma => ({
  uuid: r.uuid,
  name: r.name,
  detail: r.detail,
  tm_create: r.tm_create,
  tm_update: r.tm_update,
});
export const viewAdp = (r: Adp): Adp => ({
  uuid: r.uuid,
  dpma_uuid: r.dpma_uuid,
  sequence: r.sequence,
  name: r.name,
  detail: r.detail,
  command: r.command,
  tm_create: r.tm_create,
  tm_update: r.tm_update,
});

export class AdpService {
  readonly adpmas: Collection<Adpma>;
  readonly adps: Collection<Adp>;
  /** Writes one at a time, so two requests cannot both pass a uniqueness check and then both insert. */
  private chain: Promise<unknown> = Promise.resolve();

  constructor(store: Store) {
    this.adpmas = store.collection<Adpma>(ADPMAS);
    this.adps = store.collection<Adp>(ADPS);
  }

  private serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.chain.catch(() => undefined).then(task);
    this.chain = run;
    return run;
  }

  // ---- adpmas ----
  listAdpmas(): Adpma[] {
    return this.adpmas.all().map(viewAdpma);
  }

  adpma(uuid: string): Adpma {
    const r = this.adpmas.get(uuid);
    if (!r) throw notFound(`no adpma with uuid ${uuid}`);
    return r;
  }

  /** The adpma the dialplan asked for: by uuid, else by name. */
  resolveAdpma(key: string): Adpma | undefined {
    const k = key.trim();
    if (!k) return undefined;
    return this.adpmas.get(k) ?? this.adpmas.find((r) => r.name === k);
  }

  private nameFree(name: string, exceptUuid?: string): void {
    const other = this.adpmas.find((r) => r.name === name);
    if (other && other.uuid !== exceptUuid)
      throw conflict(`an adpma named "${name}" exists already (uuid ${other.uuid})`, { field: 'name' });
  }

  createAdpma(input: AdpmaCreate): Promise<Adpma> {
    const { name } = input;
    const detail = input.detail ?? null;
    return this.serial(async () => {
      this.nameFree(name);
      return this.adpmas.insert({ name, detail });
    });
  }

  updateAdpma(uuid: string, input: AdpmaUpdate): Promise<Adpma> {
    this.adpma(uuid);
    sameUuid(input.uuid, uuid);
    const patch: Fields<Adpma> = {};
    if (input.name !== undefined) patch.name = input.name;
    if (input.detail !== undefined) patch.detail = input.detail;
    return this.serial(async () => {
      if (patch.name !== undefined) this.nameFree(patch.name, uuid);
      const r = await this.adpmas.update(uuid, patch);
      if (!r) throw notFound(`no adpma with uuid ${uuid}`);
      return r;
    });
  }

  /** Deletes the adpma and its adps (they belong to it). Calls running it keep the steps they started with. */
  deleteAdpma(uuid: string): Promise<number> {
    this.adpma(uuid);
    return this.serial(async () => {
      if (!(await this.adpmas.remove(uuid))) throw notFound(`no adpma with uuid ${uuid}`);
      return this.adps.removeWhere((r) => r.dpma_uuid === uuid);
    });
  }

  // ---- adps ----
  /** Every adp, or one adpma's, by adpma and then sequence. */
  listAdps(dpmaUuid?: string): Adp[] {
    const rows = dpmaUuid === undefined ? [...this.adps.all()] : this.adps.filter((r) => r.dpma_uuid === dpmaUuid);
    return rows.sort((a, b) => (a.dpma_uuid < b.dpma_uuid ? -1 : a.dpma_uuid > b.dpma_uuid ? 1 : a.sequence - b.sequence)).map(viewAdp);
  }

  adp(uuid: string): Adp {
    const r = this.adps.get(uuid);
    if (!r) throw notFound(`no adp with uuid ${uuid}`);
    return r;
  }

  /** An adpma's adps in run order. */
  steps(dpmaUuid: string): Adp[] {
    return this.adps.filter((r) => r.dpma_uuid === dpmaUuid).sort((a, b) => a.sequence - b.sequence);
  }

  private dpmaRef(uuid: string): string {
    if (!this.adpmas.get(uuid)) throw new ApiError(404, `dpma_uuid: no adpma with uuid ${uuid}`, { field: 'dpma_uuid' });
    return uuid;
  }

  private sequenceFree(dpmaUuid: string, sequence: number, exceptUuid?: string): void {
    const other = this.adps.find((r) => r.dpma_uuid === dpmaUuid && r.sequence === sequence && r.uuid !== exceptUuid);
    if (other) {
      throw conflict(
        `sequence ${sequence} is taken in adpma ${dpmaUuid} by adp ${other.uuid}; adps run in sequence order, so each needs its own`,
        { field: 'sequence' },
      );
    }
  }

  createAdp(input: AdpCreate): Promise<Adp> {
    const dpmaUuid = this.dpmaRef(input.dpma_uuid);
    const fields = { name: input.name ?? null, detail: input.detail ?? null, command: input.command ?? null };
    return this.serial(async () => {
      this.dpmaRef(dpmaUuid); // it may have been deleted while this waited
      // No sequence: after the adpma's last adp.
      const sequence = input.sequence ?? this.steps(dpmaUuid).reduce((m, r) => Math.max(m, r.sequence + 1), 1);
      if (sequence > MAX_SEQUENCE) throw badRequest('sequence: the adpma has no room after its last adp; give one', { field: 'sequence' });
      this.sequenceFree(dpmaUuid, sequence);
      return this.adps.insert({ dpma_uuid: dpmaUuid, sequence, ...fields });
    });
  }

  updateAdp(uuid: string, input: AdpUpdate): Promise<Adp> {
    this.adp(uuid);
    sameUuid(input.uuid, uuid);
    const patch: Fields<Adp> = {};
    if (input.dpma_uuid !== undefined) patch.dpma_uuid = this.dpmaRef(input.dpma_uuid);
    if (input.sequence !== undefined) patch.sequence = input.sequence;
    if (input.name !== undefined) patch.name = input.name;
    if (input.detail !== undefined) patch.detail = input.detail;
    if (input.command !== undefined) patch.command = input.command;
    return this.serial(async () => {
      const cur = this.adp(uuid);
      const dpma = patch.dpma_uuid ?? cur.dpma_uuid;
      if (patch.dpma_uuid !== undefined) this.dpmaRef(dpma);
      this.sequenceFree(dpma, patch.sequence ?? cur.sequence, uuid);
      const r = await this.adps.update(uuid, patch);
      if (!r) throw notFound(`no adp with uuid ${uuid}`);
      return r;
    });
  }

  deleteAdp(uuid: string): Promise<void> {
    this.adp(uuid);
    return this.serial(async () => {
      if (!(await this.adps.remove(uuid))) throw notFound(`no adp with uuid ${uuid}`);
    });
  }
}
