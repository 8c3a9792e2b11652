/**
 * Safe reads and writes of Asterisk config files, addressed by plain file name.
 *
 * Writes to one file are serialised through a per-file promise queue; inside it the file is
 * re-read from disk (never a stale copy), the ETag checked, the edit run on a lazy document
 * (only what the edit reads is parsed), a backup of the previous bytes made (a hard link to the
 * old inode when that is safe, else a copy), and the new bytes put in place atomically. Only the
 * config directory and the backup directory are ever touched. (The queue covers this process;
 * other writers, such as Asterisk's own UpdateConfig, are caught by the If-Match check.)
 *
 * @example
 *   const store = new ConfigFileStore({ configDir: '/etc/asterisk', backupDir: '/var/lib/gw/backups' });
 *   await store.update('pjsip.conf', (doc) => doc.setValue('6001', 'context', 'internal', { sectionIndex: 0 }));
 */
import { createHash } from 'node:crypto';
import { constants as fsConstants, type Stats } from 'node:fs';
import { open, readFile, realpath, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { removeStaleTemps, writeFileAtomic } from './atomic-write.ts';
import { assertBackupName, listBackupNames, makeBackup, pruneBackups, type MadeBackup } from './backups.ts';
import { parseConfigLazy, type ConfigDocument } from './document.ts';
import { decodeConfigBytes, encodeConfigText, type TextEncodingName } from './encoding.ts';
import { ConfigError, badConfig, configNotFound, configPrecondition } from './errors.ts';
import { assertPlainFileName, isInside } from './path-guard.ts';
import { validateText } from './validate-text.ts';

export interface ConfigFileStoreOptions {
  configDir: string;
  backupDir: string;
  /** Most backups kept per file (default 50); older ones are deleted after each write. */
  retention?: number;
  /**
   * Told of every update/replace once it is over: written, unchanged (the text was the same: nothing written),
   * refused (a ConfigError: bad input, no such file, If-Match) or failed (anything else, e.g. a full disk).
   */
  onWrite?(name: string, outcome: WriteOutcome): void;
}

export type WriteOutcome = 'written' | 'unchanged' | 'refused' | 'failed';

export interface ReadResult {
  text: string;
  /** Strong ETag: the quoted SHA-256 hex of the bytes on disk. */
  etag: string;
}

export interface WriteResult extends ReadResult {
  /** Name of the backup of the previous content (for readBackup), or null when nothing was written. */
  backup: string | null;
  /**
   * The text as it was before the write (null when the file did not exist), when the write changed it, and on a
   * dry run, where `text` is what would be written and `etag` the current file's.
   */
  before?: string | null;
}

export interface WriteOptions {
  /** Refuse (412) unless the file's current ETag matches; `*` matches any existing file. */
  ifMatch?: string;
  /** Check and compute everything, write nothing (no backup, no temp file): the result has `before`. */
  dryRun?: boolean;
}

export type ConfigEdit = (doc: ConfigDocument) => void | Promise<void>;

/** The biggest read buffer kept for reuse (see `spare`). */
const MAX_SPARE_BYTES = 32 * 1024 * 1024;

/** New files may hold secrets (pjsip passwords): not world-readable. */
const NEW_FILE_MODE = 0o640;

interface Current {
  /** The path written to (a symlink inside the config directory is followed to its target). */
  target: string;
  bytes: Buffer;
  /** The whole read buffer `bytes` lies in (handed back for reuse when the operation is over). */
  buffer: Buffer;
  text: string;
  encoding: TextEncodingName;
  mode: number;
  uid: number;
  gid: number;
  /** Identity of what was read, for backups made as hard links (backups.ts). */
  dev: number;
  ino: number;
  nlink: number;
  size: number;
  mtimeMs: number;
}

export function etagOf(bytes: Uint8Array): string {
  return `"${createHash('sha256').update(bytes).digest('hex')}"`;
}

/** etagOf of the pieces joined, without joining them. */
function etagOfPieces(pieces: readonly Uint8Array[]): string {
  const h = createHash('sha256');
  for (const p of pieces) h.update(p);
  return `"${h.digest('hex')}"`;
}

export class ConfigFileStore {
  readonly configDir: string;
  readonly backupDir: string;
  readonly retention: number;
  private readonly queues = new Map<string, Promise<void>>();
  /**
   * Backup pruning still under way after a write, by file name. It runs after the write has
   * answered; the next write of that file and every backup operation on it wait for it first.
   */
  private readonly pruning = new Map<string, Promise<void>>();
  /**
   * A read buffer to reuse: reading a 3 MB file into fresh memory costs more in page faults than
   * the read itself. Taken by one load at a time, given back when its operation is over (nothing
   * keeps a view of it: the text is decoded into a copy, and writes finish before that).
   */
  private spare: Buffer | null = null;
  private readonly onWrite: ConfigFileStoreOptions['onWrite'];
  /** The results commit() made: a result not in here wrote nothing. */
  private readonly written = new WeakSet<WriteResult>();

  constructor(opts: ConfigFileStoreOptions) {
    if (!opts?.configDir || !opts.backupDir) throw new Error('ConfigFileStore: configDir and backupDir are required');
    this.configDir = path.resolve(opts.configDir);
    this.backupDir = path.resolve(opts.backupDir);
    if (this.backupDir === this.configDir) throw new Error('ConfigFileStore: backupDir must not be the config directory');
    this.retention = opts.retention ?? 50;
    this.onWrite = opts.onWrite;
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
    const etag = etagOf(cur.bytes);
    this.giveBack(cur);
    return { text: cur.text, etag };
  }

  /** Parses the file, runs `edit`, and writes the result if it changed. */
  async update(name: string, edit: ConfigEdit, opts: WriteOptions = {}): Promise<WriteResult> {
    const p = this.resolve(name);
    const write = this.locked(p, async () => {
      const cur = await this.load(p, name);
      if (!cur) throw configNotFound(`config file ${name} not found`);
      try {
        checkIfMatch(name, cur.bytes, opts.ifMatch);
        // Lazy: on a big file only the lines the edit looks at get parsed (lazy-lines.ts).
        const doc = parseConfigLazy(cur.text, name);
        const errorsBefore = doc.errorCount();
        await edit(doc);
        const text = doc.toString();
        if (sameText(doc, text, cur.text)) return { text: cur.text, etag: etagOf(cur.bytes), backup: null, ...dry(opts, cur) };
        // Safety net: never write a file Asterisk would refuse more than the one on disk.
        if (doc.errorCount() > errorsBefore) doc.assertValid();
        if (opts.dryRun) return { text, etag: etagOf(cur.bytes), backup: null, before: cur.text };
        return await this.commit(name, p, cur, encodeEdited(doc, text, cur, name), text);
      } finally {
        this.giveBack(cur);
      }
    });
    return this.reported(name, write);
  }

  /** Whole-file put: validated first (ConfigError 400 naming the line), then written like update. */
  async replace(name: string, text: string, opts: WriteOptions = {}): Promise<WriteResult> {
    const p = this.resolve(name);
    try {
      validateText(text, name);
    } catch (err) {
      this.onWrite?.(name, 'refused');
      throw err;
    }
    const write = this.locked(p, async () => {
      const cur = await this.load(p, name);
      try {
        if (opts.ifMatch !== undefined) {
          if (!cur) throw configPrecondition(`${name} does not exist (If-Match given)`);
          checkIfMatch(name, cur.bytes, opts.ifMatch);
        }
        if (cur && cur.text === text) return { text, etag: etagOf(cur.bytes), backup: null, ...dry(opts, cur) };
        if (opts.dryRun) return { text, etag: cur ? etagOf(cur.bytes) : '', backup: null, before: cur?.text ?? null };
        // Keep a Latin-1 file Latin-1 while the text allows it, so GET then PUT changes no byte.
        const encoding: TextEncodingName = cur?.encoding === 'latin1' && !/[^\u0000-\u00ff]/.test(text) ? 'latin1' : 'utf8';
        return await this.commit(name, p, cur, [encodeConfigText(text, encoding, name)], text);
      } finally {
        this.giveBack(cur);
      }
    });
    return this.reported(name, write);
  }

  /**
   * Puts a backup's bytes back as the file, byte for byte (a rollback after Asterisk refused what was written):
   * atomic, under the file's queue, keeping the file's mode and owner, and making no backup of its own. Only
   * while the file is still what `expectEtag` says (the write being undone); else 412 and nothing changes, so a
   * later write is never undone by accident. `backupName` null undoes the write that created the file: it is
   * removed. Answers the file as it is now (null: no file).
   */
  async restore(name: string, backupName: string | null, expectEtag: string): Promise<ReadResult | null> {
    const p = this.resolve(name);
    if (backupName !== null && assertBackupName(backupName).file !== name) throw badConfig(`${backupName} is not a backup of ${name}`);
    return this.locked(p, async () => {
      await this.pruning.get(name);
      const cur = await this.load(p, name);
      try {
        if (!cur) throw configNotFound(`config file ${name} not found`);
        checkIfMatch(name, cur.bytes, expectEtag);
        if (backupName === null) {
          await rm(cur.target);
          return null;
        }
        let bytes: Buffer;
        try {
          bytes = await readFile(path.join(this.backupDir, backupName));
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw configNotFound(`backup ${backupName} not found`);
          throw err;
        }
        await writeFileAtomic(cur.target, [bytes], { mode: cur.mode, uid: cur.uid, gid: cur.gid });
        return { text: decodeConfigBytes(bytes).text, etag: etagOf(bytes) };
      } finally {
        this.giveBack(cur);
      }
    });
  }

  /** Removes the temp files of writers killed mid-write (kill -9, power cut) from the config directory. */
  removeStaleTemps(): Promise<string[]> {
    return removeStaleTemps(this.configDir);
  }

  /** Backup names of a file (`extensions.conf.<timestamp>`), newest first. */
  async listBackups(name: string): Promise<string[]> {
    this.resolve(name);
    await this.pruning.get(name);
    return listBackupNames(this.backupDir, name);
  }

  async readBackup(backupName: string): Promise<ReadResult> {
    await this.pruning.get(assertBackupName(backupName).file);
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
    await this.pruning.get(assertBackupName(backupName).file);
    const p = path.join(this.backupDir, backupName);
    try {
      await stat(p);
    } catch {
      throw configNotFound(`backup ${backupName} not found`);
    }
    await rm(p);
  }

  // ---- internals ----

  /** Awaits a write and tells onWrite how it went. */
  private async reported(name: string, write: Promise<WriteResult>): Promise<WriteResult> {
    const onWrite = this.onWrite;
    if (!onWrite) return write;
    let res: WriteResult;
    try {
      res = await write;
    } catch (err) {
      onWrite(name, err instanceof ConfigError ? 'refused' : 'failed');
      throw err;
    }
    onWrite(name, this.written.has(res) ? 'written' : 'unchanged');
    return res;
  }

  /**
   * Backup, then atomic write. The temp file is written and synced while the backup is made (a
   * hard link to the old inode, or a copy: backups.ts); the rename waits for both, so the old
   * bytes are in the backup before the new ones replace them.
   */
  private async commit(name: string, p: string, cur: Current | null, bytes: Uint8Array[], text: string): Promise<WriteResult> {
    const made: { backup: MadeBackup | null; names: string[] } = { backup: null, names: [] };
    const backupJob = cur ? this.backup(name, cur, made) : Promise.resolve();
    backupJob.catch(() => undefined); // awaited before the rename (or on failure); not unhandled meanwhile
    let etag = '';
    try {
      await writeFileAtomic(cur?.target ?? p, bytes, cur ? { mode: cur.mode, uid: cur.uid, gid: cur.gid } : { mode: NEW_FILE_MODE }, {
        whileSyncing: () => {
          etag = etagOfPieces(bytes);
        },
        beforeRename: () => backupJob,
      });
    } catch (err) {
      await backupJob.catch(() => undefined);
      // A linked backup is still the live file's inode: drop it, or writes to the file would change it.
      if (made.backup?.linked) await rm(path.join(this.backupDir, made.backup.name), { force: true }).catch(() => undefined);
      throw err;
    }
    // The new backup is the newest: prune from the listing made before it, without reading the directory again.
    if (made.backup) this.prune(name, [made.backup.name, ...made.names]);
    const res = { text, etag: etag || etagOfPieces(bytes), backup: made.backup?.name ?? null, before: cur?.text ?? null };
    this.written.add(res);
    return res;
  }

  /** Deletes the backups beyond retention in the background (see `pruning`); a failure only leaves one more backup. */
  private prune(name: string, newestFirst: string[]): void {
    if (newestFirst.length <= this.retention) return;
    const job = (this.pruning.get(name) ?? Promise.resolve())
      .then(() => pruneBackups(this.backupDir, name, this.retention, newestFirst))
      .catch(() => undefined);
    this.pruning.set(name, job);
    void job.then(() => {
      if (this.pruning.get(name) === job) this.pruning.delete(name);
    });
  }

  private async backup(name: string, cur: Current, out: { backup: MadeBackup | null; names: string[] }): Promise<void> {
    await this.pruning.get(name);
    out.names = await listBackupNames(this.backupDir, name);
    out.backup = await makeBackup(
      this.backupDir,
      name,
      {
        path: cur.target,
        bytes: cur.bytes,
        mode: cur.mode,
        dev: cur.dev,
        ino: cur.ino,
        nlink: cur.nlink,
        size: cur.size,
        mtimeMs: cur.mtimeMs,
      },
      out.names[0],
    );
  }

  /** Reads the file now; null when it does not exist. */
  private async load(p: string, name: string): Promise<Current | null> {
    const configReal = realpath(this.configDir);
    configReal.catch(() => undefined); // awaited below, unless the file is missing
    let target: string;
    try {
      target = await realpath(p);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    // A symlink may point anywhere; follow it only while it stays in the config directory.
    if (!isInside(await configReal, target)) throw badConfig(`${name} resolves outside the config directory`);
    const { st, bytes, buffer } = await readWhole(target, (min) => this.takeBuffer(min));
    if (!st.isFile()) throw badConfig(`${name} is not a regular file`);
    const { text, encoding } = decodeConfigBytes(bytes); // a copy: nothing of it points into `buffer`
    return {
      target,
      bytes,
      buffer,
      text,
      encoding,
      mode: st.mode,
      uid: st.uid,
      gid: st.gid,
      dev: st.dev,
      ino: st.ino,
      nlink: st.nlink,
      size: st.size,
      mtimeMs: st.mtimeMs,
    };
  }

  /** A buffer of at least `min` bytes: the spare one if it is big enough, else a new one with some room to grow. */
  private takeBuffer(min: number): Buffer {
    const b = this.spare;
    if (b && b.length >= min) {
      this.spare = null;
      return b;
    }
    return Buffer.allocUnsafe(min + Math.max(65_536, min >> 3));
  }

  /** Call once the operation that loaded `cur` is over: no view of its buffer may be used after. */
  private giveBack(cur: Current | null): void {
    if (!cur || cur.buffer.length > MAX_SPARE_BYTES) return;
    if (!this.spare || this.spare.length < cur.buffer.length) this.spare = cur.buffer;
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

/**
 * The file's bytes and the stat of the very inode they were read from, in one read of the whole
 * size (readFile reads in 512 KiB steps, each a trip through the thread pool). Opened
 * non-blocking, so a FIFO put in the file's place cannot hang the read: it is not a regular file
 * and is refused unread.
 */
async function readWhole(file: string, alloc: (min: number) => Buffer): Promise<{ st: Stats; bytes: Buffer; buffer: Buffer }> {
  const fh = await open(file, fsConstants.O_RDONLY | (fsConstants.O_NONBLOCK ?? 0));
  try {
    const st = await fh.stat();
    if (!st.isFile()) return { st, bytes: Buffer.alloc(0), buffer: Buffer.alloc(0) };
    let buf = alloc(st.size + 1); // one spare byte at least: a file that grew meanwhile is read to its end
    let off = 0;
    for (;;) {
      if (off === buf.length) {
        const bigger = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(bigger, 0, 0, off);
        buf = bigger;
      }
      const want = buf.length - off;
      const { bytesRead } = await fh.read(buf, off, want, off);
      off += bytesRead;
      // Done at end of file; a short read once the stat size is in is that end (saves a trip).
      if (bytesRead === 0 || (bytesRead < want && off >= st.size)) break;
    }
    return { st, bytes: buf.subarray(0, off), buffer: buf };
  } finally {
    fh.close().catch(() => undefined); // nothing waits for the close
  }
}

/** Whether the edited text equals the text read; for a lazy document only the part edits touched is compared. */
function sameText(doc: ConfigDocument, text: string, before: string): boolean {
  if (text.length !== before.length) return false;
  const ends = doc.unchangedEnds();
  if (!ends || ends.originalLength !== before.length) return text === before;
  const { prefix, suffix } = ends;
  if (prefix + suffix >= before.length) return true;
  return ends.middle() === before.slice(prefix, before.length - suffix);
}

/**
 * The bytes of the edited text, in pieces. After a lazy edit only the changed middle is encoded;
 * the untouched head and tail are the bytes read (decodeConfigBytes maps them one to one), not copied.
 */
function encodeEdited(doc: ConfigDocument, text: string, cur: Current, name: string): Uint8Array[] {
  const ends = doc.unchangedEnds();
  if (!ends || ends.originalLength !== cur.text.length) return [encodeConfigText(text, cur.encoding, name)];
  const { prefix, suffix } = ends;
  const mid = encodeConfigText(ends.middle(), cur.encoding, name);
  // Latin-1, or UTF-8 of ASCII only: one byte per character.
  const oneByte = cur.encoding === 'latin1' || cur.bytes.length === cur.text.length;
  const head = oneByte ? prefix : Buffer.byteLength(cur.text.slice(0, prefix));
  const tail = oneByte ? suffix : Buffer.byteLength(cur.text.slice(cur.text.length - suffix));
  return [cur.bytes.subarray(0, head), mid, cur.bytes.subarray(cur.bytes.length - tail)];
}

/** The dry run's `before` for an unchanged text. */
function dry(opts: WriteOptions, cur: Current): { before?: string } {
  return opts.dryRun ? { before: cur.text } : {};
}

function checkIfMatch(name: string, bytes: Uint8Array, ifMatch: string | undefined): void {
  if (ifMatch === undefined) return;
  const etag = etagOf(bytes);
  const tags = ifMatch.split(',').map((t) => t.trim());
  // Strong comparison (RFC 9110): a weak tag never matches; a bare hex is taken as quoted.
  const ok = tags.some((t) => t === '*' || t === etag || (!t.startsWith('"') && !t.startsWith('W/') && `"${t}"` === etag));
  if (!ok) throw configPrecondition(`${name} has changed (ETag is now ${etag}); read it again and retry`);
}
