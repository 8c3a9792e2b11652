/**
 * A lossless model of one Asterisk config file: every physical line is kept with its own
 * end-of-line, so `toString()` gives back the exact input, and an edit re-renders only the
 * lines it touches.
 */
import { configConflict, configNotFound, ConfigError, type ConfigProblem } from './errors.ts';
import { parseLine, type ConfigLine, type EntryOp, type Eol } from './line-parser.ts';
import {
  addSection,
  deleteSection,
  replaceSectionEntries,
  setSectionObject,
  setValue,
  type AddSectionOptions,
  type EntryInput,
  type SectionSelector,
} from './section-edits.ts';
import { LazyLines, lowerBound } from './lazy-lines.ts';
import { StructureCheck, structuralProblems } from './structure-check.ts';

export interface SectionEntry {
  key: string;
  op: EntryOp;
  value: string;
}

export interface Section {
  name: string;
  /** nth occurrence of this name in the file, 0-based (pjsip.conf repeats names). */
  index: number;
  isTemplate: boolean;
  isAppend: boolean;
  templates: string[];
  entries: SectionEntry[];
  /** 1-based line of the header. */
  startLine: number;
  /** 1-based last line before the next header (or the end of the file). */
  endLine: number;
}

export interface IncludeRef {
  directive: 'include' | 'tryinclude' | 'exec';
  /** The argument, unquoted. */
  target: string;
  /** 1-based line. */
  line: number;
}

export interface ParseOptions {
  /** Throw ConfigError 400 on the first error (as validateText does). */
  strict?: boolean;
}

/** A replacement line for `replaceRange`, with what it must parse to. */
export interface NewLine {
  raw: string;
  eol: Eol;
  /** An entry it must read back as, or null for "must not be an entry"; undefined: no check. */
  expect?: SectionEntry | null;
}

export interface SectionRange {
  /** 0-based index of the header line. */
  header: number;
  /** 0-based index one past the last line of the section. */
  end: number;
}

export function parseConfig(text: string, fileName = '', options: ParseOptions = {}): ConfigDocument {
  const doc = new ConfigDocument(parseLines(text), fileName);
  if (options.strict) doc.assertValid();
  return doc;
}

/**
 * @internal A document that parses only what it is asked for (see lazy-lines.ts): for a store
 * update of one section of a big file. It answers every method exactly as `parseConfig`'s would;
 * the ones that need every line (`lines`, `sections()`, `problems()`, ...) parse the whole text
 * first and from then on it is an ordinary document.
 */
export function parseConfigLazy(text: string, fileName = ''): ConfigDocument {
  const doc = new ConfigDocument([], fileName);
  doc.makeLazy(text);
  return doc;
}

function parseLines(text: string): ConfigLine[] {
  const lines: ConfigLine[] = [];
  let depth = 0;
  let pos = 0;
  const n = text.length;
  while (pos < n) {
    const nl = text.indexOf('\n', pos);
    let raw: string;
    let eol: Eol;
    if (nl === -1) {
      raw = text.slice(pos);
      eol = '';
      pos = n;
    } else {
      const crlf = nl > pos && text.charCodeAt(nl - 1) === 13;
      raw = text.slice(pos, crlf ? nl - 1 : nl);
      eol = crlf ? '\r\n' : '\n';
      pos = nl + 1;
    }
    const line = parseLine(raw, eol, depth, lines.length === 0);
    depth = line.depthOut;
    lines.push(line);
  }
  return lines;
}

export class ConfigDocument {
  private headerIndex: number[] | null = null;
  /** Set while the document is lazy (parseConfigLazy); `lineList` is then unused. */
  private lazy: LazyLines | null = null;

  constructor(
    private lineList: ConfigLine[],
    readonly fileName: string,
  ) {}

  /** The exact text: every line's raw text and its own end-of-line. */
  toString(): string {
    if (this.lazy) return this.lazy.text;
    const parts = new Array<string>(this.lineList.length * 2);
    let k = 0;
    for (const l of this.lineList) {
      parts[k++] = l.raw;
      parts[k++] = l.eol;
    }
    return parts.join('');
  }

  /** Read-only view of the physical lines. */
  get lines(): readonly ConfigLine[] {
    return this.all();
  }

