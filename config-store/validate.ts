/**
 * Checks on names, keys and values before any byte is written. Each throws ConfigError 400.
 * The rules follow what main/config.c would read back: a value that does not survive a
 * write/read round trip is refused rather than silently changed.
 */
import { badConfig } from './errors.ts';
import { isAsciiSpace } from './line-scanner.ts';
import type { EntryOp } from './line-parser.ts';

/** Asterisk keeps category names in `char name[80]`. */
export const MAX_SECTION_NAME_BYTES = 79;

const OPS: readonly string[] = ['=', '=>', '+='];

function hasLineBreakOrNul(s: string): boolean {
  return /[\r\n\0]/.test(s);
}

function show(s: string): string {
  return JSON.stringify(s.length > 60 ? `${s.slice(0, 60)}...` : s);
}

export function validateName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || name === '') throw badConfig('section name must be a non-empty string');
  if (hasLineBreakOrNul(name)) throw badConfig(`section name ${show(name)} must not contain CR, LF or NUL`);
  if (/[[\]]/.test(name)) throw badConfig(`section name ${show(name)} must not contain '[' or ']'`);
  // A ';' would start a comment inside the header and leave it unclosed.
  if (name.includes(';')) throw badConfig(`section name ${show(name)} must not contain ';'`);
  if (Buffer.byteLength(name) > MAX_SECTION_NAME_BYTES) {
    throw badConfig(`section name ${show(name)} is longer than ${MAX_SECTION_NAME_BYTES} bytes`);
  }
}

/**
 * The rule for a section created over REST (POST on a section route): on top of validateName, the
 * name must be addressable as one URL path segment afterwards, so no '/', '\\', '..', no control
 * characters (C0 and DEL), no leading or trailing whitespace, at most MAX_SECTION_NAME_BYTES bytes.
 * Hand-written sections with other names stay readable; only creating one is refused.
 * Returns what is wrong, or null.
 */
export function restNameProblem(name: string): string | null {
  try {
    validateName(name);
  } catch (e) {
    return (e as Error).message;
  }
  if (/[\u0000-\u001f\u007f]/.test(name)) return `section name ${show(name)} must not contain control characters`;
  if (name.includes('/') || name.includes('\\'))
    return `section name ${show(name)} must not contain '/' or '\\' (it could not be addressed by its REST path)`;
  if (name.includes('..') || name === '.')
    return `section name ${show(name)} must not be '.' or contain '..' (it could not be addressed by its REST path)`;
  if (name.trim() !== name) return `section name ${show(name)} must not start or end with whitespace`;
  return null;
}

/** A name listed in `[x](t1,t2)`: also no ',', '(' or ')', and not an option token. */
export function validateTemplateName(name: unknown): asserts name is string {
  validateName(name);
  if (/[,()]/.test(name)) throw badConfig(`template name ${show(name)} must not contain ',', '(' or ')'`);
  if (name === '!' || name.startsWith('+')) throw badConfig(`template name ${show(name)} is an option token`);
}

export function validateKey(key: unknown): asserts key is string {
  if (typeof key !== 'string' || key === '') throw badConfig('key must be a non-empty string');
  if (hasLineBreakOrNul(key)) throw badConfig(`key ${show(key)} must not contain CR, LF or NUL`);
  if (isAsciiSpace(key.charCodeAt(0)) || isAsciiSpace(key.charCodeAt(key.length - 1))) {
    throw badConfig(`key ${show(key)} must not start or end with whitespace`);
  }
  if (key.includes('=')) throw badConfig(`key ${show(key)} must not contain '='`);
  if (key.includes(';')) throw badConfig(`key ${show(key)} must not contain ';'`);
  // `key+ = v` would read back as the append operator.
  if (key.endsWith('+')) throw badConfig(`key ${show(key)} must not end with '+'`);
}

export function validateValue(value: unknown): asserts value is string {
  if (typeof value !== 'string') throw badConfig('value must be a string');
  if (hasLineBreakOrNul(value)) throw badConfig(`value ${show(value)} must not contain CR, LF or NUL`);
}

export function validateOp(op: unknown): asserts op is EntryOp | undefined {
  if (op !== undefined && !OPS.includes(op as string)) throw badConfig(`operator ${show(String(op))} must be one of =, =>, +=`);
}

/**
 * A name starting with '[', '#' or '\\' would read as a header, a directive or an escape; config.c
 * lets a leading backslash escape the first character of a name, so that is how it is written.
 */
export function escapeKey(key: string): string {
  const c = key.charCodeAt(0);
  return c === 91 || c === 35 || c === 92 ? `\\${key}` : key;
}

/**
 * On disk a `;` in a value is written `\;`; nothing else is escaped (config.c removes only the
 * backslash in front of a `;`, so a stored `\;` comes back from `\\;`).
 */
export function escapeValue(value: string): string {
  return value.includes(';') ? value.replace(/;/g, '\\;') : value;
}

/** Asterisk strips both ends of a value with isspace(); we store what it will read back. */
export function normaliseValue(value: string): string {
  let a = 0;
  let b = value.length;
  while (a < b && isAsciiSpace(value.charCodeAt(a))) a++;
  while (b > a && isAsciiSpace(value.charCodeAt(b - 1))) b--;
  return value.slice(a, b);
}
