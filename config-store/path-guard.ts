/**
 * Path rules: the store addresses files by plain name only, and include-following never leaves
 * the config directory (lexically, and again after resolving symlinks).
 */
import { realpath } from 'node:fs/promises';
import path from 'node:path';
import { badConfig } from './errors.ts';

/** A file name with no directory part: no '/', '\', NUL, '..', not hidden, not absolute. */
export function assertPlainFileName(name: unknown, what = 'file name'): asserts name is string {
  if (typeof name !== 'string' || name === '') throw badConfig(`${what} must be a non-empty string`);
  const shown = JSON.stringify(name.length > 80 ? `${name.slice(0, 80)}...` : name);
  if (name.includes('\0')) throw badConfig(`${what} ${shown} must not contain NUL`);
  if (name.includes('/') || name.includes('\\')) throw badConfig(`${what} ${shown} must be a plain name without '/' or '\\'`);
  if (name === '.' || name === '..' || name.includes('..')) throw badConfig(`${what} ${shown} must not contain '..'`);
  // Also keeps our own temp files (".name.xxxx.tmp") out of reach.
  if (name.startsWith('.')) throw badConfig(`${what} ${shown} must not start with '.'`);
  if (path.isAbsolute(name) || /^[A-Za-z]:/.test(name)) throw badConfig(`${what} ${shown} must not be an absolute path`);
  if (Buffer.byteLength(name) > 255) throw badConfig(`${what} ${shown} is longer than 255 bytes`);
}

/** True when `p` is strictly below `dir` (both absolute). */
export function isInside(dir: string, p: string): boolean {
  const rel = path.relative(dir, p);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

/** Like isInside, after following symlinks on both sides; false when `p` does not exist. */
export async function isReallyInside(dir: string, p: string): Promise<boolean> {
  try {
    const [d, r] = await Promise.all([realpath(dir), realpath(p)]);
    return isInside(d, r);
  } catch {
    return false;
  }
}

export function hasGlob(s: string): boolean {
  return /[*?]/.test(s);
}

/** `*` and `?` within one path segment; like glob(3), they do not match a leading '.'. */
export function globToRegExp(pattern: string): RegExp {
  let re = '';
  for (const ch of pattern) {
    if (ch === '*') re += '[^/]*';
    else if (ch === '?') re += '[^/]';
    else re += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  const dotOk = pattern.startsWith('.');
  return new RegExp(`^${dotOk ? '' : '(?!\\.)'}${re}$`, 'u');
}
