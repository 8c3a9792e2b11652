// Async dialplans in the gateway's store: adpmas (named groups, chosen by the dialplan as AGI(agi:async,<name>)) and
// their adps (one AGI command each, run in `sequence` order). Validation lives here, so the routes stay thin.
import type { Collection, Store, StoredRecord } from '../../core/store/store.ts';
import { ApiError, badRequest, conflict, notFound } from '../../core/http/errors.ts';
import { assertSingleLine, checkType } from '../../core/http/body.ts';
import { parseCommand } from './agi.ts';

export interface AdpmaRecord extends StoredRecord {
  name: string;
  detail: string | null;
}

export interface AdpRecord extends StoredRecord {
  dpma_uuid: string;
  sequence: number;
  name: string | null;
  detail: string | null;
  command: string | null;
}

export const ADPMAS = 'adpmas';
export const ADPS = 'adps';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/**
 * An adpma name is what the dialplan passes as AGI(agi:async,<name>): no comma (it would split the arguments), no
 * quote, backslash or parenthesis (the dialplan parser reads them), no leading or trailing blank.
 */
const ADPMA_NAME = /^[A-Za-z0-9._@:+#-](?:[A-Za-z0-9 ._@:+#-]{0,78}[A-Za-z0-9._@:+#-])?$/;
const MAX_TEXT = 1024;
const MAX_SEQUENCE = 2147483647;
/** Fields a client may send back unchanged (the spec's PUT example repeats uuid); they are never written. */
const READ_ONLY = ['uuid', 'tm_create', 'tm_update'];

type Body = Record<string, unknown>;

function objectBody(body: unknown): Body {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw badRequest('body: must be a JSON object');
  return body as Body;
}

function onlyKnown(b: Body, fields: string[]): void {
  for (const k of Object.keys(b)) {
    if (!fields.includes(k) && !READ_ONLY.includes(k)) throw badRequest(`${k}: unknown field`, { field: k });
  }
}

/** The URL's uuid, when the body repeats it, must match. */
function sameUuid(b: Body, uuid: string): void {
  if (b.uuid !== undefined && b.uuid !== uuid) throw badRequest('uuid: does not match the uuid in the URL', { field: 'uuid' });
}

/** A string field that may be null (to clear it). undefined = not given. */
function nullableText(b: Body, field: string): string | null | undefined {
  const v = b[field];
  if (v === undefined) return undefined;
  if (v === null) return null;
  checkType(v, 'string', field);
  if ((v as string).length > MAX_TEXT) throw badRequest(`${field}: must be at most ${MAX_TEXT} characters`, { field });
  return v as string;
}

function adpmaName(v: unknown): string {
  checkType(v, 'string', 'name');
  const name = v as string;
  if (UUID.test(name)) throw badRequest('name: must not look like a uuid (the dialplan may name an adpma by either)', { field: 'name' });
  if (!ADPMA_NAME.test(name)) {
    throw badRequest('name: 1-80 letters, digits, blanks or . _ @ : + # -, not starting or ending with a blank (the dialplan passes it as AGI(agi:async,<name>))', { field: 'name' });
  }
  return name;
}

function sequenceOf(v: unknown): number {
  checkType(v, 'integer', 'sequence');
  const n = v as number;
  if (n < 0 || n > MAX_SEQUENCE) throw badRequest(`sequence: must be an integer from 0 to ${MAX_SEQUENCE}`, { field: 'sequence' });
  return n;
}

function commandOf(b: Body): string | null | undefined {
  const v = nullableText(b, 'command');
  if (v === undefined || v === null) return v;
  const p = parseCommand(v);
  if ('error' in p) throw badRequest(`command: ${p.error}`, { field: 'command' });
  return v.trim();
}

export const viewAdpma = (r: AdpmaRecord) => ({
  uuid: r.uuid, name: r.name, detail: r.detail, tm_create: r.tm_create, tm_update: r.tm_update,
});
export const viewAdp = (r: AdpRecord) => ({
  uuid: r.uuid, dpma_uuid: r.dpma_uuid, sequence: r.sequence, name: r.name, detail: r.detail, command: r.command,
  tm_create: r.tm_create, tm_update: r.tm_update,
});
export type AdpmaView = ReturnType<typeof viewAdpma>;
export type AdpView = ReturnType<typeof viewAdp>;

export class AdpService {
  readonly adpmas: Collection<AdpmaRecord>;
  readonly adps: Collection<AdpRecord>;
  /** Writes one at a time, so two requests cannot both pass a uniqueness check and then both insert. */
  private chain: Promise<unknown> = Promise.resolve();

  constructor(store: Store) {
    this.adpmas = store.collection<AdpmaRecord>(ADPMAS);
    this.adps = store.collection<AdpRecord>(ADPS);
  }

  private serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.chain.catch(() => undefined).then(task);
    this.chain = run;
    return run;
  }

  // ---- adpmas ----
  listAdpmas(): AdpmaView[] {
    return this.adpmas.all().map(viewAdpma);
  }

  adpma(uuid: string): AdpmaRecord {
    assertSingleLine(uuid, 'uuid');
    const r = this.adpmas.get(uuid);
    if (!r) throw notFound(`no adpma with uuid ${uuid}`);
    return r;
  }

  /** The adpma the dialplan asked for: by uuid, else by name. */
  resolveAdpma(key: string): AdpmaRecord | undefined {
    const k = key.trim();
    if (!k) return undefined;
    return this.adpmas.get(k) ?? this.adpmas.find((r) => r.name === k);
  }

  private nameFree(name: string, exceptUuid?: string): void {
    const other = this.adpmas.find((r) => r.name === name);
    if (other && other.uuid !== exceptUuid) throw conflict(`an adpma named "${name}" exists already (uuid ${other.uuid})`, { field: 'name' });
  }

  createAdpma(body: unknown): Promise<AdpmaRecord> {
    const b = objectBody(body);
    onlyKnown(b, ['name', 'detail']);
    if (b.name === undefined || b.name === null) throw badRequest('name: is required', { field: 'name' });
    const name = adpmaName(b.name);
    const detail = nullableText(b, 'detail') ?? null;
    return this.serial(async () => {
      this.nameFree(name);
      return this.adpmas.insert({ name, detail });
    });
  }

  updateAdpma(uuid: string, body: unknown): Promise<AdpmaRecord> {
    const b = objectBody(body);
    this.adpma(uuid);
    onlyKnown(b, ['name', 'detail']);
    sameUuid(b, uuid);
    const patch: Partial<Omit<AdpmaRecord, keyof StoredRecord>> = {};
    if (b.name !== undefined) {
      if (b.name === null) throw badRequest('name: must be a string', { field: 'name' });
      patch.name = adpmaName(b.name);
    }
    const detail = nullableText(b, 'detail');
    if (detail !== undefined) patch.detail = detail;
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
  listAdps(dpmaUuid?: string): AdpView[] {
    const rows = dpmaUuid === undefined ? [...this.adps.all()] : this.adps.filter((r) => r.dpma_uuid === dpmaUuid);
    return rows.sort((a, b) => (a.dpma_uuid < b.dpma_uuid ? -1 : a.dpma_uuid > b.dpma_uuid ? 1 : a.sequence - b.sequence)).map(viewAdp);
  }

  adp(uuid: string): AdpRecord {
    assertSingleLine(uuid, 'uuid');
    const r = this.adps.get(uuid);
    if (!r) throw notFound(`no adp with uuid ${uuid}`);
    return r;
  }

  /** An adpma's adps in run order. */
  steps(dpmaUuid: string): AdpRecord[] {
    return this.adps.filter((r) => r.dpma_uuid === dpmaUuid).sort((a, b) => a.sequence - b.sequence);
  }

  private dpmaRef(v: unknown): string {
    checkType(v, 'string', 'dpma_uuid');
    const uuid = v as string;
    if (!this.adpmas.get(uuid)) throw new ApiError(404, `dpma_uuid: no adpma with uuid ${uuid}`, { field: 'dpma_uuid' });
    return uuid;
  }

  private sequenceFree(dpmaUuid: string, sequence: number, exceptUuid?: string): void {
    const other = this.adps.find((r) => r.dpma_uuid === dpmaUuid && r.sequence === sequence && r.uuid !== exceptUuid);
    if (other) {
      throw conflict(`sequence ${sequence} is taken in adpma ${dpmaUuid} by adp ${other.uuid}; adps run in sequence order, so each needs its own`, { field: 'sequence' });
    }
  }

  createAdp(body: unknown): Promise<AdpRecord> {
    const b = objectBody(body);
    onlyKnown(b, ['dpma_uuid', 'sequence', 'name', 'detail', 'command']);
    if (b.dpma_uuid === undefined || b.dpma_uuid === null) throw badRequest('dpma_uuid: is required', { field: 'dpma_uuid' });
    checkType(b.dpma_uuid, 'string', 'dpma_uuid');
    const given = b.sequence === undefined || b.sequence === null ? undefined : sequenceOf(b.sequence);
    const name = nullableText(b, 'name') ?? null;
    const detail = nullableText(b, 'detail') ?? null;
    const command = commandOf(b) ?? null;
    const dpmaUuid = this.dpmaRef(b.dpma_uuid);
    return this.serial(async () => {
      this.dpmaRef(dpmaUuid); // it may have been deleted while this waited
      // No sequence: after the adpma's last adp.
      const sequence = given ?? this.steps(dpmaUuid).reduce((m, r) => Math.max(m, r.sequence + 1), 1);
      if (sequence > MAX_SEQUENCE) throw badRequest('sequence: the adpma has no room after its last adp; give one', { field: 'sequence' });
      this.sequenceFree(dpmaUuid, sequence);
      return this.adps.insert({ dpma_uuid: dpmaUuid, sequence, name, detail, command });
    });
  }

  updateAdp(uuid: string, body: unknown): Promise<AdpRecord> {
    const b = objectBody(body);
    this.adp(uuid);
    onlyKnown(b, ['dpma_uuid', 'sequence', 'name', 'detail', 'command']);
    sameUuid(b, uuid);
    const patch: Partial<Omit<AdpRecord, keyof StoredRecord>> = {};
    if (b.dpma_uuid !== undefined) patch.dpma_uuid = this.dpmaRef(b.dpma_uuid);
    if (b.sequence !== undefined) {
      if (b.sequence === null) throw badRequest('sequence: must be an integer', { field: 'sequence' });
      patch.sequence = sequenceOf(b.sequence);
    }
    for (const f of ['name', 'detail'] as const) {
      const v = nullableText(b, f);
      if (v !== undefined) patch[f] = v;
    }
    const command = commandOf(b);
    if (command !== undefined) patch.command = command;
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
