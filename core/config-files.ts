// Asterisk's own config files as a service for plugins: the lossless config-store for reading and editing, plus
// "reload what this file feeds" after every write, and the checks that make a write safe to make from a script:
//
//   - dry run (`preview`): the unified diff a write would make and the reload it would do; nothing is written.
//   - check and roll back (`settle`): after the reload, Asterisk's answer, and for pjsip.conf, res_parking.conf and
//     queues.conf that every object the write added or changed is listed by Asterisk (PJSIPShowEndpoints,
//     Parkinglots, QueueStatus). If not, the previous file is put back from the backup byte for byte, reloaded
//     again, and the request is answered 422 reload_rejected with what was wrong.
//   - later (`?reload=later`): the file is written and recorded as not yet applied; `apply` reloads each module
//     once for every file written so (POST /admin/config/apply), and /v1/status lists them meanwhile.
//
// A reload (and its check) unanswered within asterisk.reload_timeout_s is 504 asterisk_timeout. A reload asked for
// while AMI is down is remembered and made after the next login.
import { AmiNotConnectedError, AmiTimeoutError } from './ami/errors.ts';
import path from 'node:path';
import { open, stat } from 'node:fs/promises';
import type { AmiClient } from './ami/client.ts';
import type { GatewayConfig } from './config.ts';
import type { Logger } from './log.ts';
import { ConfigFileStore, parseConfig, unifiedDiff, type Section, type WriteResult } from '../config-store/index.ts';
import { route } from './contract/route.ts';
import { line, list, named, nullable, obj, oneOf, opt, queryBool, text, v, type Out } from './contract/schema.ts';
import { ok } from './http/envelope.ts';
import { ApiError } from './http/errors.ts';
import type { Metrics } from './metrics/metrics.ts';
import type { Router } from './plugins/contract.ts';

/** What became of the reload after a write: answered by the config routes and the park plugin's lot edits. */
export const ReloadOutcomeSchema = named(
  'ReloadOutcome',
  obj({
    status: oneOf(
      ['done', 'failed', 'pending', 'none', 'later'],
      'done; failed (Asterisk refused); pending (AMI down: made on reconnect); none (no reload needed); ' +
        'later (?reload=later: made by POST /admin/config/apply)',
    ),
    message: opt(text("Asterisk's answer, or why not")),
  }),
);
export type ReloadOutcome = Out<typeof ReloadOutcomeSchema>;

/** The answer of a write made with ?dry_run=true. */
export const ConfigDryRunSchema = named(
  'ConfigDryRun',
  obj(
    {
      dry_run: v.pipe(v.literal(true), v.description('always true: nothing was written')),
      name: line('the file the write would change'),
      diff: text('the unified diff (diff -u) from the file as it is to the file as it would be; "" when nothing would change'),
      reload: nullable(line('the reload the write would make ("module reload res_pjsip.so", "dialplan reload"); null when none')),
    },
    'what a write would do: checked like the real one (400, 404, 409, 412 alike), but no byte written, no backup, no reload',
  ),
);
export type ConfigDryRun = Out<typeof ConfigDryRunSchema>;

/** How a write is carried out: for real with a reload (default), as a dry run, or with the reload left for apply. */
export interface WriteMode {
  dryRun?: boolean;
  reloadLater?: boolean;
}

/** The query parameters every config write takes (?dry_run=true, ?reload=later). */
export const WRITE_MODE_QUERY = {
  dry_run: opt(queryBool('true: check the write and answer the diff it would make (ConfigDryRun); write nothing')),
  reload: opt(oneOf(['now', 'later'], 'later: write the file but do not reload; POST /v1/admin/config/apply reloads later (default now)')),
};

export function writeMode(q: { dry_run?: boolean; reload?: 'now' | 'later' }): WriteMode {
  return { dryRun: q.dry_run === true, reloadLater: q.reload === 'later' };
}

export const UnappliedSchema = named(
  'ConfigUnapplied',
  obj({
    name: line('a config file written with ?reload=later'),
    module: line('what reloading it does'),
    since: line('ISO 8601: the first such write not yet applied'),
  }),
);

export const ConfigAppliedSchema = named(
  'ConfigApplied',
  obj({
    list: list(
      obj({
        module: line('the reload made ("module reload res_pjsip.so", "dialplan reload"), once per module'),
        files: list(line(), 'the files written with ?reload=later it applied'),
        reload: ReloadOutcomeSchema,
      }),
    ),
  }),
);

/** Which reload each managed file needs. */
const RELOADS: Record<string, { kind: 'command' | 'module'; what: string }> = {
  'extensions.conf': { kind: 'command', what: 'dialplan reload' },
  'pjsip.conf': { kind: 'module', what: 'res_pjsip.so' },
  'queues.conf': { kind: 'module', what: 'app_queue.so' },
  'res_parking.conf': { kind: 'module', what: 'res_parking.so' },
  'agents.conf': { kind: 'module', what: 'app_agent_pool.so' },
};

