/**
 * Byte-level anatomy of an entry line, so an edit can swap only the value and keep the
 * indentation, the spacing around the operator and the trailing comment exactly as written.
 */
import { isAsciiSpace, scanLine, type Segment } from './line-scanner.ts';
import type { ConfigLine, EntryOp } from './line-parser.ts';
import { escapeKey, escapeValue } from './validate.ts';

interface EntryLayout {
  /** Start of the first code segment holding text (after a BOM or a closing block comment). */
  codeStart: number;
  indentEnd: number;
  /** End of the first code segment (a comment, or the end of the line, follows). */
  codeEnd: number;
  /** False when the operator is not in the first code segment (`a ;-- x --; = 1`). */
  opInFirst: boolean;
  keyEnd: number;
  opStart: number;
  opEnd: number;
  valueStart: number;
  valueEnd: number;
  /** Segments after the first code segment. */
  rest: Segment[];
}

export interface EntryStyle {
  indent: string;
  spaceBefore: string;
  spaceAfter: string;
  /** Column of the operator when the template aligns operators with runs of spaces; else -1. */
  alignColumn: number;
}

export const DEFAULT_STYLE: EntryStyle = { indent: '', spaceBefore: ' ', spaceAfter: ' ', alignColumn: -1 };

function layoutOf(line: ConfigLine, first: boolean): EntryLayout {
  const { raw } = line;
  const from = first && raw.charCodeAt(0) === 0xfeff ? 1 : 0;
  const { segments } = scanLine(raw, line.depthIn, from);
  let k = 0;
  for (; k < segments.length; k++) {
    const s = segments[k]!;
    if (s.kind === 'code' && !isBlank(raw, s.start, s.end)) break;
  }
  const cs = segments[k];
  if (!cs) throw new Error('internal: entry line without code');
  let indentEnd = cs.start;
  while (indentEnd < cs.end && isAsciiSpace(raw.charCodeAt(indentEnd))) indentEnd++;
  const escaped = raw.charCodeAt(indentEnd) === 92;
  const eq = raw.indexOf('=', indentEnd + (escaped ? 2 : 0));
  const layout: EntryLayout = {
    codeStart: cs.start,
    indentEnd,
    codeEnd: cs.end,
    opInFirst: eq !== -1 && eq < cs.end,
    keyEnd: indentEnd,
    opStart: eq,
    opEnd: eq + 1,
    valueStart: cs.end,
    valueEnd: cs.end,
    rest: segments.slice(k + 1),
  };
  if (!layout.opInFirst) return layout;
  const op = line.entry!.op;
  if (op === '+=') layout.opStart = eq - 1;
  else if (op === '=>') layout.opEnd = eq + 2;
  let keyEnd = layout.opStart;
  while (keyEnd > indentEnd && isAsciiSpace(raw.charCodeAt(keyEnd - 1))) keyEnd--;
  let valueStart = layout.opEnd;
  while (valueStart < cs.end && isAsciiSpace(raw.charCodeAt(valueStart))) valueStart++;
  let valueEnd = cs.end;
  while (valueEnd > valueStart && isAsciiSpace(raw.charCodeAt(valueEnd - 1))) valueEnd--;
  layout.keyEnd = keyEnd;
  layout.valueStart = valueStart;
  layout.valueEnd = valueEnd;
  return layout;
}

function isBlank(raw: string, a: number, b: number): boolean {
  for (let i = a; i < b; i++) if (!isAsciiSpace(raw.charCodeAt(i))) return false;
  return true;
}

/** Comment segments (and blank code) after the first code segment; other code is dropped. */
function keptRest(raw: string, rest: Segment[]): string {
  let out = '';
  for (const s of rest) if (s.kind === 'comment' || isBlank(raw, s.start, s.end)) out += raw.slice(s.start, s.end);
  return out;
}

/** The line with a new op/value for the same key: only the value bytes (and op, if asked) change. */
export function rewriteEntry(line: ConfigLine, first: boolean, op: EntryOp, value: string): string {
  const { raw } = line;
  const L = layoutOf(line, first);
  const esc = escapeValue(value);
  if (!L.opInFirst) {
    // Rare: the operator sits after a block comment. Write the entry whole, keep the comments.
    const comments = L.rest.filter((s) => s.kind === 'comment').map((s) => raw.slice(s.start, s.end));
    const head = `${raw.slice(0, L.indentEnd)}${escapeKey(line.entry!.key)} ${op} ${esc}`;
    return comments.length ? `${head} ${comments.join(' ')}` : head;
  }
  let spaceAfter = raw.slice(L.opEnd, L.valueStart);
  let mid = '';
  if (L.valueStart === L.valueEnd && L.valueStart < raw.length && spaceAfter.length > 1) {
    // Old value was empty and a comment follows: put the new value after the first blank.
    mid = spaceAfter.slice(1);
    spaceAfter = spaceAfter.slice(0, 1);
  }
  if (op === '=' && spaceAfter === '' && esc.startsWith('>')) spaceAfter = ' ';
  let after = raw.slice(L.valueEnd, L.codeEnd) + keptRest(raw, L.rest);
  // A value ending in a backslash or '-' must not touch a following ';' (it would read as an escape or '--;').
  if (after.charCodeAt(0) === 59 && /[\\-]$/.test(esc)) after = ` ${after}`;
  return raw.slice(0, L.opStart) + op + spaceAfter + esc + mid + after;
}

/**
 * What is left of an entry line when the entry goes: nothing, unless the line takes part in a
 * block comment; then its comment parts stay so the comment still opens and closes where it did.
 */
export function removeEntryCode(line: ConfigLine, first: boolean): string | null {
  if (line.depthIn === 0 && line.depthOut === 0) return null;
  const from = first && line.raw.charCodeAt(0) === 0xfeff ? 1 : 0;
  const { segments } = scanLine(line.raw, line.depthIn, from);
  return segments
    .filter((s) => s.kind === 'comment')
    .map((s) => line.raw.slice(s.start, s.end))
    .join(' ');
}

/** The spacing habits of an existing entry line, to write new lines that look like their neighbours. */
export function styleOf(line: ConfigLine | undefined, first: boolean): EntryStyle {
  if (line?.kind !== 'entry') return DEFAULT_STYLE;
  const L = layoutOf(line, first);
  if (!L.opInFirst) return DEFAULT_STYLE;
  const { raw } = line;
  const indent = raw.slice(L.codeStart, L.indentEnd);
  const spaceBefore = raw.slice(L.keyEnd, L.opStart);
  const spaceAfter = L.valueStart === L.valueEnd ? (spaceBefore === '' ? '' : ' ') : raw.slice(L.opEnd, L.valueStart);
  const aligned = spaceBefore.length > 1 && /^ +$/.test(spaceBefore);
  return { indent, spaceBefore, spaceAfter, alignColumn: aligned ? L.opStart - L.codeStart : -1 };
}

export function renderEntry(style: EntryStyle, name: string, op: EntryOp, value: string): string {
  const key = escapeKey(name);
  const esc = escapeValue(value);
  const spaceBefore =
    style.alignColumn >= 0 ? ' '.repeat(Math.max(1, style.alignColumn - style.indent.length - key.length)) : style.spaceBefore;
  const spaceAfter = op === '=' && style.spaceAfter === '' && esc.startsWith('>') ? ' ' : style.spaceAfter;
  return style.indent + key + spaceBefore + op + spaceAfter + esc;
}
