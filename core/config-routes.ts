// Generic REST routes over one of Asterisk's config files, built on config-store (lossless edits, per-file write
// queue, If-Match, backups, atomic writes) and ConfigFiles.reload (make Asterisk pick the file up).
//
//   registerConfigFileRoutes(ctx, {file, base})          whole file + backups   (spec: /admin/*/configurations)
//     GET    base           {list: [{name, data}]}      the current file first, then its backups, newest first
//     GET    base/<name>    {name, data}                the current file or one of its backups
//     PUT    base/<name>    {data: "<text>"}            replace the current file (or a text/plain body)
//     DELETE base/<name>                             delete a backup (the current file is refused)
//
//   registerConfigSectionRoutes(ctx, {file, base, form, filter})   sections (contexts, parking lots, queues)
//     GET    base           {list: [{name, data, index?}]}
//     POST   base           {name, data?, templates?, is_template?}
//     GET    base/<name>    {name, data, index?}       ?index=N picks among sections that share a name
//     PUT    base/<name>    {data}                     replaces the section's entries
//     DELETE base/<name>
//
// Section data comes in two forms. The array form keeps every line: one `{key: value}` per entry, in file order,
// where a value starting with "> " marks `key => value`; entries this cannot show exactly (`+=`, or `=` with a value
// that starts with '>') are written `{key, op, value}`. The object form `{key: value}` is shorter but cannot hold
// a key twice: a section that repeats a key (or uses +=) is always answered in the array form, and an object-form
// write to it is refused with 409. Every section endpoint accepts both forms on input; `form` only picks the answer's
// form, and `?form=array` asks for the array form anyway.
//
// Every write: body checked first (400 before any byte is read or written), then ConfigFileStore.update with the
// request's If-Match (412 and nothing written when the file changed since; no If-Match: the edit applies to the file
// as it is on disk now), then the reload the file needs. The answer carries the new ETag as a header and the reload
// outcome as `reload: {status: done|failed|pending|none, message}`. A refused request never changes a byte.
import type { Context } from 'hono';
import type { ConfigFiles, ReloadOutcome } from './config-files.ts';
import type { Router } from './plugins/contract.ts';
import { ok } from './http/envelope.ts';
import { ApiError, badRequest, conflict, forbidden, notFound } from './http/errors.ts';
import { param, pathName, readJson, validate } from './http/body.ts';
import {
  ConfigError,
  parseBackupName,
  parseConfig,
  validateKey,
  validateName,
  validateTemplateName,
  validateValue,
  type ConfigDocument,
  type EntryInput,
  type EntryOp,
  type Section,
  type SectionEntry,
  type WriteResult,
} from '../config-store/index.ts';

/** What the routes need from a plugin's context (a whole PluginContext fits). */
export interface ConfigRoutesContext {
  readonly router: Router;
  readonly configFiles: Pick<ConfigFiles, 'store' | 'reload'>;
}

export interface ConfigFileRoutesSpec {
  /** Plain file name in asterisk.config_dir, e.g. 'extensions.conf'. */
  file: string;
  /** Route path without /v1, e.g. '/admin/dialplan/configurations'; the role follows the path. */
  base: string;
}

export type SectionForm = 'array' | 'object';

export interface ConfigSectionRoutesSpec {
  file: string;
  /** e.g. '/admin/dialplan/sdps'; the role follows the path (/admin, /manager). */
  base: string;
  /** The form answers use (both are accepted on input). */
  form: SectionForm;
  /** Which sections this path may see and edit: others are answered 404, and creating one is refused (403). */
  filter?: (name: string) => boolean;
  /** What one section is called in messages: 'context', 'parking lot', 'queue'. Default 'section'. */
  noun?: string;
}

export interface ArrayEntry {
  [key: string]: string;
}

/** One section as the API shows it. */
export interface SectionView {
  name: string;
  /** Only when the file has more than one section of this name (pjsip.conf, or a context written twice). */
  index?: number;
  data: ArrayEntry[] | Record<string, string>;
  templates?: string[];
  is_template?: true;
}