/**
 * After a reload, which objects of a file Asterisk must list: the sections a write added or changed (a hand-written
 * object Asterisk refused before the write does not make every later write fail).
 */
interface Check {
  noun: string;
  action: string;
  /** Which sections are objects of this kind (templates and [general] never are). */
  isObject(s: Section, all: Section[]): boolean;
  /** The object names in the list action's events. */
  names(events: Record<string, string>[]): Set<string>;
}

const field = (k: string) => (events: Record<string, string>[]) => new Set(events.map((e) => e[k] ?? '').filter(Boolean));

/** The value of `key` in a section, following its templates ([name](tmpl)) when it does not set it itself. */
function inherited(s: Section, key: string, all: Section[], depth = 0): string | undefined {
  const own = s.entries.filter((e) => e.key === key).pop();
  if (own) return own.value;
  if (depth > 8) return undefined;
  for (const t of [...s.templates].reverse()) {
    const tmpl = all.find((x) => x.name === t && x.index < s.index + 1 && x.isTemplate);
    const got = tmpl && inherited(tmpl, key, all, depth + 1);
    if (got !== undefined) return got;
  }
  return undefined;
}

const CHECKS: Record<string, Check> = {
  'pjsip.conf': {
    noun: 'endpoint',
    action: 'PJSIPShowEndpoints',
    isObject: (s, all) => !s.isTemplate && inherited(s, 'type', all) === 'endpoint',
    names: field('ObjectName'),
  },
  'res_parking.conf': {
    noun: 'parking lot',
    action: 'Parkinglots',
    isObject: (s) => !s.isTemplate && s.name.toLowerCase() !== 'general',
    names: field('Name'),
  },
  'queues.conf': {
    noun: 'queue',
    action: 'QueueStatus',
    isObject: (s) => !s.isTemplate && s.name.toLowerCase() !== 'general',
    names: (events) => new Set(events.filter((e) => e.Event === 'QueueParams').map((e) => e.Queue ?? '')),
  },
};

/** Names of the objects of `check` in `after` that are new or read differently than in `before`. */
export function changedObjects(file: string, before: string | null, after: string): string[] {
  const check = CHECKS[file];
  if (!check) return [];
  const objects = (t: string) => {
    const all = parseConfig(t, file).sections();
    const m = new Map<string, string>();
    for (const s of all) {
      if (!check.isObject(s, all)) continue;
      const prior = m.get(s.name) ?? '';
      m.set(s.name, prior + JSON.stringify([s.templates, s.entries.map((e) => [e.key, e.op, e.value])]));
    }
    return m;
  };
  const was = before === null ? new Map<string, string>() : objects(before);
  return [...objects(after)].filter(([name, body]) => was.get(name) !== body).map(([name]) => name);
}

type Ami = Pick<AmiClient, 'connected' | 'action' | 'command'> & Partial<Pick<AmiClient, 'list'>>;

export class ConfigFiles {
  readonly store: ConfigFileStore;
  private readonly pending = new Set<string>();
  /** Files written with ?reload=later and not applied yet: when the first such write was made. */
  private readonly unapplied = new Map<string, Date>();
  private readonly reloadTimeoutMs: number;
  /** Asterisk's log (asterisk.log_file): what it logged while refusing a write goes into the 422. */
  private readonly asteriskLog: string | undefined;

  constructor(
    config: GatewayConfig,
    private readonly ami: Ami,
    private readonly log: Logger,
    /** Counts every write and every reload's outcome, by file. */
    private readonly metrics?: Pick<Metrics, 'configWrite' | 'configReload'>,
  ) {
    this.store = new ConfigFileStore({
      configDir: config.asterisk.config_dir,
      backupDir: path.join(config.data_dir, 'backups'),
      retention: config.backups.retention,
      onWrite: metrics && ((file, outcome) => metrics.configWrite(file, outcome)),
    });
    this.reloadTimeoutMs = (config.asterisk.reload_timeout_s ?? 30) * 1000;
    this.asteriskLog = config.asterisk.log_file;
  }

  /** Where Asterisk's log ends now (its size), to read what a reload adds to it; null when there is no log to read. */
  private async logMark(): Promise<number | null> {
    if (!this.asteriskLog) return null;
    try {
      return (await stat(this.asteriskLog)).size;
    } catch {
      return null;
    }
  }

