/**
 * The lazy form of a ConfigDocument, for ConfigFileStore.update on big files (100k-line
 * dialplans): the text stays one string, and a single pass records where each line starts, its
 * block-comment depth at the end, and fully parses only the lines that matter to the whole file
 * ("key lines": section headers, directives, lines with an error). Any other line is parsed
 * when asked for (`lineAt`), and an edit splices the text (`splice`) instead of rebuilding it.
 *
 * The pass classifies a line without the comment scanner when that cannot change the answer: a
 * line without `--` can neither open nor close a block comment (`;--`, `--;`), so it keeps the
 * depth, cannot hold a stray `--;`, and
 *   - inside a block comment it is all comment;
 *   - at depth 0 its first non-blank character decides what it can be: `[` (header), `#`
 *     (directive) and `\` (escape, may be an error) get a full parse; anything else (`;` included)
 *     is a comment, an entry or other text, never an error.
 * Everything else (a line with `--`, line 1 with its possible BOM, lines long enough to break
 * Asterisk's 8190-byte limit) gets the full parse.
 * A `[header]` inside a block comment is therefore never taken for a section: lines that could
 * open or close one always go through the scanner, and the depth is carried line by line.
 */
import { MAX_LINE_BYTES, parseLine, type ConfigLine, type Eol } from './line-parser.ts';
import { isAsciiSpace } from './line-scanner.ts';

const LONG_LINE = MAX_LINE_BYTES / 3; // parseLine's own threshold for checking the byte length

export function isKeyLine(l: ConfigLine): boolean {
  return l.kind === 'section' || l.kind === 'directive' || l.problem?.severity === 'error';
}

export class LazyLines {
  text: string;
  /** Number of physical lines. */
  count: number;
  /** Offset of each line's first character; `starts[count]` is the text length. Room for more lines at the end. */
  starts: Int32Array;
  /** Block-comment depth at the end of each line (entries from `count` on are spare room). */
  depthOut: Int32Array;
  crlf: number;
  lf: number;
  /** Key lines (headers, directives, lines with an error), by ascending index. */
  keyIdx: number[];
  keyLine: ConfigLine[];
  /** Chars at the start / end of the text first given that no splice has touched yet (see unchangedEnds). */
  private keepPrefix: number;
  private keepSuffix: number;
  readonly originalLength: number;
  /** Other lines parsed on demand (key lines are found through keyIdx). */
  private cache = new Map<number, ConfigLine>();
  /** Number of splices so far, and the text the last one put in. */
  private splices = 0;
  private lastMid = '';

  constructor(text: string) {
    this.text = text;
    this.originalLength = text.length;
    this.keepPrefix = text.length;
    this.keepSuffix = text.length;
    const n = text.length;
    let cap = (n >> 4) + 64;
    let starts = new Int32Array(cap + 1);
    let depth = new Int32Array(cap); // zero-filled: only lines ending inside a block comment are written
    // Lines that need the full parse, by index; those with `--` are parsed in the loop (they can
    // move the depth the next lines are read at), the others after it, so the loop stays small.
    const cand: number[] = [];
    const candLine: (ConfigLine | undefined)[] = [];
    let count = 0;
    let d = 0;
    let crlf = 0;
    let lf = 0;
    let dash = -2; // next '--' at or after the line start (-1: none left; -2: not looked for yet)
    let pos = 0;
    while (pos < n) {
      if (count === cap) {
        cap *= 2;
        const s2 = new Int32Array(cap + 1);
        s2.set(starts);
        starts = s2;
        const d2 = new Int32Array(cap);
        d2.set(depth);
        depth = d2;
      }
      let end = text.indexOf('\n', pos);
      const next = end === -1 ? n : end + 1;
      if (end === -1) end = n;
      else if (end > pos && text.charCodeAt(end - 1) === 13) {
        end--;
        crlf++;
      } else lf++;
      starts[count] = pos;
      if (dash !== -1 && dash < pos) dash = text.indexOf('--', pos);
      if (dash !== -1 && dash < end) {
        const line = parseLine(text.slice(pos, end), next === end ? '' : next - end === 2 ? '\r\n' : '\n', d, count === 0);
        d = line.depthOut;
        cand.push(count);
        candLine.push(line);
      } else if (count === 0 || end - pos > LONG_LINE) {
        cand.push(count);
        candLine.push(undefined);
      } else if (d === 0) {
        let i = pos;
        let c = text.charCodeAt(i);
        while (isAsciiSpace(c) && ++i < end) c = text.charCodeAt(i);
        if (i < end && (c === 91 /* [ */ || c === 35 /* # */ || c === 92) /* \ */) {
          cand.push(count);
          candLine.push(undefined);
        }
      }
      if (d !== 0) depth[count] = d;
      count++;
      pos = next;
    }
    starts[count] = n;
    this.count = count;
    this.starts = starts;
    this.depthOut = depth;
    const keyIdx: number[] = [];
    const keyLine: ConfigLine[] = [];
    for (let k = 0; k < cand.length; k++) {
      const i = cand[k]!;
      const line = candLine[k] ?? this.parseAt(i);
      if (isKeyLine(line)) {
        keyIdx.push(i);
        keyLine.push(line);
      }
    }
    this.crlf = crlf;
    this.lf = lf;
    this.keyIdx = keyIdx;
    this.keyLine = keyLine;
  }

  /** Lengths of the head and tail of the first text that no splice has touched (before any: all head). */
  unchangedEnds(): { prefix: number; suffix: number } {
    return this.splices === 0 ? { prefix: this.originalLength, suffix: 0 } : { prefix: this.keepPrefix, suffix: this.keepSuffix };
  }