const NOTHING_CHANGED: ReloadOutcome = { status: 'none', message: 'nothing changed; no reload needed' };

// ---------------------------------------------------------------------------------------------------------------
// whole file

export function registerConfigFileRoutes(ctx: ConfigRoutesContext, spec: ConfigFileRoutesSpec): void {
  const { router: r, configFiles: files } = ctx;
  const { file, base } = spec;
  const store = files.store;
  store.resolve(file); // a bad spec fails at start-up, not on the first request

  /** The name from the URL: the current file, a backup of it, or 404. Never a path. */
  const target = (c: Context): { name: string; backup: boolean } => {
    const name = pathName(param(c, 'name'), 'configuration name');
    if (name === file) return { name, backup: false };
    if (parseBackupName(name)?.file === file) return { name, backup: true };
    throw notFound(`no configuration ${JSON.stringify(name)}: ${base} serves ${file} and its backups (${file}.<timestamp>)`);
  };

  r.get(base, async () => {
    const list: { name: string; data: string }[] = [];
    let etag: string | undefined;
    const cur = await readOrNull(files, file);
    if (cur) {
      etag = cur.etag;
      list.push({ name: file, data: cur.text });
    }
    for (const name of await store.listBackups(file)) {
      try {
        list.push({ name, data: (await store.readBackup(name)).text });
      } catch (e) {
        if ((e as ConfigError).status !== 404) throw e; // pruned meanwhile
      }
    }
    return ok({ list }, 200, etag ? { etag } : undefined);
  });

  r.get(`${base}/:name`, async (c) => {
    const t = target(c);
    const got = t.backup ? await store.readBackup(t.name) : await store.read(t.name);
    return ok({ name: t.name, data: got.text }, 200, { etag: got.etag });
  });

  r.put(`${base}/:name`, async (c) => {
    const t = target(c);
    if (t.backup) throw badRequest(`${t.name} is a backup and cannot be changed; PUT ${base}/${file} to replace the current file`);
    const text = await fileTextFrom(c, file);
    const before = await readOrNull(files, file);
    const res = await store.replace(file, text, ifMatchOf(c)).catch((e: unknown) => {
      // Whole-file validation names the first bad line in the message; the full list goes along.
      if (e instanceof ConfigError && e.status === 400 && e.problems?.length) throw new ApiError(400, e.message, { problems: e.problems });
      throw e;
    });
    const changed = res.backup !== null || before === null;
    const reload = changed ? await files.reload(file) : NOTHING_CHANGED;
    return ok({ name: file, backup: res.backup, reload }, 200, { etag: res.etag });
  });

  r.delete(`${base}/:name`, async (c) => {
    const t = target(c);
    if (!t.backup) throw badRequest(`${file} is the current file and cannot be deleted; only its backups (${file}.<timestamp>) can`);
    await store.deleteBackup(t.name);
    return ok();
  });
}

/** Whole-file body: JSON `{data: "<text>"}` (`name` may repeat the file name), or the text itself as text/plain. */
async function fileTextFrom(c: Context, file: string): Promise<string> {
  const type = (c.req.header('content-type') ?? '').toLowerCase();
  if (type.startsWith('text/plain')) {
    const text = await c.req.text();
    if (text.includes('\0')) throw badRequest('body: must not contain NUL characters');
    return text;
  }
  const body = validate(await readJson(c), { data: 'text', name: 'string?' });
  if (body.name !== undefined && body.name !== file) throw badRequest(`name: ${JSON.stringify(body.name)} does not match the URL (${file})`);
  return body.data;
}

// ---------------------------------------------------------------------------------------------------------------
// sections