  /** The end-of-line most lines use ('\n' when tied or none). */
  get dominantEol(): '\n' | '\r\n' {
    let crlf = 0;
    let lf = 0;
    if (this.lazy) {
      crlf = this.lazy.crlf;
      lf = this.lazy.lf;
    } else {
      for (const l of this.lineList) {
        if (l.eol === '\r\n') crlf++;
        else if (l.eol === '\n') lf++;
      }
    }
    return crlf > lf ? '\r\n' : '\n';
  }

  sections(): Section[] {
    const out: Section[] = [];
    const seen = new Map<string, number>();
    let cur: Section | null = null;
    const lines = this.all();
    for (let i = 0; i < lines.length; i++) {
      const l = lines[i]!;
      if (l.kind === 'section') {
        if (cur) cur.endLine = i;
        const h = l.header!;
        const index = seen.get(h.name) ?? 0;
        seen.set(h.name, index + 1);
        cur = {
          name: h.name,
          index,
          isTemplate: h.isTemplate,
          isAppend: h.isAppend,
          templates: [...h.templates],
          entries: [],
          startLine: i + 1,
          endLine: lines.length,
        };
        out.push(cur);
      } else if (l.kind === 'entry' && cur) {
        const e = l.entry!;
        cur.entries.push({ key: e.key, op: e.op, value: e.value });
      }
    }
    return out;
  }

  /**
   * One section without building the whole list (cheap on 100k-line files): undefined when no
   * section has that name; ConfigError 409 when the name repeats and no sectionIndex is given.
   */
  section(name: string, options: SectionSelector = {}): Section | undefined {
    if (this.countSections(name) === 0) return undefined;
    const { header, end } = this.locate(name, options.sectionIndex);
    const h = this.lineAt(header).header!;
    let index = 0;
    for (const i of this.headerLines()) {
      if (i === header) break;
      if (this.lineAt(i).header!.name === name) index++;
    }
    const entries: SectionEntry[] = [];
    for (let i = header + 1; i < end; i++) {
      const e = this.lineAt(i).entry;
      if (e) entries.push({ key: e.key, op: e.op, value: e.value });
    }
    return {
      name: h.name,
      index,
      isTemplate: h.isTemplate,
      isAppend: h.isAppend,
      templates: [...h.templates],
      entries,
      startLine: header + 1,
      endLine: end,
    };
  }

  /** `#include`, `#tryinclude` and `#exec` lines, in file order. */
  includes(): IncludeRef[] {
    const out: IncludeRef[] = [];
    this.all().forEach((l, i) => {
      const d = l.directive;
      if (!d || d.target === null) return;
      if (d.name === 'include' || d.name === 'tryinclude' || d.name === 'exec')
        out.push({ directive: d.name, target: d.target, line: i + 1 });
    });
    return out;
  }

  /** Everything Asterisk would warn about or refuse, by line. */
  problems(): ConfigProblem[] {
    const out: ConfigProblem[] = [];
    const lines = this.all();
    lines.forEach((l, i) => {
      if (l.problem) out.push({ line: i + 1, ...l.problem });
    });
    out.push(...structuralProblems(lines));
    return out.sort((a, b) => a.line - b.line);
  }

  /** Throws ConfigError 400 naming the first line Asterisk would refuse. */
  assertValid(): void {
    const errors = this.problems().filter((p) => p.severity === 'error');
    if (errors.length === 0) return;
    const first = errors[0]!;
    const where = this.fileName ? `${this.fileName} line ${first.line}` : `line ${first.line}`;
    const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : '';
    throw new ConfigError(400, `${where}: ${first.message}${more}`, errors);
  }

  // ---- edits (see section-edits.ts) ----

  setValue(section: string, key: string, value: string, options: SectionSelector = {}): void {
    setValue(this, section, key, value, options);
  }

  replaceSectionEntries(section: string, entries: EntryInput[], options: SectionSelector = {}): void {
    replaceSectionEntries(this, section, entries, options);
  }

  setSectionObject(section: string, obj: Record<string, string>, options: SectionSelector = {}): void {
    setSectionObject(this, section, obj, options);
  }

  addSection(name: string, entries: EntryInput[] | Record<string, string> = [], options: AddSectionOptions = {}): void {
    addSection(this, name, entries, options);
  }

  deleteSection(name: string, options: SectionSelector = {}): void {
    deleteSection(this, name, options);
  }

  // ---- internals used by the edit functions and the store ----