  /**
   * The WARNING and ERROR lines Asterisk logged since `mark` (at most 64 KiB read, 20 lines kept): its own words for
   * what it refused. Empty when the log is not readable (its path, permissions) or rotated meanwhile.
   */
  private async loggedSince(mark: number | null): Promise<string[]> {
    if (mark === null || !this.asteriskLog) return [];
    let fh: Awaited<ReturnType<typeof open>> | undefined;
    try {
      fh = await open(this.asteriskLog, 'r');
      const size = (await fh.stat()).size;
      if (size < mark) return [];
      const len = Math.min(size - mark, 64 * 1024);
      const buf = Buffer.alloc(len);
      await fh.read(buf, 0, len, mark);
      return buf
        .toString('utf8')
        .split('\n')
        .filter((l) => /\b(ERROR|WARNING)\[/.test(l))
        .map((l) => l.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '').trimEnd())
        .slice(0, 20);
    } catch {
      return [];
    } finally {
      await fh?.close();
    }
  }

  /** The reload a write of `file` makes, in words; null when it needs none. */
  reloadFor(file: string): string | null {
    const r = RELOADS[file];
    return r ? (r.kind === 'command' ? r.what : `module reload ${r.what}`) : null;
  }

  /** The answer of a dry run, from the store's dry-run result (which has `before`). */
  preview(file: string, res: WriteResult): ConfigDryRun {
    const diff = unifiedDiff(res.before ?? null, res.text, file);
    return { dry_run: true, name: file, diff, reload: diff === '' ? null : this.reloadFor(file) };
  }

  /**
   * After a write that changed `file` (`res` is the store's result): reload it, check that Asterisk took it, and
   * roll it back when not (422 reload_rejected; see the top of this file). With reloadLater the reload is left for
   * `apply`.
   */
  async settle(file: string, res: WriteResult, mode: WriteMode = {}): Promise<ReloadOutcome> {
    if (mode.reloadLater && RELOADS[file]) {
      if (!this.unapplied.has(file)) this.unapplied.set(file, new Date());
      return { status: 'later', message: `${file} was written; it is reloaded by POST /v1/admin/config/apply` };
    }
    const mark = await this.logMark();
    const out = await this.reload(file);
    const wrong = await this.bounded(file, this.verify(file, res, out));
    if (wrong.length === 0) return out;
    await this.rollBack(file, res, wrong, out, await this.loggedSince(mark));
    return out; // not reached: rollBack throws
  }

  /** What says Asterisk did not take the write: a refused reload, or objects written that it does not list. */
  private async verify(file: string, res: WriteResult, out: ReloadOutcome): Promise<string[]> {
    if (out.status === 'failed') return [`Asterisk refused the reload of ${file}: ${out.message ?? 'no reason given'}`];
    const check = CHECKS[file];
    if (out.status !== 'done' || !check || !this.ami.list || res.before === undefined) return [];
    const want = changedObjects(file, res.before, res.text);
    if (want.length === 0) return [];
    let listed: Set<string>;
    try {
      listed = check.names((await this.ami.list(check.action)).events.map((e) => e.fields));
    } catch (e) {
      if (e instanceof AmiTimeoutError) throw e;
      this.log.warn(`checking ${file} after its reload: ${check.action} failed: ${(e as Error).message}`);
      return [];
    }
    return want
      .filter((n) => !listed.has(n))
      .map(
        (n) =>
          `${check.noun} ${JSON.stringify(n)} was written to ${file}, but after the reload Asterisk does not list it (${check.action}): ` +
          `it refused the object (an unknown option or a value of the wrong type; Asterisk's log says which)`,
      );
  }

  private async rollBack(file: string, res: WriteResult, wrong: string[], first: ReloadOutcome, logged: string[]): Promise<never> {
    const extra: Record<string, unknown> = { errors: wrong, reload: first, asterisk_log: logged };
    // No backup: the write created the file, and undoing it removes it.
    const previous = res.backup ?? `no ${file} (the write created it; it was removed)`;
    try {
      await this.store.restore(file, res.backup, res.etag);
    } catch (e) {
      extra.restored = false;
      throw new ApiError(
        422,
        `Asterisk did not take the new ${file}: ${wrong[0]}; putting back ${previous} failed (${(e as Error).message})`,
        extra,
        'reload_rejected',
      );
    }
    extra.restored = res.backup ?? null;
    extra.reload_after_restore = await this.reload(file).catch((e: Error) => ({ status: 'failed', message: e.message }));
    this.log.warn(`${file}: Asterisk did not take a write (${wrong.join('; ')}); restored ${previous}`);
    throw new ApiError(
      422,
      `Asterisk did not take the new ${file}: ${wrong[0]}${wrong.length > 1 ? ` (and ${wrong.length - 1} more)` : ''}. ` +
        `Nothing changed: the previous file was put back (${previous}) and reloaded.`,
      extra,
      'reload_rejected',
    );
  }