export function registerConfigSectionRoutes(ctx: ConfigRoutesContext, spec: ConfigSectionRoutesSpec): void {
  const { router: r, configFiles: files } = ctx;
  const { file, base, form } = spec;
  const store = files.store;
  const visible = spec.filter ?? (() => true);
  const noun = spec.noun ?? 'section';
  store.resolve(file);

  /** A section name from the URL: a valid header name this path may see, else 400/404. */
  const nameFrom = (c: Context): string => {
    const name = param(c, 'name');
    validateName(name);
    if (!visible(name)) throw notFound(`no ${noun} named ${JSON.stringify(name)} in ${file}`);
    return name;
  };

  const notThere = (name: string, index: number | undefined) =>
    notFound(index === undefined ? `no ${noun} named ${JSON.stringify(name)} in ${file}` : `no ${noun} ${JSON.stringify(name)} #${index} in ${file}`);

  /**
   * Runs a section edit through the store (If-Match, lock, backup, atomic write) and reloads. `after` reads the
   * result from the edited document, so the answer shows what was written without reading the file again.
   */
  const write = async <T>(c: Context, edit: (doc: ConfigDocument) => void, after: (doc: ConfigDocument) => T) => {
    let result!: T;
    const res: WriteResult = await store.update(
      file,
      (doc) => {
        edit(doc);
        result = after(doc);
      },
      ifMatchOf(c),
    );
    const reload = res.backup !== null ? await files.reload(file) : NOTHING_CHANGED;
    return { result, res, reload };
  };

  r.get(base, async (c) => {
    const want = formQuery(c, form);
    const { text, etag } = await store.read(file);
    const sections = parseConfig(text, file).sections();
    const counts = countNames(sections);
    const list = sections.filter((s) => visible(s.name)).map((s) => view(s, want, counts.get(s.name)! > 1));
    return ok({ list }, 200, { etag });
  });

  r.get(`${base}/:name`, async (c) => {
    const name = nameFrom(c);
    const index = indexQuery(c);
    const want = formQuery(c, form);
    const { text, etag } = await store.read(file);
    const doc = parseConfig(text, file);
    const n = doc.countSections(name);
    if (n === 0 || (index !== undefined && index >= n)) throw notThere(name, index);
    // Detail by name is the first section of that name unless ?index= says otherwise.
    const s = doc.section(name, { sectionIndex: index ?? 0 })!;
    return ok(view(s, want, n > 1), 200, { etag });
  });

  r.post(base, async (c) => {
    const want = formQuery(c, form);
    const raw = await readJson(c);
    // `data` is checked by entriesFrom (either form); `index` may be copied from a GET answer and means nothing here.
    const body = validate(raw, { name: 'string', templates: 'array?', is_template: 'boolean?' }, { ignore: ['data', 'index'] });
    validateName(body.name);
    if (!visible(body.name)) throw forbidden(`${JSON.stringify(body.name)} cannot be created or edited through ${base}`);
    const data = (raw as Record<string, unknown>).data;
    const entries = entriesFrom(data === undefined || data === null ? [] : data);
    const templates = templatesFrom(body.templates);
    const name = body.name;
    const { result, res, reload } = await write(
      c,
      (doc) => {
        if (doc.countSections(name) > 0) throw conflict(`${noun} ${JSON.stringify(name)} already exists in ${file}; PUT ${base}/${name} to change it`);
        doc.addSection(name, entries.kind === 'array' ? entries.list : entries.obj, { templates, isTemplate: body.is_template === true });
      },
      (doc) => doc.section(name)!,
    );
    return ok({ ...view(result, want, false), backup: res.backup, reload }, 200, { etag: res.etag });
  });

  r.put(`${base}/:name`, async (c) => {
    const name = nameFrom(c);
    const index = indexQuery(c);
    const want = formQuery(c, form);
    const raw = await readJson(c);
    const body = validate(raw, { name: 'string?', index: 'integer?', templates: 'array?', is_template: 'boolean?' }, { ignore: ['data'] });
    const data = (raw as Record<string, unknown>).data;
    if (data === undefined || data === null) throw badRequest('data: is required (an array of {"key": "value"}, or an object)', { field: 'data' });
    const entries = entriesFrom(data);
    if (body.name !== undefined && body.name !== name) throw badRequest(`name: renaming is not supported (URL names ${JSON.stringify(name)})`);
    const wantTemplates = body.templates === undefined ? undefined : templatesFrom(body.templates);
    const { result, res, reload } = await write(
      c,
      (doc) => {
        const sel = selectorFor(doc, name, index, body.index);
        const cur = doc.section(name, sel)!;
        if (wantTemplates !== undefined && wantTemplates.join(',') !== cur.templates.join(',')) {
          throw badRequest('templates: cannot be changed with PUT; delete the section and create it again');
        }
        if (body.is_template !== undefined && body.is_template !== cur.isTemplate) {
          throw badRequest('is_template: cannot be changed with PUT; delete the section and create it again');
        }
        if (entries.kind === 'array') doc.replaceSectionEntries(name, entries.list, sel);
        else {
          const repeated = repeatedKeys(cur.entries);
          if (repeated.length) {
            throw conflict(
              `${noun} ${JSON.stringify(name)} repeats ${repeated.map((k) => JSON.stringify(k)).join(', ')}; an object cannot hold a key twice, ` +
                `so nothing was written: send data in the array form ([{"key": "value"}, ...], GET with ?form=array)`,
            );
          }
          doc.setSectionObject(name, entries.obj, sel);
        }
      },
      (doc) => ({ section: doc.section(name, { sectionIndex: index ?? body.index ?? 0 })!, n: doc.countSections(name) }),
    );
    return ok({ ...view(result.section, want, result.n > 1), backup: res.backup, reload }, 200, { etag: res.etag });
  });

  r.delete(`${base}/:name`, async (c) => {
    const name = nameFrom(c);
    const index = indexQuery(c);
    const { res, reload } = await write(
      c,
      (doc) => doc.deleteSection(name, selectorFor(doc, name, index, undefined)),
      () => undefined,
    );
    return ok({ name, backup: res.backup, reload }, 200, { etag: res.etag });
  });

  /** The sectionIndex for a write: required (409) when the name repeats, 404 when the section is not there. */
  function selectorFor(doc: ConfigDocument, name: string, query: number | undefined, fromBody: number | undefined): { sectionIndex?: number } {
    if (query !== undefined && fromBody !== undefined && query !== fromBody) throw badRequest(`index: ${fromBody} in the body but ${query} in the URL`);
    const index = query ?? fromBody;
    const n = doc.countSections(name);
    if (n === 0 || (index !== undefined && index >= n)) throw notThere(name, index);
    if (index === undefined && n > 1) {
      throw conflict(`${file} has ${n} ${noun}s named ${JSON.stringify(name)}; say which with ?index=0..${n - 1}`);
    }
    return index === undefined ? {} : { sectionIndex: index };
  }
}

