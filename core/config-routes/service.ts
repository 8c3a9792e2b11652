// The logic behind the config-file routes, over config-store (lossless edits, per-file write queue, If-Match,
// backups, atomic writes) and ConfigFiles.reload (make Asterisk pick the file up). Input arrives checked by the
// routes' schemas; what is left here are the rules that need the file: which names a path serves, whether a
// section exists or repeats, whether the object form can say it.
//
// Every write: ConfigFileStore.update/replace with the request's If-Match (412 and nothing written when the file
// changed since; without If-Match the edit applies to the file as it is on disk now), then the reload the file needs.
// The answer carries the reload outcome; a refused request never changes a byte. Every write also takes a WriteMode
// (config-files.ts): a dry run answers the diff (ConfigDryRun) and writes nothing; reloadLater leaves the reload for
// POST /admin/config/apply; otherwise ConfigFiles.settle reloads, checks Asterisk took it, and rolls back (422) if not.
import {
  ConfigError,
  parseBackupName,
  parseConfig,
  restNameProblem,
  type ConfigDocument,
  type Section,
  type WriteResult,
} from '../../config-store/index.ts';
import type { ConfigDryRun, ConfigFiles, ReloadOutcome, WriteMode } from '../config-files.ts';
import { badRequest, conflict, forbidden, invalidField, notFound } from '../http/errors.ts';
import type { Router } from '../plugins/contract.ts';
import type { Out } from '../contract/schema.ts';
import type { ConfigFileSchema, ConfigFileWrittenSchema } from './schemas.ts';
import { CHECKED_FILES, type ConfigOptionCatalog, type OptionCheckOutcome } from './options.ts';
import {
  patchEntries,
  repeatedKeys,
  view,
  type SectionData,
  type SectionForm,
  type SectionPatch,
  type SectionView,
} from './section-form.ts';

/** What the routes need from a plugin's context (a whole PluginContext fits). */
export interface ConfigRoutesContext {
  readonly router: Router;
  readonly configFiles: Pick<ConfigFiles, 'store' | 'reload' | 'settle' | 'preview'>;
  /** Checks section writes against Asterisk's option lists (options.ts); without it they are not checked. */
  readonly configOptions?: Pick<ConfigOptionCatalog, 'check'>;
}

type Files = ConfigRoutesContext['configFiles'];
type ConfigFileView = Out<typeof ConfigFileSchema>;
type ConfigFileWritten = Out<typeof ConfigFileWrittenSchema>;

/** The ETag of the file an answer shows, for its ETag header (the next write's If-Match). */
export interface Tagged<T> {
  result: T;
  etag?: string;
}

const NOTHING_CHANGED: ReloadOutcome = { status: 'none', message: 'nothing changed; no reload needed' };

