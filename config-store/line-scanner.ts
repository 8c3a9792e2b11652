/**
 * Comment scanning of one physical line, a faithful copy of the loop in Asterisk's
 * main/config.c `config_text_file_load`:
 *   - `\;` is a literal `;` (the backslash is dropped), checked first, also inside block comments;
 *   - `;--` opens a (nestable) block comment unless a 4th `-` follows (`;---` is a plain comment);
 *   - `--;` closes one level (its `--` must lie after the last point scanning resumed from);
 *   - any other `;` outside a block comment ends the code: the rest of the line is a comment.
 * One deliberate difference: Asterisk also "closes" a `--;` met outside any block comment, which
 * drives its depth to -1 and silently drops the rest of the file. We treat it as a plain `;`
 * comment and report it (`strayClose`), so validation can refuse such text.
 *
 * The parse path runs this for every line of 100k-line files, so it allocates nothing but the
 * code string; the segment list is only built for the few lines an edit touches.
 */

export interface Segment {
  kind: 'code' | 'comment';
  /** Offsets into the raw line (end exclusive). */
  start: number;
  end: number;
}

export interface ScanResult {
  /** What Asterisk processes: code pieces joined, `\;` unescaped. Not stripped. */
  code: string;
  /** Block-comment nesting depth at the end of the line. */
  depthOut: number;
  /** A `--;` outside any block comment was seen. */
  strayClose: boolean;
  /** Offset of the first comment that follows non-blank code, or -1. */
  commentStart: number;
}

export interface ScannedLine extends ScanResult {
  segments: Segment[];
}

const DASH = 45; // -
const BACKSLASH = 92;

/** Scans `raw` (one line, no EOL) entered at block-comment depth `depthIn`, from offset `from` (1 skips a BOM). */
export function scanLine(raw: string, depthIn: number, from = 0): ScannedLine {
  const segments: Segment[] = [];
  const r = scanCore(raw, depthIn, from, segments, { code: '', depthOut: 0, strayClose: false, commentStart: -1 });
  return { ...r, segments };
}

/** Same scan without the segment list, filling `out` (reused by the caller). */
export function scanCode(raw: string, depthIn: number, from: number, out: ScanResult): ScanResult {
  return scanCore(raw, depthIn, from, null, out);
}

function scanCore(raw: string, depthIn: number, from: number, segs: Segment[] | null, out: ScanResult): ScanResult {
  out.strayClose = false;
  out.commentStart = -1;
  // Fast path: most lines hold no `;` at all.
  if (raw.indexOf(';', from) === -1) {
    out.code = depthIn > 0 ? '' : from === 0 ? raw : raw.slice(from);
    out.depthOut = depthIn;
    if (segs && raw.length > from) segs.push({ kind: depthIn > 0 ? 'comment' : 'code', start: from, end: raw.length });
    return out;
  }
  let depth = depthIn;
  let code = '';
  let segStart = from;
  let pieceStart = from; // start of the not-yet-copied code text (only meaningful at depth 0)
  let searchFrom = from; // Asterisk's `new_buf`
  let contentSeen = false;
  let codeEnded = false;
  for (;;) {
    const i = raw.indexOf(';', searchFrom);
    if (i === -1) break;
    if (i > searchFrom && raw.charCodeAt(i - 1) === BACKSLASH) {
      // Escaped: drop the backslash from the code text, keep the `;`.
      if (depth === 0) {
        code += raw.slice(pieceStart, i - 1);
        pieceStart = i;
      }
      searchFrom = i + 1;
      continue;
    }
    if (raw.charCodeAt(i + 1) === DASH && raw.charCodeAt(i + 2) === DASH && raw.charCodeAt(i + 3) !== DASH) {
      if (depth === 0) {
        code += raw.slice(pieceStart, i);
        if (!contentSeen) contentSeen = !blank(raw, segStart, i);
        if (contentSeen && out.commentStart < 0) out.commentStart = i;
        if (segs && i > segStart) segs.push({ kind: 'code', start: segStart, end: i });
        segStart = i;
      }
      depth++;
      searchFrom = i + 3;
      continue;
    }
    if (i >= searchFrom + 2 && raw.charCodeAt(i - 1) === DASH && raw.charCodeAt(i - 2) === DASH) {
      if (depth > 0) {
        depth--;
        searchFrom = i + 1;
        if (depth === 0) {
          if (segs) segs.push({ kind: 'comment', start: segStart, end: i + 1 });
          segStart = i + 1;
          pieceStart = i + 1;
        }
        continue;
      }
      out.strayClose = true; // see the header comment: handled as a plain comment
    }
    if (depth === 0) {
      code += raw.slice(pieceStart, i);
      if (!contentSeen) contentSeen = !blank(raw, segStart, i);
      if (contentSeen && out.commentStart < 0) out.commentStart = i;
      if (segs && i > segStart) segs.push({ kind: 'code', start: segStart, end: i });
      segStart = i;
      codeEnded = true;
      break;
    }
    searchFrom = i + 1;
  }
  if (depth === 0 && !codeEnded) {
    code += raw.slice(pieceStart);
    if (segs && raw.length > segStart) segs.push({ kind: 'code', start: segStart, end: raw.length });
  } else if (segs && raw.length > segStart) {
    segs.push({ kind: 'comment', start: segStart, end: raw.length });
  }
  out.code = code;
  out.depthOut = depth;
  return out;
}

function blank(s: string, a: number, b: number): boolean {
  for (let i = a; i < b; i++) if (!isAsciiSpace(s.charCodeAt(i))) return false;
  return true;
}

/** C isspace(): what Asterisk's ast_strip removes (not JS trim, which also eats NBSP and BOM). */
export function isAsciiSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

export function stripAscii(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && isAsciiSpace(s.charCodeAt(a))) a++;
  while (b > a && isAsciiSpace(s.charCodeAt(b - 1))) b--;
  return a === 0 && b === s.length ? s : s.slice(a, b);
}

export function isBlankText(s: string, from = 0): boolean {
  return blank(s, from, s.length);
}
