/**
 * Backup files: `<file>.<ISO timestamp>` in the backup directory, e.g.
 * `extensions.conf.2026-11-27T22:15:38.123Z`. Names with 1 to 9 fraction digits are accepted
 * (older gateways wrote nanoseconds); order is by time, not by string.
 *
 * A backup is normally a hard link to the file's current inode, made just before the new content
 * is renamed over the file: the rename replaces the directory entry, not the inode, so the link
 * keeps the previous bytes without copying them. It falls back to a copy when a link cannot do
 * that safely: another filesystem (EXDEV), no hard links there, a file that already has other
 * links (someone could write through them), or a file that changed since it was read.
 */
import { type FileHandle, link, lstat, mkdir, open, readdir, rm, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { badConfig } from './errors.ts';
import { assertPlainFileName } from './path-guard.ts';

const BACKUP_RE = /^(.+)\.(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?Z$/;

export interface BackupName {
  /** The config file it is a copy of. */
  file: string;
  /** Sortable: seconds part + fraction padded to nanoseconds. */
  sortKey: string;
}

export function parseBackupName(name: string): BackupName | null {
  const m = BACKUP_RE.exec(name);
  if (!m) return null;
  const ms = Date.parse(`${m[2]}Z`);
  if (Number.isNaN(ms)) return null;
  return { file: m[1]!, sortKey: `${m[2]}.${(m[3] ?? '').padEnd(9, '0')}` };
}

/** Validates a backup name from a request: a plain name of the form `<file>.<timestamp>`. */
export function assertBackupName(name: unknown): BackupName {
  assertPlainFileName(name, 'backup name');
  const parsed = parseBackupName(name);
  if (!parsed) throw badConfig(`${JSON.stringify(name)} is not a backup name (<file>.<ISO timestamp>)`);
  assertPlainFileName(parsed.file, 'file name');
  return parsed;
}

/** Backups of one file, newest first. */
export async function listBackupNames(backupDir: string, file: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(backupDir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const mine: { name: string; key: string }[] = [];
  for (const name of names) {
    const p = parseBackupName(name);
    if (p && p.file === file) mine.push({ name, key: p.sortKey });
  }
  return mine.sort((a, b) => (a.key < b.key ? 1 : a.key > b.key ? -1 : 0)).map((b) => b.name);
}

/** The file a backup is made of: where it is and what was read from it. */
export interface BackupSource {
  /** Real path of the live file (symlinks resolved). */
  path: string;
  /** The bytes read from it (written to the backup when it is copied). */
  bytes: Uint8Array;
  mode: number;
  /** What the file looked like when read: a link is kept only while these still hold. */
  dev: number;
  ino: number;
  nlink: number;
  size: number;
  mtimeMs: number;
}

export interface MadeBackup {
  name: string;
  /** True: a hard link to the live file's inode; it must be removed if the new file does not replace that inode. */
  linked: boolean;
}

/**
 * Makes a new backup of `file` holding `source.bytes`, named after the current time; a name taken in
 * the same millisecond (or a clock that went back) moves the stamp forward so names stay unique
 * and ordered. A hard link when that is safe (see the header), else a copy.
 */
export async function makeBackup(backupDir: string, file: string, source: BackupSource, newest: string | undefined): Promise<MadeBackup> {
  let dirDev: number;
  try {
    dirDev = (await stat(backupDir)).dev;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    await mkdir(backupDir, { recursive: true, mode: 0o750 });
    dirDev = (await stat(backupDir)).dev;
  }
  const tryLink = dirDev === source.dev && source.nlink === 1;
  let t = nextStamp(file, newest);
  if (tryLink) {
    for (;;) {
      const name = `${file}.${new Date(t).toISOString()}`;
      const p = path.join(backupDir, name);
      try {
        await link(source.path, p);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
          t++;
          continue;
        }
        break; // EXDEV, EPERM, ENOTSUP, EMLINK, a vanished file ...: copy instead
      }
      // The link is the previous content only if the inode is still the one that was read.
      const st = await lstat(p).catch(() => null);
      if (
        st &&
        st.ino === source.ino &&
        st.dev === source.dev &&
        st.size === source.size &&
        st.mtimeMs === source.mtimeMs &&
        st.nlink === 2
      ) {
        return { name, linked: true };
      }
      await unlink(p).catch(() => undefined);
      break;
    }
  }
  return { name: await writeBackup(backupDir, file, source.bytes, source.mode, newest, t), linked: false };
}

function nextStamp(file: string, newest: string | undefined): number {
  let t = Date.now();
  const last = newest ? Date.parse(newest.slice(file.length + 1)) : NaN;
  if (!Number.isNaN(last) && last >= t) t = last + 1;
  return t;
}

/**
 * Writes `bytes` as a new backup of `file` (a copy), named like `makeBackup` names them, starting
 * at the time `from` when given.
 */
export async function writeBackup(
  backupDir: string,
  file: string,
  bytes: Uint8Array,
  mode: number,
  newest: string | undefined,
  from?: number,
): Promise<string> {
  await mkdir(backupDir, { recursive: true, mode: 0o750 });
  let t = Math.max(from ?? 0, nextStamp(file, newest));
  for (;;) {
    const name = `${file}.${new Date(t).toISOString()}`;
    let fh: FileHandle;
    try {
      fh = await open(path.join(backupDir, name), 'wx', mode & 0o666);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
        t++;
        continue;
      }
      throw err;
    }
    try {
      await fh.writeFile(bytes);
      await fh.sync();
    } finally {
      await fh.close();
    }
    return name;
  }
}

/** Deletes the oldest backups of `file` beyond `retention`; `known`: a listing (newest first) to use instead of reading the directory. */
export async function pruneBackups(backupDir: string, file: string, retention: number, known?: string[]): Promise<void> {
  const names = known ?? (await listBackupNames(backupDir, file));
  for (const name of names.slice(retention)) await rm(path.join(backupDir, name), { force: true });
}