// ---------------------------------------------------------------------------------------------------------------
// helpers

function ifMatchOf(c: Context): { ifMatch?: string } {
  const v = c.req.header('if-match');
  return v === undefined ? {} : { ifMatch: v };
}

async function readOrNull(files: ConfigRoutesContext['configFiles'], file: string) {
  try {
    return await files.store.read(file);
  } catch (e) {
    if (e instanceof ConfigError && e.status === 404) return null;
    throw e;
  }
}

function formQuery(c: Context, def: SectionForm): SectionForm {
  const f = c.req.query('form');
  if (f === undefined || f === '') return def;
  if (f !== 'array' && f !== 'object') throw badRequest(`form: must be "array" or "object", not ${JSON.stringify(f)}`);
  return f;
}

function indexQuery(c: Context): number | undefined {
  const v = c.req.query('index');
  if (v === undefined || v === '') return undefined;
  if (!/^\d{1,6}$/.test(v)) throw badRequest(`index: must be a non-negative integer, not ${JSON.stringify(v)}`);
  return Number(v);
}

function countNames(sections: Section[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const s of sections) m.set(s.name, (m.get(s.name) ?? 0) + 1);
  return m;
}

function repeatedKeys(entries: SectionEntry[]): string[] {
  const seen = new Set<string>();
  const rep = new Set<string>();
  for (const e of entries) {
    if (seen.has(e.key)) rep.add(e.key);
    seen.add(e.key);
  }
  return [...rep];
}