  /** @internal Number of physical lines. */
  get lineCount(): number {
    return this.lazy ? this.lazy.count : this.lineList.length;
  }

  /** @internal One line by 0-based index (a lazy document parses just that line). */
  lineAt(i: number): ConfigLine {
    if (this.lazy) return this.lazy.lineAt(i);
    const l = this.lineList[i];
    if (!l) throw new RangeError(`line index ${i} out of range`);
    return l;
  }

  /** @internal Same count as `problems()` of severity error, without parsing every line of a lazy document. */
  errorCount(): number {
    const lazy = this.lazy;
    if (!lazy) return this.problems().filter((p) => p.severity === 'error').length;
    let n = 0;
    for (const l of lazy.keyLine) if (l.problem?.severity === 'error') n++;
    // Structure: every line before the first section (an entry there is an error), then the key
    // lines, which hold every section and directive.
    const check = new StructureCheck();
    let i = 0;
    for (; i < lazy.count && !check.pastFirstSection; i++) check.add(i, lazy.lineAt(i));
    for (let k = lowerBound(lazy.keyIdx, i); k < lazy.keyIdx.length; k++) check.add(lazy.keyIdx[k]!, lazy.keyLine[k]!);
    n += check.out.length;
    if (lazy.count > 0 && lazy.depthOut[lazy.count - 1]! > 0) n++; // a block comment never closed
    return n;
  }

  /** @internal Whether any line is an #include, #tryinclude or #exec (with or without argument). */
  hasIncludingDirective(): boolean {
    const isIncluding = (l: ConfigLine) =>
      !!l.directive && (l.directive.name === 'include' || l.directive.name === 'tryinclude' || l.directive.name === 'exec');
    if (this.lazy) return this.lazy.keyLine.some(isIncluding);
    return this.lineList.some(isIncluding);
  }

  /**
   * @internal For a lazy document: how many characters at the start and at the end of the text
   * it was made from are still the same (no edit reached them). Null for an ordinary document.
   */
  unchangedEnds(): { prefix: number; suffix: number; originalLength: number; middle: () => string } | null {
    const lazy = this.lazy;
    if (!lazy) return null;
    return { ...lazy.unchangedEnds(), originalLength: lazy.originalLength, middle: () => lazy.changedMiddle() };
  }

  /** @internal Turns an empty document into a lazy one over `text` (parseConfigLazy). */
  makeLazy(text: string): void {
    this.lazy = new LazyLines(text);
    this.lineList = [];
    this.headerIndex = null;
  }

  /** @internal 0-based indexes of header lines. */
  headerLines(): number[] {
    if (!this.headerIndex) {
      if (this.lazy) this.headerIndex = this.lazy.headerLines();
      else {
        const idx: number[] = [];
        this.lineList.forEach((l, i) => {
          if (l.kind === 'section') idx.push(i);
        });
        this.headerIndex = idx;
      }
    }
    return this.headerIndex;
  }

  /** How many sections have exactly this name (names compare byte for byte, as the edits do). */
  countSections(name: string): number {
    let n = 0;
    for (const i of this.headerLines()) if (this.lineAt(i).header!.name === name) n++;
    return n;
  }

  /**
   * @internal The one section meant: `sectionIndex` picks among repeated names; without it a
   * repeated name is ambiguous (409) rather than silently the first.
   */
  locate(name: string, sectionIndex?: number): SectionRange {
    const headers = this.headerLines();
    const matches: number[] = [];
    for (let k = 0; k < headers.length; k++) if (this.lineAt(headers[k]!).header!.name === name) matches.push(k);
    let k: number | undefined;
    if (sectionIndex !== undefined) {
      if (!Number.isInteger(sectionIndex) || sectionIndex < 0) throw new ConfigError(400, `sectionIndex must be a non-negative integer`);
      k = matches[sectionIndex];
      if (k === undefined) {
        throw configNotFound(`section [${name}] #${sectionIndex} not found in ${this.label()} (${matches.length} with that name)`);
      }
    } else {
      if (matches.length === 0) throw configNotFound(`section [${name}] not found in ${this.label()}`);
      if (matches.length > 1) {
        throw configConflict(`section [${name}] occurs ${matches.length} times in ${this.label()}; pass sectionIndex`);
      }
      k = matches[0]!;
    }
    const next = headers[k + 1];
    return { header: headers[k]!, end: next ?? this.lineCount };
  }

