/**
 * Safe reads and writes of Asterisk config files, addressed by plain file name.
 *
 * Writes to one file are serialised through a per-file promise queue; inside it the file is
 * re-read from disk (never a stale copy), the ETag checked, the edit run, a backup of the
 * previous bytes written, and the new bytes put in place atomically. Only the config directory
 * and the backup directory are ever touched. (The queue covers this process; other writers,
 * such as Asterisk's own UpdateConfig, are caught by the If-Match check.)
 *
 * @example
 *   const store = new ConfigFileStore({ configDir: '/etc/asterisk', backupDir: '/var/lib/gw/backups' });
 *   await store.update('pjsip.conf', (doc) => doc.setValue('6001', 'context', 'internal', { sectionIndex: 0 }));
 */
import { createHash } from 'node:crypto';
import { readFile, realpath, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from './atomic-write.ts';
import { assertBackupName, listBackupNames, pruneBackups, writeBackup } from './backups.ts';
import { parseConfig, type ConfigDocument } from './document.ts';
import { decodeConfigBytes, encodeConfigText, type TextEncodingName } from './encoding.ts';
import { badConfig, configNotFound, configPrecondition } from './errors.ts';
import { assertPlainFileName, isInside } from './path-guard.ts';
import { validateText } from './validate-text.ts';

export interface ConfigFileStoreOptions {
  configDir: string;
  backupDir: string;
  /** Most backups kept per file (default 50); older ones are deleted after each write. */
  retention?: number;
}

export interface ReadResult {
  text: string;
  /** Strong ETag: the quoted SHA-256 hex of the bytes on disk. */
  etag: string;
}

export interface WriteResult extends ReadResult {
  /** Name of the backup of the previous content (for readBackup), or null when nothing was written. */
  backup: string | null;
}

export interface WriteOptions {
  /** Refuse (412) unless the file's current ETag matches; `*` matches any existing file. */
  ifMatch?: string;
}

export type ConfigEdit = (doc: ConfigDocument) => void | Promise<void>;

/** New files may hold secrets (pjsip passwords): not world-readable. */
const NEW_FILE_MODE = 0o640;

interface Current {
  /** The path written to (a symlink inside the config directory is followed to its target). */
  target: string;
  bytes: Buffer;
  text: string;
  encoding: TextEncodingName;
  etag: string;
  mode: number;
  uid: number;
  gid: number;
}

export function etagOf(bytes: Uint8Array): string {
  return `"${createHash('sha256').update(bytes).digest('hex')}"`;
}

export class ConfigFileStore {
  readonly configDir: string;
  readonly backupDir: string;
  readonly retention: number;
  private readonly queues = new Map<string, Promise<void>>();

  constructor(opts: ConfigFileStoreOptions) {
    if (!opts?.configDir || !opts.backupDir) throw new Error('ConfigFileStore: configDir and backupDir are required');
    this.configDir = path.resolve(opts.configDir);
    this.backupDir = path.resolve(opts.backupDir);
    if (this.backupDir === this.configDir) throw new Error('ConfigFileStore: backupDir must not be the config directory');
    this.retention = opts.retention ?? 50;
    if (!Number.isInteger(this.retention) || this.retention < 1) throw new Error('ConfigFileStore: retention must be an integer >= 1');
  }

  /** Absolute path of a config file; only plain names are accepted (ConfigError 400). */
  resolve(name: string): string {
    assertPlainFileName(name);
    const p = path.join(this.configDir, name);
    if (!isInside(this.configDir, p)) throw badConfig(`${name} is outside the config directory`);
    return p;
  }

  async read(name: string): Promise<ReadResult> {
    const cur = await this.load(this.resolve(name), name);
    if (!cur) throw configNotFound(`config file ${name} not found`);
    return { text: cur.text, etag: cur.etag };
  }

  /** Parses the file, runs `edit`, and writes the result if it changed. */
  async update(name: string, edit: ConfigEdit, opts: WriteOptions = {}): Promise<WriteResult> {
    const p = this.resolve(name);
    return this.locked(p, async () => {
      const cur = await this.load(p, name);
      if (!cur) throw configNotFound(`config file ${name} not found`);
      checkIfMatch(name, cur.etag, opts.ifMatch);
      const doc = parseConfig(cur.text, name);
      const errorsBefore = countErrors(doc);
      await edit(doc);
      const text = doc.toString();
      if (text === cur.text) return { text, etag: cur.etag, backup: null };
      // Safety net: never write a file Asterisk would refuse more than the one on disk.
      if (countErrors(doc) > errorsBefore) doc.assertValid();
      return this.commit(name, p, cur, encodeConfigText(text, cur.encoding, name), text);
    });
  }

  /** Whole-file put: validated first (ConfigError 400 naming the line), then written like update. */
  async replace(name: string, text: string, opts: WriteOptions = {}): Promise<WriteResult> {
    const p = this.resolve(name);
    validateText(text, name);
    return this.locked(p, async () => {
      const cur = await this.load(p, name);
      if (opts.ifMatch !== undefined) {
        if (!cur) throw configPrecondition(`${name} does not exist (If-Match given)`);
        checkIfMatch(name, cur.etag, opts.ifMatch);
      }
      if (cur && cur.text === text) return { text, etag: cur.etag, backup: null };
      // Keep a Latin-1 file Latin-1 while the text allows it, so GET then PUT changes no byte.
      const encoding: TextEncodingName = cur?.encoding === 'latin1' && !/[^\u0000-\u00ff]/.test(text) ? 'latin1' : 'utf8';
      return this.commit(name, p, cur, encodeConfigText(text, encoding, name), text);
    });
  }

  /** Backup names of a file (`extensions.conf.<timestamp>`), newest first. */
  async listBackups(name: string): Promise<string[]> {
    this.resolve(name);
    return listBackupNames(this.backupDir, name);
  }

  async readBackup(backupName: string): Promise<ReadResult> {
    assertBackupName(backupName);
    let bytes: Buffer;
    try {
      bytes = await readFile(path.join(this.backupDir, backupName));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw configNotFound(`backup ${backupName} not found`);
      throw err;
    }
    return { text: decodeConfigBytes(bytes).text, etag: etagOf(bytes) };
  }

  /** Deletes one backup. A name that is not `<file>.<timestamp>` (e.g. the live file) is refused 400. */
  async deleteBackup(backupName: string): Promise<void> {
    assertBackupName(backupName);
    const p = path.join(this.backupDir, backupName);
    try {
      await stat(p);
    } catch {
      throw configNotFound(`backup ${backupName} not found`);
    }
    await rm(p);
  }

  // ---- internals ----

  private async commit(name: string, p: string, cur: Current | null, bytes: Buffer, text: string): Promise<WriteResult> {
    let backup: string | null = null;
    if (cur) {
      const newest = (await listBackupNames(this.backupDir, name))[0];
      backup = await writeBackup(this.backupDir, name, cur.bytes, cur.mode, newest);
    }
    await writeFileAtomic(cur?.target ?? p, bytes, cur ? { mode: cur.mode, uid: cur.uid, gid: cur.gid } : { mode: NEW_FILE_MODE });
    if (cur) await pruneBackups(this.backupDir, name, this.retention);
    return { text, etag: etagOf(bytes), backup };
  }

  /** Reads the file now; null when it does not exist. */
  private async load(p: string, name: string): Promise<Current | null> {
    let target: string;
    try {
      target = await realpath(p);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    // A symlink may point anywhere; follow it only while it stays in the config directory.
    if (!isInside(await realpath(this.configDir), target)) throw badConfig(`${name} resolves outside the config directory`);
    const st = await stat(target);
    if (!st.isFile()) throw badConfig(`${name} is not a regular file`);
    const bytes = await readFile(target);
    const { text, encoding } = decodeConfigBytes(bytes);
    return { target, bytes, text, encoding, etag: etagOf(bytes), mode: st.mode, uid: st.uid, gid: st.gid };
  }

  /** Runs `fn` after every earlier write to the same file has finished. */
  private async locked<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.queues.get(key) ?? Promise.resolve();
    const run = prev.then(fn);
    const tail = run.then(
      () => undefined,
      () => undefined,
    );
    this.queues.set(key, tail);
    try {
      return await run;
    } finally {
      if (this.queues.get(key) === tail) this.queues.delete(key);
    }
  }
}

function countErrors(doc: ConfigDocument): number {
  return doc.problems().filter((p) => p.severity === 'error').length;
}

function checkIfMatch(name: string, etag: string, ifMatch: string | undefined): void {
  if (ifMatch === undefined) return;
  const tags = ifMatch.split(',').map((t) => t.trim());
  // Strong comparison (RFC 9110): a weak tag never matches; a bare hex is taken as quoted.
  const ok = tags.some((t) => t === '*' || t === etag || (!t.startsWith('"') && !t.startsWith('W/') && `"${t}"` === etag));
  if (!ok) throw configPrecondition(`${name} has changed (ETag is now ${etag}); read it again and retry`);
}