  /** Files written with ?reload=later, not applied yet. */
  unappliedFiles(): Out<typeof UnappliedSchema>[] {
    return [...this.unapplied].map(([name, since]) => ({ name, module: this.reloadFor(name) ?? '', since: since.toISOString() }));
  }

  /** Reload each module written with ?reload=later once (the files that share one are reloaded together). */
  async apply(): Promise<Out<typeof ConfigAppliedSchema>> {
    const byModule = new Map<string, string[]>();
    for (const file of this.unapplied.keys()) {
      const m = this.reloadFor(file)!;
      byModule.set(m, [...(byModule.get(m) ?? []), file]);
    }
    const out: Out<typeof ConfigAppliedSchema>['list'] = [];
    for (const [module, files] of byModule) {
      const reload = await this.reload(files[0]!);
      if (reload.status === 'done' || reload.status === 'pending') for (const f of files) this.unapplied.delete(f);
      out.push({ module, files, reload });
    }
    return { list: out };
  }

  /**
   * Ask Asterisk to pick up `file` after it was written. A reload Asterisk does not answer within
   * asterisk.reload_timeout_s throws AmiTimeoutError (the request ends with 504 asterisk_timeout; the file is
   * written, its lock free).
   */
  async reload(file: string): Promise<ReloadOutcome> {
    if (!this.metrics) return this.bounded(file, this.reloadOnce(file));
    try {
      const out = await this.bounded(file, this.reloadOnce(file));
      if (out.status !== 'later') this.metrics.configReload(file, out.status);
      return out;
    } catch (e) {
      this.metrics.configReload(file, e instanceof AmiTimeoutError ? 'timeout' : 'failed');
      throw e;
    }
  }

  /** `p`, or AmiTimeoutError once asterisk.reload_timeout_s has passed. */
  private bounded<T>(file: string, p: Promise<T>): Promise<T> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const limit = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const e = new AmiTimeoutError(`reload of ${file}`, '-', this.reloadTimeoutMs);
        e.message = `${file} was written, but Asterisk did not finish its reload within asterisk.reload_timeout_s (${this.reloadTimeoutMs / 1000} s)`;
        reject(e);
      }, this.reloadTimeoutMs);
    });
    p.catch(() => undefined); // a late failure after the timeout is not unhandled
    return Promise.race([p, limit]).finally(() => clearTimeout(timer));
  }

  private async reloadOnce(file: string): Promise<ReloadOutcome> {
    const r = RELOADS[file];
    if (!r) return { status: 'none' };
    if (!this.ami.connected) {
      this.pending.add(file);
      return { status: 'pending', message: 'Asterisk is not connected; the reload is made when AMI reconnects' };
    }
    try {
      if (r.kind === 'command') {
        const out = await this.ami.command(r.what);
        return { status: 'done', message: out.join('\n') };
      }
      const res = await this.ami.action('ModuleLoad', { Module: r.what, LoadType: 'reload' });
      return { status: 'done', message: res.fields.Message };
    } catch (e) {
      if (e instanceof AmiNotConnectedError) {
        this.pending.add(file);
        return { status: 'pending', message: 'Asterisk is not connected; the reload is made when AMI reconnects' };
      }
      if (e instanceof AmiTimeoutError) {
        e.message = `${file} was written, but Asterisk did not answer its reload: ${e.message}`;
        throw e;
      }
      return { status: 'failed', message: (e as Error).message };
    }
  }

  async flushPendingReloads(): Promise<void> {
    for (const file of [...this.pending]) {
      this.pending.delete(file);
      const out = await this.reload(file).catch((e: Error) => ({ status: 'failed', message: e.message }));
      this.log.info(`pending reload of ${file}: ${out.status}${out.message ? ` (${out.message.split('\n')[0]})` : ''}`);
    }
  }
}

/** POST /admin/config/apply: the reloads left by ?reload=later writes, once per module. */
export function registerConfigApplyRoute(router: Router, files: Pick<ConfigFiles, 'apply'>): void {
  router.add(
    route({
      method: 'POST',
      path: '/admin/config/apply',
      summary: 'Apply config files written with ?reload=later: one reload per module',
      tags: ['status'],
      description:
        'Every config write takes ?reload=later: the file is written (and backed up) but Asterisk is not reloaded, and ' +
        '/v1/status lists it under config.unapplied. This reloads each module those files feed once, and answers each ' +
        "outcome. A failed reload keeps its files listed; no rollback is made here (the writes' backups are listed " +
        'by the configurations routes). The body is an empty JSON object, {}.',
      body: obj({}, 'an empty JSON object: {}'),
      responses: { 200: ConfigAppliedSchema },
      errors: [504],
      handler: async () => ok(await files.apply()),
    }),
  );
}