async function readOrNull(files: Files, file: string) {
  try {
    return await files.store.read(file);
  } catch (e) {
    if (e instanceof ConfigError && e.status === 404) return null;
    throw e;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// whole file

/** One config file and its backups: the whole-file routes (spec: /admin/<plugin>/configurations). */
export class ConfigFileService {
  constructor(
    private readonly files: Files,
    readonly file: string,
    /** The routes' path (messages name it). */
    private readonly base: string,
    /** Checks the options a whole-file write adds or changes against Asterisk's lists (options.ts), as section writes do. */
    private readonly options?: Pick<ConfigOptionCatalog, 'check'>,
  ) {
    files.store.resolve(file); // a bad spec fails at start-up, not on the first request
  }

  /**
   * The option check of a whole-file write: the options the new text adds or changes (compared with the file as it
   * is) against Asterisk's lists; 400 unknown_option / invalid_field before anything is written. Text that does not
   * parse is left to the store, which refuses it naming the line.
   */
  private async checkOptions(text: string): Promise<{ option_check?: OptionCheckOutcome }> {
    const { file, options } = this;
    if (!options || !(CHECKED_FILES as readonly string[]).includes(file)) return {};
    let next: ConfigDocument;
    try {
      next = parseConfig(text, file);
    } catch {
      return {};
    }
    const cur = await readOrNull(this.files, file);
    const before = cur ? parseConfig(cur.text, file).sections() : [];
    const outcome = await options.check(file, before, next);
    return outcome ? { option_check: outcome } : {};
  }

  /** The name from the URL: the current file, a backup of it, or 404. Never a path (the schema refused those). */
  target(name: string): { name: string; backup: boolean } {
    const { file, base } = this;
    if (name === file) return { name, backup: false };
    if (parseBackupName(name)?.file === file) return { name, backup: true };
    throw notFound(`no configuration ${JSON.stringify(name)}: ${base} serves ${file} and its backups (${file}.<timestamp>)`);
  }

  /** The current file first (when it exists), then its backups, newest first. */
  async list(): Promise<Tagged<{ list: ConfigFileView[] }>> {
    const { store } = this.files;
    const list: ConfigFileView[] = [];
    const cur = await readOrNull(this.files, this.file);
    if (cur) list.push({ name: this.file, data: cur.text });
    for (const name of await store.listBackups(this.file)) {
      try {
        list.push({ name, data: (await store.readBackup(name)).text });
      } catch (e) {
        if (!(e instanceof ConfigError && e.status === 404)) throw e; // pruned meanwhile
      }
    }
    return { result: { list }, etag: cur?.etag };
  }

  async read(name: string): Promise<Tagged<ConfigFileView>> {
    const t = this.target(name);
    const got = t.backup ? await this.files.store.readBackup(t.name) : await this.files.store.read(t.name);
    return { result: { name: t.name, data: got.text }, etag: got.etag };
  }

  /** Replace the current file (whole-file validation first: a bad line is 400 naming it, with every problem). */
  async replace(
    name: string,
    body: { data: string; name?: string },
    ifMatch: string | undefined,
    mode: WriteMode = {},
  ): Promise<Tagged<ConfigFileWritten | ConfigDryRun>> {
    const { file, base } = this;
    const t = this.target(name);
    if (t.backup) throw badRequest(`${t.name} is a backup and cannot be changed; PUT ${base}/${file} to replace the current file`);
    if (body.name !== undefined && body.name !== file)
      throw badRequest(`name: ${JSON.stringify(body.name)} does not match the URL (${file})`);
    const checked = await this.checkOptions(body.data);
    const res = await this.files.store.replace(file, body.data, { ...(ifMatch === undefined ? {} : { ifMatch }), dryRun: mode.dryRun });
    if (mode.dryRun) return { result: this.files.preview(file, res), etag: res.etag };
    const changed = res.before !== undefined; // set when the write changed (or created) the file
    const reload = changed ? await this.files.settle(file, res, mode) : NOTHING_CHANGED;
    return { result: { name: file, backup: res.backup, reload, ...checked }, etag: res.etag };
  }

  async deleteBackup(name: string): Promise<void> {
    const t = this.target(name);
    if (!t.backup)
      throw badRequest(`${this.file} is the current file and cannot be deleted; only its backups (${this.file}.<timestamp>) can`);
    await this.files.store.deleteBackup(t.name);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// sections

/** A section as a write left it, and whether its name repeats (for the answer's `index`). */
function sectionAt(doc: ConfigDocument, name: string, index: number | undefined) {
  return { section: doc.section(name, { sectionIndex: index ?? 0 })!, n: doc.countSections(name) };
}

/** The answer of a section PUT or PATCH: the dry run's diff, or the section as written with its backup and reload. */
function sectionAnswer(w: SectionWrite<ReturnType<typeof sectionAt>>, form: SectionForm): Written<SectionView> {
  if ('dry' in w) return w.dry;
  const { result, res, reload, checked } = w;
  return { result: { ...view(result.section, form, result.n > 1), backup: res.backup, reload, ...checked }, etag: res.etag };
}

export interface SectionSpec {
  file: string;
  base: string;
  /** Which sections this path may see and edit: others are answered 404, and creating one is refused (403). */
  filter?: (name: string) => boolean;
  /** What one section is called in messages: 'context', 'parking lot', 'queue'. Default 'section'. */
  noun?: string;
}

export interface NewSection {
  name: string;
  data?: SectionData;
  templates?: string[];
  is_template?: boolean;
}

export interface SectionChange {
  name?: string;
  index?: number;
  data: SectionData;
  templates?: string[];
  is_template?: boolean;
}

type Written<T> = Tagged<(T & { backup: string | null; reload: ReloadOutcome }) | ConfigDryRun>;

/** What ConfigSectionService.write gives back: a dry run's diff, or the edit's result with its write and reload. */
type SectionWrite<T> =
  | { dry: Tagged<ConfigDryRun> }
  | { result: T; res: WriteResult; reload: ReloadOutcome; checked: { option_check?: OptionCheckOutcome } };

/** The sections of one config file (contexts, parking lots, queues), as far as one path may see them. */
export class ConfigSectionService {
  readonly file: string;
  readonly noun: string;
  private readonly base: string;
  private readonly visible: (name: string) => boolean;

  constructor(
    private readonly files: Files,
    spec: SectionSpec,
    /** Asterisk's option lists (options.ts): the entries a write adds or changes are checked inside the write. */
    private readonly options?: ConfigRoutesContext['configOptions'],
  ) {
    this.file = spec.file;
    this.base = spec.base;
    this.noun = spec.noun ?? 'section';
    this.visible = spec.filter ?? (() => true);
    files.store.resolve(spec.file);
  }

  /** A section name from the URL (already a valid header name) that this path may see, else 404. */
  private seen(name: string): string {
    if (!this.visible(name)) throw this.notThere(name, undefined);
    return name;
  }

  private notThere(name: string, index: number | undefined) {
    const { noun, file } = this;
    return notFound(
      index === undefined
        ? `no ${noun} named ${JSON.stringify(name)} in ${file}`
        : `no ${noun} ${JSON.stringify(name)} #${index} in ${file}`,
    );
  }

  async list(form: SectionForm): Promise<Tagged<{ list: SectionView[] }>> {
    const { text, etag } = await this.files.store.read(this.file);
    const sections = parseConfig(text, this.file).sections();
    const counts = countNames(sections);
    const list = sections.filter((s) => this.visible(s.name)).map((s) => view(s, form, counts.get(s.name)! > 1));
    return { result: { list }, etag };
  }

  /** The first section of that name unless `index` says otherwise. */
  async get(name: string, index: number | undefined, form: SectionForm): Promise<Tagged<SectionView>> {
    this.seen(name);
    const { text, etag } = await this.files.store.read(this.file);
    const doc = parseConfig(text, this.file);
    const n = doc.countSections(name);
    if (n === 0 || (index !== undefined && index >= n)) throw this.notThere(name, index);
    return { result: view(doc.section(name, { sectionIndex: index ?? 0 })!, form, n > 1), etag };
  }

  async create(body: NewSection, form: SectionForm, ifMatch: string | undefined, mode: WriteMode = {}): Promise<Written<SectionView>> {
    const { noun, file, base } = this;
    const { name } = body;
    // A new section must be addressable by its REST path afterwards (existing odd names stay readable).
    const wrong = restNameProblem(name);
    if (wrong) throw invalidField('name', wrong);
    if (!this.visible(name)) throw forbidden(`${JSON.stringify(name)} cannot be created or edited through ${base}`);
    const data = body.data ?? [];
    const w = await this.write(
      ifMatch,
      mode,
      (doc) => {
        if (doc.countSections(name) > 0)
          throw conflict(`${noun} ${JSON.stringify(name)} already exists in ${file}; PUT ${base}/${name} to change it`);
        doc.addSection(name, data, { templates: body.templates ?? [], isTemplate: body.is_template === true });
      },
      (doc) => doc.section(name)!,
    );
    if ('dry' in w) return w.dry;
    const { result, res, reload, checked } = w;
    return { result: { ...view(result, form, false), backup: res.backup, reload, ...checked }, etag: res.etag };
  }

  /** Replace a section's entries; its templates and template flag stay (a PUT may repeat them, not change them). */
  async replace(
    name: string,
    index: number | undefined,
    body: SectionChange,
    form: SectionForm,
    ifMatch: string | undefined,
    mode: WriteMode = {},
  ): Promise<Written<SectionView>> {
    const { noun } = this;
    this.seen(name);
    if (body.name !== undefined && body.name !== name)
      throw badRequest(`name: renaming is not supported (URL names ${JSON.stringify(name)})`);
    const { data } = body;
    const w = await this.write(
      ifMatch,
      mode,
      (doc) => {
        const sel = this.selectorFor(doc, name, index, body.index);
        const cur = doc.section(name, sel)!;
        if (body.templates !== undefined && body.templates.join(',') !== cur.templates.join(',')) {
          throw badRequest('templates: cannot be changed with PUT; delete the section and create it again');
        }
        if (body.is_template !== undefined && body.is_template !== cur.isTemplate) {
          throw badRequest('is_template: cannot be changed with PUT; delete the section and create it again');
        }
        if (Array.isArray(data)) doc.replaceSectionEntries(name, data, sel);
        else {
          const repeated = repeatedKeys(cur.entries);
          if (repeated.length) {
            throw conflict(
              `${noun} ${JSON.stringify(name)} repeats ${repeated.map((k) => JSON.stringify(k)).join(', ')}; an object cannot hold a key twice, ` +
                `so nothing was written: send data in the array form ([{"key": "value"}, ...], GET with ?form=array)`,
            );
          }
          doc.setSectionObject(name, data, sel);
        }
      },
      (doc) => sectionAt(doc, name, index ?? body.index),
    );
    return sectionAnswer(w, form);
  }

  /** PATCH (section-form.ts patchEntries): only the keys given change; every other line keeps its bytes. */
  async patch(
    name: string,
    index: number | undefined,
    body: { data: SectionPatch; index?: number },
    form: SectionForm,
    ifMatch: string | undefined,
    mode: WriteMode = {},
  ): Promise<Written<SectionView>> {
    const { noun } = this;
    this.seen(name);
    const w = await this.write(
      ifMatch,
      mode,
      (doc) => {
        const sel = this.selectorFor(doc, name, index, body.index);
        const next = patchEntries(doc.section(name, sel)!.entries, body.data);
        if (!Array.isArray(next)) {
          throw conflict(
            `${noun} ${JSON.stringify(name)} has ${JSON.stringify(next.repeats)} more than once; a single value cannot say which line ` +
              `to keep, so nothing was written: send every line of it as an array ({"${next.repeats}": ["...", "..."]})`,
          );
        }
        doc.replaceSectionEntries(name, next, sel);
      },
      (doc) => sectionAt(doc, name, index ?? body.index),
    );
    return sectionAnswer(w, form);
  }

  async remove(
    name: string,
    index: number | undefined,
    ifMatch: string | undefined,
    mode: WriteMode = {},
  ): Promise<Written<{ name: string }>> {
    this.seen(name);
    const w = await this.write(
      ifMatch,
      mode,
      (doc) => doc.deleteSection(name, this.selectorFor(doc, name, index, undefined)),
      () => undefined,
    );
    if ('dry' in w) return w.dry;
    const { res, reload } = w;
    return { result: { name, backup: res.backup, reload }, etag: res.etag };
  }

  /**
   * Runs a section edit through the store (If-Match, lock, backup, atomic write) and reloads. `after` reads the
   * result from the edited document, so the answer shows what was written without reading the file again. A dry run
   * answers `{dry}` (the diff); otherwise the write is settled (reload, check, rollback: ConfigFiles.settle).
   */
  private async write<T>(
    ifMatch: string | undefined,
    mode: WriteMode,
    edit: (doc: ConfigDocument) => void,
    after: (doc: ConfigDocument) => T,
  ): Promise<SectionWrite<T>> {
    let result!: T;
    let checked: { option_check?: OptionCheckOutcome } = {};
    const options = (CHECKED_FILES as readonly string[]).includes(this.file) ? this.options : undefined;
    const res: WriteResult = await this.files.store.update(
      this.file,
      async (doc) => {
        const before = options ? doc.sections() : [];
        edit(doc);
        const outcome = options && (await options.check(this.file, before, doc));
        if (outcome) checked = { option_check: outcome };
        result = after(doc);
      },
      { ...(ifMatch === undefined ? {} : { ifMatch }), dryRun: mode.dryRun },
    );
    if (mode.dryRun) return { dry: { result: this.files.preview(this.file, res), etag: res.etag } };
    const reload = res.backup !== null ? await this.files.settle(this.file, res, mode) : NOTHING_CHANGED;
    return { result, res, reload, checked };
  }

  /** The sectionIndex for a write: required (409) when the name repeats, 404 when the section is not there. */
  private selectorFor(
    doc: ConfigDocument,
    name: string,
    query: number | undefined,
    fromBody: number | undefined,
  ): { sectionIndex?: number } {
    const { file, noun } = this;
    if (query !== undefined && fromBody !== undefined && query !== fromBody)
      throw badRequest(`index: ${fromBody} in the body but ${query} in the URL`);
    const index = query ?? fromBody;
    const n = doc.countSections(name);
    if (n === 0 || (index !== undefined && index >= n)) throw this.notThere(name, index);
    if (index === undefined && n > 1) {
      throw conflict(`${file} has ${n} ${noun}s named ${JSON.stringify(name)}; say which with ?index=0..${n - 1}`);
    }
    return index === undefined ? {} : { sectionIndex: index };
  }
}

function countNames(sections: Section[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const s of sections) m.set(s.name, (m.get(s.name) ?? 0) + 1);
  return m;
}