/** One entry in the array form; exact for every op and value. */
export function entryToItem(e: SectionEntry): ArrayEntry {
  if (e.op === '=>') return { [e.key]: `> ${e.value}` };
  if (e.op === '=' && !e.value.startsWith('>')) return { [e.key]: e.value };
  return { key: e.key, op: e.op, value: e.value };
}

/** The API view of a section: object form only when it is exact (no key twice, no +=). */
export function view(s: Section, form: SectionForm, showIndex: boolean): SectionView {
  let data: SectionView['data'];
  if (form === 'object' && repeatedKeys(s.entries).length === 0 && s.entries.every((e) => e.op !== '+=')) {
    const obj: Record<string, string> = Object.create(null); // a key named __proto__ stays a key
    for (const e of s.entries) obj[e.key] = e.value;
    data = obj;
  } else {
    data = s.entries.map(entryToItem);
  }
  const out: SectionView = showIndex ? { name: s.name, index: s.index, data } : { name: s.name, data };
  if (s.templates.length) out.templates = [...s.templates];
  if (s.isTemplate) out.is_template = true;
  return out;
}

type Entries = { kind: 'array'; list: EntryInput[] } | { kind: 'object'; obj: Record<string, string> };

const OPS: readonly string[] = ['=', '=>', '+='];

function scalar(v: unknown, field: string): string {
  if (typeof v === 'string') {
    validateValue(v); // CR, LF, NUL: 400
    return v;
  }
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  throw badRequest(`${field}: must be a string`, { field });
}

/** Checks `data` completely (keys, ops, values) before the file is touched. */
export function entriesFrom(data: unknown): Entries {
  if (Array.isArray(data)) {
    const list: EntryInput[] = data.map((item, i) => {
      const where = `data[${i}]`;
      if (!item || typeof item !== 'object' || Array.isArray(item)) throw badRequest(`${where}: must be an object {"key": "value"}`);
      const keys = Object.keys(item);
      if (keys.length === 1) {
        const key = keys[0]!;
        validateKey(key);
        const v = scalar((item as Record<string, unknown>)[key], `${where}.${key}`);
        // "> value" is `key => value`; Asterisk trims values, so "> x" and ">x" read the same.
        return v.startsWith('>') ? { key, op: '=>' as EntryOp, value: v.slice(1) } : { key, op: '=' as EntryOp, value: v };
      }
      const o = item as Record<string, unknown>;
      if (!keys.every((k) => k === 'key' || k === 'op' || k === 'value') || o.key === undefined || o.value === undefined) {
        throw badRequest(`${where}: must be {"key": "value"} (one key) or {"key": ..., "op": ..., "value": ...}`);
      }
      if (typeof o.key !== 'string') throw badRequest(`${where}.key: must be a string`);
      validateKey(o.key);
      const op = o.op === undefined ? '=' : o.op;
      if (typeof op !== 'string' || !OPS.includes(op)) throw badRequest(`${where}.op: must be one of "=", "=>", "+="`);
      return { key: o.key, op: op as EntryOp, value: scalar(o.value, `${where}.value`) };
    });
    return { kind: 'array', list };
  }
  if (data && typeof data === 'object') {
    const obj: Record<string, string> = Object.create(null); // a key named __proto__ stays a key
    for (const [k, v] of Object.entries(data as Record<string, unknown>)) {
      validateKey(k);
      obj[k] = scalar(v, `data.${k}`);
    }
    return { kind: 'object', obj };
  }
  throw badRequest('data: must be an array of {"key": "value"} or an object of key: value', { field: 'data' });
}

function templatesFrom(v: unknown[] | undefined): string[] {
  if (v === undefined) return [];
  return v.map((t, i) => {
    if (typeof t !== 'string') throw badRequest(`templates[${i}]: must be a string`);
    validateTemplateName(t);
    return t;
  });
}
