/**
 * Backup files: `<file>.<ISO timestamp>` in the backup directory, e.g.
 * `extensions.conf.2026-11-27T22:15:38.123Z`. Names with 1 to 9 fraction digits are accepted
 * (older gateways wrote nanoseconds); order is by time, not by string.
 */
import { mkdir, open, readdir, rm } from 'node:fs/promises';
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

/**
 * Writes `bytes` as a new backup of `file`, named after the current time; a name taken in the
 * same millisecond (or a clock that went back) moves the stamp forward so names stay unique
 * and ordered.
 */
export async function writeBackup(backupDir: string, file: string, bytes: Uint8Array, mode: number, newest: string | undefined): Promise<string> {
  await mkdir(backupDir, { recursive: true, mode: 0o750 });
  let t = Date.now();
  const last = newest ? Date.parse(newest.slice(file.length + 1)) : NaN;
  if (!Number.isNaN(last) && last >= t) t = last + 1;
  for (;;) {
    const name = `${file}.${new Date(t).toISOString()}`;
    let fh;
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

/** Deletes the oldest backups of `file` beyond `retention`. */
export async function pruneBackups(backupDir: string, file: string, retention: number): Promise<void> {
  const names = await listBackupNames(backupDir, file);
  for (const name of names.slice(retention)) await rm(path.join(backupDir, name), { force: true });
}