  /**
   * @internal Replace lines [start, end) by `next`, re-parsing them in place. Refuses (409)
   * anything that would move a block-comment boundary or read back differently than meant,
   * and leaves the document untouched in that case.
   */
  replaceRange(start: number, end: number, next: NewLine[]): void {
    const count = this.lineCount;
    if (!(Number.isInteger(start) && Number.isInteger(end) && start >= 0 && start <= end && end <= count)) {
      throw new RangeError(`replaceRange(${start}, ${end}) outside lines 0..${count}`);
    }
    const lazy = this.lazy;
    const depthOut = (i: number) => (lazy ? lazy.depthOut[i]! : this.lineList[i]!.depthOut);
    const bom = start === 0 && count > 0 && this.lineAt(0).raw.charCodeAt(0) === 0xfeff;
    if (bom && end === 0 && next.length > 0) {
      // Lines put above line 1: the BOM moves up to the new first line, so line 1 gives it away.
      const l = this.lineAt(0);
      next = [...next, { raw: l.raw.slice(1), eol: l.eol }];
      end = 1;
    }
    if (bom && next.length > 0 && next[0]!.raw.charCodeAt(0) !== 0xfeff) next[0] = { ...next[0]!, raw: `\uFEFF${next[0]!.raw}` };
    // A line without an end-of-line can only be the last one: anything after it would join it.
    const joins = next.length > 0 && start > 0 && this.lineAt(start - 1).eol === '';
    for (let j = 0; j < next.length && !joins; j++) {
      if (next[j]!.eol === '' && (j < next.length - 1 || end < count)) {
        throw configConflict(
          `cannot write line ${start + j + 1} of ${this.label()} safely: it has no end-of-line but is not the last line`,
        );
      }
    }
    if (joins) throw configConflict(`cannot add lines after line ${start} of ${this.label()}: it has no end-of-line`);
    const depthBefore = start > 0 ? depthOut(start - 1) : 0;
    const depthAfter = end > start ? depthOut(end - 1) : depthBefore;
    const parsed: ConfigLine[] = [];
    let depth = depthBefore;
    for (let j = 0; j < next.length; j++) {
      const nl = next[j]!;
      const line = parseLine(nl.raw, nl.eol, depth, start + j === 0);
      depth = line.depthOut;
      const want = nl.expect;
      if (want !== undefined) {
        const got = line.entry;
        const ok =
          want === null
            ? line.kind !== 'entry'
            : line.kind === 'entry' && got!.key === want.key && got!.op === want.op && got!.value === want.value;
        if (!ok || line.problem?.severity === 'error') {
          throw configConflict(`cannot write line ${start + j + 1} of ${this.label()} safely: ${JSON.stringify(nl.raw)}`);
        }
      }
      parsed.push(line);
    }
    if (depth !== depthAfter) {
      throw configConflict(`edit near line ${start + 1} of ${this.label()} would change where a block comment (;-- --;) ends`);
    }
    this.headerIndex = null;
    // The BOM belongs to the file, not to the line that carried it.
    const removedBom = bom && next.length === 0 && end < count;
    if (lazy) {
      if (removedBom) {
        // Same result as below: the line after the range becomes line 1 and takes the BOM.
        const l = lazy.lineAt(end);
        lazy.splice(0, end + 1, [parseLine(`\uFEFF${l.raw}`, l.eol, 0, true)]);
      } else lazy.splice(start, end, parsed);
      return;
    }
    const lines = this.lineList;
    // splice(...spread) would overflow the argument limit on very large sections.
    if (parsed.length < 10_000) lines.splice(start, end - start, ...parsed);
    else this.lineList = lines.slice(0, start).concat(parsed, lines.slice(end));
    if (removedBom) {
      const l = this.lineList[0]!;
      this.lineList[0] = parseLine(`\uFEFF${l.raw}`, l.eol, 0, true);
    }
  }

  /** Every line, parsed (a lazy document becomes an ordinary one here). */
  private all(): ConfigLine[] {
    if (this.lazy) {
      this.lineList = parseLines(this.lazy.text);
      this.lazy = null;
      this.headerIndex = null;
    }
    return this.lineList;
  }

  private label(): string {
    return this.fileName || 'the file';
  }
}