  /**
   * The text between the unchanged head (`keepPrefix`) and tail (`keepSuffix`). After a single
   * splice that is what it put in, so the edited text need not be flattened to get it.
   */
  changedMiddle(): string {
    if (this.splices === 0) return '';
    if (this.splices === 1) return this.lastMid;
    return this.text.slice(this.keepPrefix, this.text.length - this.keepSuffix);
  }

  /** Depth at the start of line `i`. */
  depthIn(i: number): number {
    return i > 0 ? this.depthOut[i - 1]! : 0;
  }

  lineAt(i: number): ConfigLine {
    let l = this.cache.get(i);
    if (!l) {
      const k = lowerBound(this.keyIdx, i);
      if (this.keyIdx[k] === i) return this.keyLine[k]!;
      l = this.parseAt(i);
      this.cache.set(i, l);
    }
    return l;
  }

  private parseAt(i: number): ConfigLine {
    if (!(i >= 0 && i < this.count)) throw new RangeError(`line index ${i} out of range`);
    const [rawEnd, eol] = this.rawEnd(i);
    return parseLine(this.text.slice(this.starts[i]!, rawEnd), eol, this.depthIn(i), i === 0);
  }

  private rawEnd(i: number): [number, Eol] {
    const a = this.starts[i]!;
    const e = this.starts[i + 1]!;
    const t = this.text;
    if (e > a && t.charCodeAt(e - 1) === 10) {
      return e - 1 > a && t.charCodeAt(e - 2) === 13 ? [e - 2, '\r\n'] : [e - 1, '\n'];
    }
    return [e, ''];
  }

  /** 0-based indexes of header lines. */
  headerLines(): number[] {
    const out: number[] = [];
    for (let k = 0; k < this.keyIdx.length; k++) if (this.keyLine[k]!.kind === 'section') out.push(this.keyIdx[k]!);
    return out;
  }

  /**
   * Replace lines [start, end) by `parsed` (already parsed at their new place, with the depth
   * at `end` unchanged, as ConfigDocument.replaceRange checks).
   */
  splice(start: number, end: number, parsed: ConfigLine[]): void {
    const { starts, count } = this;
    const a = starts[start]!;
    const b = starts[end]!;
    for (let i = start; i < end; i++) {
      const eol = this.rawEnd(i)[1];
      if (eol === '\r\n') this.crlf--;
      else if (eol === '\n') this.lf--;
    }
    let mid = '';
    for (const l of parsed) {
      mid += l.raw + l.eol;
      if (l.eol === '\r\n') this.crlf++;
      else if (l.eol === '\n') this.lf++;
    }
    const oldLen = this.text.length;
    this.text = this.text.slice(0, a) + mid + this.text.slice(b);
    if (a < this.keepPrefix) this.keepPrefix = a;
    if (oldLen - b < this.keepSuffix) this.keepSuffix = oldLen - b;
    this.splices++;
    this.lastMid = mid;

    const added = parsed.length;
    const lineDelta = added - (end - start);
    const charDelta = mid.length - (b - a);
    const n2 = count + lineDelta;
    // In place: the tail moves (memmove), the new lines are written, the tail's offsets shift.
    if (n2 + 1 > this.starts.length) {
      const cap = Math.max(n2 + 1, this.starts.length * 2);
      const s2 = new Int32Array(cap + 1);
      s2.set(this.starts.subarray(0, count + 1));
      this.starts = s2;
      const d2 = new Int32Array(cap);
      d2.set(this.depthOut.subarray(0, count));
      this.depthOut = d2;
    }
    const st = this.starts;
    const depth = this.depthOut;
    st.copyWithin(start + added, end, count + 1);
    depth.copyWithin(start + added, end, count);
    let off = a;
    for (let j = 0; j < added; j++) {
      st[start + j] = off;
      depth[start + j] = parsed[j]!.depthOut;
      off += parsed[j]!.raw.length + parsed[j]!.eol.length;
    }
    if (charDelta !== 0) for (let i = start + added; i <= n2; i++) st[i] = st[i]! + charDelta;
    this.count = n2;

    const lo = lowerBound(this.keyIdx, start);
    const hi = lowerBound(this.keyIdx, end);
    const idx = this.keyIdx.slice(0, lo);
    const lines = this.keyLine.slice(0, lo);
    for (let j = 0; j < added; j++) {
      if (isKeyLine(parsed[j]!)) {
        idx.push(start + j);
        lines.push(parsed[j]!);
      }
    }
    for (let k = hi; k < this.keyIdx.length; k++) {
      idx.push(this.keyIdx[k]! + lineDelta);
      lines.push(this.keyLine[k]!);
    }
    this.keyIdx = idx;
    this.keyLine = lines;

    const cache = new Map<number, ConfigLine>();
    for (const [i, l] of this.cache) {
      if (i < start) cache.set(i, l);
      else if (i >= end) cache.set(i + lineDelta, l);
    }
    for (let j = 0; j < added; j++) if (!isKeyLine(parsed[j]!)) cache.set(start + j, parsed[j]!);
    this.cache = cache;

    // A line that moved up to line 1 is read with the BOM rule of line 1 from now on.
    if (start === 0 && added === 0 && n2 > 0) {
      cache.delete(0);
      if (this.keyIdx[0] === 0) {
        this.keyIdx.shift();
        this.keyLine.shift();
      }
      const first = this.parseAt(0);
      if (isKeyLine(first)) {
        this.keyIdx.unshift(0);
        this.keyLine.unshift(first);
      } else cache.set(0, first);
    }
  }
}

/** First k with a[k] >= x (a ascending). */
export function lowerBound(a: readonly number[], x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const m = (lo + hi) >> 1;
    if (a[m]! < x) lo = m + 1;
    else hi = m;
  }
  return lo;
}
