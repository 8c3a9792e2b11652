/**
 * Crash-safe replacement of a file: write a temp file in the same directory (so rename stays on
 * one filesystem), give it the old file's owner and mode, fsync it, rename it over the target,
 * then fsync the directory so the rename itself survives a power cut.
 */
import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import path from 'node:path';

export interface AtomicWriteOptions {
  mode: number;
  uid?: number;
  gid?: number;
}

export async function writeFileAtomic(target: string, bytes: Uint8Array, opts: AtomicWriteOptions): Promise<void> {
  const dir = path.dirname(target);
  // A dot name with a .tmp tail: never matched by Asterisk's `#include *.conf` globs.
  const tmp = path.join(dir, `.${path.basename(target)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const mode = opts.mode & 0o7777;
  const fh = await open(tmp, 'wx', mode);
  try {
    await fh.writeFile(bytes);
    if (opts.uid !== undefined && opts.gid !== undefined) {
      // Only root (or the owner, for its own groups) may chown; otherwise keep ours.
      await fh.chown(opts.uid, opts.gid).catch(ignoreCode('EPERM', 'EINVAL'));
    }
    await fh.chmod(mode).catch(ignoreCode('EPERM')); // open() mode was narrowed by the umask
    await fh.sync();
    await fh.close();
    await rename(tmp, target);
  } catch (err) {
    await fh.close().catch(() => undefined);
    await rm(tmp, { force: true }).catch(() => undefined);
    throw err;
  }
  await syncDir(dir);
}

/** fsync a directory; best effort (not every platform lets a directory be opened for sync). */
export async function syncDir(dir: string): Promise<void> {
  try {
    const fh = await open(dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
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
