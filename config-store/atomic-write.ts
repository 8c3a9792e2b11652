/**
 * Crash-safe replacement of a file: write a temp file in the same directory (so rename stays on
 * one filesystem), give it the old file's owner and mode, fsync it, rename it over the target,
 * then fsync the directory so the rename itself survives a power cut.
 */
import { randomBytes } from 'node:crypto';
import { open, readdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';

export interface AtomicWriteOptions {
  mode: number;
  uid?: number;
  gid?: number;
}

export interface AtomicWriteHooks {
  /** Runs (synchronously) while the temp file's fsync is under way: CPU work that can overlap it. */
  whileSyncing?: () => void;
  /** Awaited after the temp file is complete and before the rename; if it throws, nothing is renamed. */
  beforeRename?: () => Promise<void>;
}

/** `bytes` may come in pieces (written one after the other), so an edited file need not be copied into one buffer. */
export async function writeFileAtomic(
  target: string,
  bytes: Uint8Array | readonly Uint8Array[],
  opts: AtomicWriteOptions,
  hooks: AtomicWriteHooks = {},
): Promise<void> {
  const dir = path.dirname(target);
  // A dot name with a .tmp tail: never matched by Asterisk's `#include *.conf` globs.
  const tmp = path.join(dir, `.${path.basename(target)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const mode = opts.mode & 0o7777;
  const fh = await open(tmp, 'wx', mode);
  try {
    const writeAll = async () => {
      // One write per piece (writeFile goes in 512 KiB steps, each a trip through the thread pool).
      let pos = 0;
      for (const piece of bytes instanceof Uint8Array ? [bytes] : bytes) {
        for (let off = 0; off < piece.length; ) {
          const { bytesWritten } = await fh.write(piece, off, piece.length - off, pos);
          if (bytesWritten === 0) throw new Error(`writing ${tmp}: no progress`);
          off += bytesWritten;
          pos += bytesWritten;
        }
      }
    };
    const setOwnerAndMode = async () => {
      if (opts.uid !== undefined && opts.gid !== undefined && (opts.uid !== process.getuid?.() || opts.gid !== process.getgid?.())) {
        // Only root (or the owner, for its own groups) may chown; otherwise keep ours.
        await fh.chown(opts.uid, opts.gid).catch(ignoreCode('EPERM', 'EINVAL'));
      }
      await fh.chmod(mode).catch(ignoreCode('EPERM')); // open() mode was narrowed by the umask
    };
    // Both on the same descriptor, independent of each other: side by side in the thread pool.
    const owner = setOwnerAndMode();
    owner.catch(() => undefined);
    await writeAll();
    await owner;
    const synced = fh.sync();
    try {
      hooks.whileSyncing?.();
    } finally {
      await synced;
    }
    await fh.close();
    await hooks.beforeRename?.();
    await rename(tmp, target);
  } catch (err) {
    await fh.close().catch(() => undefined);
    await rm(tmp, { force: true }).catch(() => undefined);
    throw err;
  }
  await syncDir(dir);
}

/** The temp file names writeFileAtomic makes: `.<name>.<pid>.<12 hex>.tmp`. */
const TEMP_RE = /^\..+\.(\d+)\.[0-9a-f]{12}\.tmp$/;

/**
 * Removes the temp files a writer killed mid-write left in `dir` (those of processes no longer running); returns
 * their names. Never a file of a live process: another gateway may be writing.
 */
export async function removeStaleTemps(dir: string): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const m = TEMP_RE.exec(name);
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || processAlive(pid)) continue;
    await rm(path.join(dir, name), { force: true }).catch(() => undefined);
    removed.push(name);
  }
  return removed;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** fsync a directory; best effort (not every platform lets a directory be opened for sync). */
export async function syncDir(dir: string): Promise<void> {
  try {
    const fh = await open(dir, 'r');
    try {
      await fh.sync();
    } finally {
      fh.close().catch(() => undefined); // nothing waits for the close
    }
  } catch {
    // ignore: the data itself is already synced
  }
}

function ignoreCode(...codes: string[]) {
  return (err: unknown) => {
    if (!codes.includes((err as NodeJS.ErrnoException)?.code ?? '')) throw err;
  };
}
