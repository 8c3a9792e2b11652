/**
 * Classifies one physical line the way main/config.c `process_text_line` reads it. The raw text
 * is kept untouched; the fields here are what Asterisk would see.
 */
import { isAsciiSpace, isBlankText, scanCode, stripAscii, type ScanResult } from './line-scanner.ts';

export type LineKind = 'blank' | 'comment' | 'section' | 'entry' | 'directive' | 'other';
export type EntryOp = '=' | '=>' | '+=';
export type Eol = '' | '\n' | '\r\n';

export interface SectionHeader {
  name: string;
  isTemplate: boolean;
  isAppend: boolean;
  /** `[name](+filter)`: the filter text after `+` ('' for a bare `+`). */
  appendFilter: string | null;
  templates: string[];
}

export interface EntryInfo {
  key: string;
  op: EntryOp;
  /** Comment stripped, `\;` unescaped, ASCII-whitespace trimmed. */
  value: string;
  /** Raw text from the first comment on (without EOL), or null when the line has no comment. */
  comment: string | null;
}

export interface DirectiveInfo {
  /** Lower-cased, without `#`: include, tryinclude, exec, or an unknown word. */
  name: string;
  /** Argument with surrounding `"..."` / `<...>` removed; null when missing. */
  target: string | null;
}

export interface LineProblem {
  severity: 'error' | 'warning';
  message: string;
}

export interface ConfigLine {
  raw: string;
  eol: Eol;
  kind: LineKind;
  depthIn: number;
  depthOut: number;
  header: SectionHeader | undefined;
  entry: EntryInfo | undefined;
  directive: DirectiveInfo | undefined;
  problem: LineProblem | undefined;
}

/** Asterisk reads lines into `char buf[8192]`; longer ones are skipped with a warning. */
export const MAX_LINE_BYTES = 8190;

const KNOWN_DIRECTIVES = new Set(['include', 'tryinclude', 'exec']);

// Reused for every line: the parse path of a 100k-line file should allocate only what it keeps.
const scratch: ScanResult = { code: '', depthOut: 0, strayClose: false, commentStart: -1 };

/** `first` marks line 1, where a UTF-8 BOM is ignored. */
export function parseLine(raw: string, eol: Eol, depthIn: number, first: boolean): ConfigLine {
  const from = first && raw.charCodeAt(0) === 0xfeff ? 1 : 0;
  const scan = scanCode(raw, depthIn, from, scratch);
  // One object shape for every line keeps property access monomorphic.
  const line: ConfigLine = {
    raw,
    eol,
    kind: 'other',
    depthIn,
    depthOut: scan.depthOut,
    header: undefined,
    entry: undefined,
    directive: undefined,
    problem: undefined,
  };
  const code = scan.code;
  let a = 0;
  let b = code.length;
  while (a < b && isAsciiSpace(code.charCodeAt(a))) a++;
  while (b > a && isAsciiSpace(code.charCodeAt(b - 1))) b--;
  if (a === b) {
    line.kind = depthIn === 0 && isBlankText(raw, from) ? 'blank' : 'comment';
  } else {
    const c0 = code.charCodeAt(a);
    if (c0 === 91 /* [ */) parseHeader(code.slice(a, b), line);
    else if (c0 === 35 /* # */) parseDirective(code.slice(a, b), line);
    else parseEntry(code, a, b, raw, scan.commentStart, line);
  }
  if (scan.strayClose && !line.problem) {
    line.problem = { severity: 'error', message: "'--;' outside a block comment (Asterisk would ignore the rest of the file)" };
  }
  if (raw.length > MAX_LINE_BYTES / 3 && Buffer.byteLength(raw) > MAX_LINE_BYTES && !line.problem) {
    line.problem = { severity: 'error', message: `line is longer than ${MAX_LINE_BYTES} bytes; Asterisk skips it` };
  }
  return line;
}

function parseHeader(t: string, line: ConfigLine): void {
  const close = t.indexOf(']');
  if (close === -1) {
    line.problem = { severity: 'error', message: "section header has no closing ']'" };
    return;
  }
  line.kind = 'section';
  const header: SectionHeader = { name: t.slice(1, close), isTemplate: false, isAppend: false, appendFilter: null, templates: [] };
  line.header = header;
  // Options count only when '(' follows ']' directly; anything else after ']' is ignored.
  if (t.charCodeAt(close + 1) !== 40 /* ( */) return;
  const end = t.indexOf(')', close + 2);
  if (end === -1) {
    line.problem = { severity: 'error', message: "section options have no closing ')'" };
    return;
  }
  // Tokens are not trimmed: Asterisk compares them as written.
  for (const tok of t.slice(close + 2, end).split(',')) {
    if (tok === '!') header.isTemplate = true;
    else if (tok.charCodeAt(0) === 43 /* + */) {
      header.isAppend = true;
      header.appendFilter = tok.slice(1);
    } else header.templates.push(tok);
  }
}

function parseDirective(t: string, line: ConfigLine): void {
  line.kind = 'directive';
  let i = 1;
  while (i < t.length && t.charCodeAt(i) > 32) i++;
  const name = t.slice(1, i).toLowerCase();
  let target: string | null = stripAscii(t.slice(i));
  if (target === '') target = null;
  if (target !== null) {
    const q = target[0];
    const closeQ = q === '<' ? '>' : q;
    if ((q === '"' || q === '<') && target[target.length - 1] === closeQ) target = target.slice(1, target.length - 1 || 1);
  }
  line.directive = { name, target };
  if (!KNOWN_DIRECTIVES.has(name)) line.problem = { severity: 'warning', message: `unknown directive '#${name}' (ignored by Asterisk)` };
  else if (target === null) line.problem = { severity: 'warning', message: `directive '#${name}' needs an argument` };
}

/** `code[a, b)` is the stripped text; the name and value are cut out of it by index. */
function parseEntry(code: string, a: number, b: number, raw: string, commentStart: number, line: ConfigLine): void {
  const escaped = code.charCodeAt(a) === 92; /* \ escapes the first character of the name */
  if (escaped && (b - a < 2 || code.charCodeAt(a + 1) < 33)) {
    line.problem = { severity: 'error', message: 'invalid escape at the start of the line' };
    return;
  }
  const keyStart = escaped ? a + 1 : a;
  const eq = code.indexOf('=', keyStart + (escaped ? 1 : 0));
  if (eq === -1 || eq >= b) {
    line.problem = { severity: 'warning', message: "no '=' in line (ignored by Asterisk)" };
    return;
  }
  let op: EntryOp = '=';
  let keyEnd = eq;
  let valueStart = eq + 1;
  if (eq > keyStart + (escaped ? 1 : 0) && code.charCodeAt(eq - 1) === 43 /* + */) {
    op = '+=';
    keyEnd = eq - 1;
  } else if (eq + 1 < b && code.charCodeAt(eq + 1) === 62 /* > */) {
    op = '=>';
    valueStart = eq + 2;
  }
  while (keyEnd > keyStart && isAsciiSpace(code.charCodeAt(keyEnd - 1))) keyEnd--;
  if (keyEnd === keyStart) {
    line.problem = { severity: 'warning', message: 'no variable name before the operator (ignored by Asterisk)' };
    return;
  }
  while (valueStart < b && isAsciiSpace(code.charCodeAt(valueStart))) valueStart++;
  line.kind = 'entry';
  line.entry = {
    key: code.slice(keyStart, keyEnd),
    op,
    value: code.slice(valueStart, b),
    // The trailing comment: from the first comment after the code that holds the name.
    comment: commentStart < 0 ? null : raw.slice(commentStart),
  };
}
