/**
 * Minimal edits on a ConfigDocument. Every edit validates its input first, computes the whole
 * change, then applies it in one `replaceRange` (which re-parses and checks the new lines), so
 * a refused edit leaves the document as it was. Untouched lines keep their exact bytes.
 */
import type { ConfigDocument, NewLine, SectionRange } from './document.ts';
import { badConfig, configConflict } from './errors.ts';
import { diffSequences } from './entry-diff.ts';
import { DEFAULT_STYLE, removeEntryCode, renderEntry, rewriteEntry, styleOf, type EntryStyle } from './entry-layout.ts';
import type { ConfigLine, EntryOp } from './line-parser.ts';
import { normaliseValue, validateKey, validateName, validateOp, validateTemplateName, validateValue } from './validate.ts';

export interface SectionSelector {
  /** Which of several sections with the same name (0-based); required when the name repeats. */
  sectionIndex?: number;
}

export interface EntryInput {
  key: string;
  /** Omitted: match an existing line whatever its op, and write new lines with the op already used for that key (else '='). */
  op?: EntryOp;
  value: string;
}

export interface AddSectionOptions {
  templates?: string[];
  isTemplate?: boolean;
  /** Allow a second section with an existing name (pjsip.conf: same name, another type=). */
  allowDuplicate?: boolean;
}

interface OldEntry {
  line: number;
  key: string;
  op: EntryOp;
  value: string;
}

interface Wanted {
  key: string;
  op?: EntryOp;
  value: string;
}

interface EntryPlan {
  rewrites: Map<number, { op: EntryOp; value: string }>;
  deletes: Set<number>;
  /** New entries to put after a line (a header or an entry line), in order. */
  inserts: Map<number, { key: string; op: EntryOp; value: string }[]>;
}

export function setValue(doc: ConfigDocument, section: string, key: string, value: string, opts: SectionSelector): void {
  validateName(section);
  validateKey(key);
  validateValue(value);
  const v = normaliseValue(value);
  const range = doc.locate(section, opts.sectionIndex);
  const old = entriesIn(doc, range);
  // Asterisk's ast_variable_retrieve answers with the last one.
  let last: OldEntry | undefined;
  for (const e of old) if (e.key === key) last = e;
  const plan = emptyPlan();
  if (last) {
    if (last.value === v) return;
    plan.rewrites.set(last.line, { op: last.op, value: v });
  } else {
    plan.inserts.set(old.length ? old[old.length - 1]!.line : range.header, [{ key, op: '=', value: v }]);
  }
  applyPlan(doc, range, old, plan);
}

export function replaceSectionEntries(doc: ConfigDocument, section: string, entries: EntryInput[], opts: SectionSelector): void {
  validateName(section);
  const wanted = checkEntries(entries);
  const range = doc.locate(section, opts.sectionIndex);
  const old = entriesIn(doc, range);
  applyPlan(doc, range, old, planEntries(old, wanted, range.header));
}

export function setSectionObject(doc: ConfigDocument, section: string, obj: Record<string, string>, opts: SectionSelector): void {
  validateName(section);
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) throw badConfig('section body must be an object of key: value');
  const keys = Object.keys(obj);
  for (const k of keys) {
    validateKey(k);
    validateValue(obj[k]);
  }
  const range = doc.locate(section, opts.sectionIndex);
  const old = entriesIn(doc, range);
  const seen = new Set<string>();
  for (const e of old) {
    if (seen.has(e.key)) throw configConflict(`section ${section} has repeated key ${e.key}; use the array form`);
    seen.add(e.key);
  }
  const has = (k: string) => Object.hasOwn(obj, k);
  // Existing keys keep their place; new keys go after them, in the object's order.
  const wanted: Wanted[] = old.filter((e) => has(e.key)).map((e) => ({ key: e.key, value: normaliseValue(obj[e.key]!) }));
  for (const k of keys) if (!seen.has(k)) wanted.push({ key: k, value: normaliseValue(obj[k]!) });
  applyPlan(doc, range, old, planEntries(old, wanted, range.header));
}

export function addSection(
  doc: ConfigDocument,
  name: string,
  entries: EntryInput[] | Record<string, string>,
  opts: AddSectionOptions,
): void {
  validateName(name);
  const templates = opts.templates ?? [];
  if (!Array.isArray(templates)) throw badConfig('templates must be an array of section names');
  for (const t of templates) validateTemplateName(t);
  const list = Array.isArray(entries) ? entries : recordToEntries(entries);
  const wanted = checkEntries(list);
  if (!opts.allowDuplicate && doc.countSections(name) > 0) {
    throw configConflict(`section [${name}] already exists in ${doc.fileName || 'the file'}`);
  }
  assertTemplatesDefined(doc, templates);
  const n = doc.lineCount;
  const eol = doc.dominantEol;
  const out: NewLine[] = [];
  const last = n > 0 ? doc.lineAt(n - 1) : undefined;
  if (last) {
    if (last.depthOut > 0) throw configConflict(`${doc.fileName || 'the file'} ends inside an unclosed block comment (;--)`);
    out.push({ raw: last.raw, eol: last.eol || eol });
    if (last.kind !== 'blank') out.push({ raw: '', eol });
  }
  const tokens = [...(opts.isTemplate ? ['!'] : []), ...templates];
  out.push({ raw: `[${name}]${tokens.length ? `(${tokens.join(',')})` : ''}`, eol, expect: null });
  const style = fileStyle(doc);
  for (const w of wanted) {
    const op = w.op ?? '=';
    out.push({ raw: renderEntry(style, w.key, op, w.value), eol, expect: { key: w.key, op, value: w.value } });
  }
  doc.replaceRange(last ? n - 1 : 0, n, out);
}

/**
 * Removes a section: its header through the line before the next header, with one exception.
 * Comment lines directly above the next header, when a blank line separates them from the rest
 * of our section, describe the next section, so they stay:
 *
 *     [ours]                 <- removed
 *     a = 1                  <- removed
 *                            <- removed (the separating blank)
 *     ; the next one         <- kept
 *     [next]
 *
 * Without that blank line the comments count as ours and go too. Comments above our own
 * header are not touched.
 */
export function deleteSection(doc: ConfigDocument, name: string, opts: SectionSelector): void {
  if (typeof name !== 'string' || name === '') throw badConfig('section name must be a non-empty string');
  const { header, end } = doc.locate(name, opts.sectionIndex);
  let cut = end;
  if (end < doc.lineCount) {
    let c = end;
    while (c - 1 > header && isPlainComment(doc.lineAt(c - 1))) c--;
    if (c < end && c - 1 > header && doc.lineAt(c - 1).kind === 'blank') cut = c;
  }
  doc.replaceRange(header, cut, []);
}

// ---- helpers ----

/**
 * Asterisk refuses the whole file when `[x](t)` names a section not defined before it. The new
 * section goes last, so any section of the file counts (case-insensitively, as ast_category_get
 * matches); after an #include we cannot know, so we let it pass.
 */
function assertTemplatesDefined(doc: ConfigDocument, templates: string[]): void {
  if (templates.length === 0) return;
  if (doc.hasIncludingDirective()) return;
  const names = new Set(doc.headerLines().map((i) => doc.lineAt(i).header!.name.toLowerCase()));
  for (const t of templates) {
    if (!names.has(t.toLowerCase())) throw badConfig(`template [${t}] is not defined in ${doc.fileName || 'the file'}`);
  }
}

function isPlainComment(l: ConfigLine): boolean {
  return l.kind === 'comment' && l.depthIn === 0 && l.depthOut === 0;
}

function emptyPlan(): EntryPlan {
  return { rewrites: new Map(), deletes: new Set(), inserts: new Map() };
}

function recordToEntries(obj: Record<string, string>): EntryInput[] {
  if (obj === null || typeof obj !== 'object') throw badConfig('entries must be an array or an object');
  return Object.keys(obj).map((key) => ({ key, value: obj[key]! }));
}

function checkEntries(entries: EntryInput[]): Wanted[] {
  if (!Array.isArray(entries)) throw badConfig('entries must be an array of {key, op?, value}');
  return entries.map((e, i) => {
    if (e === null || typeof e !== 'object') throw badConfig(`entry ${i} must be an object {key, op?, value}`);
    validateKey(e.key);
    validateOp(e.op);
    validateValue(e.value);
    return e.op === undefined ? { key: e.key, value: normaliseValue(e.value) } : { key: e.key, op: e.op, value: normaliseValue(e.value) };
  });
}

function entriesIn(doc: ConfigDocument, range: SectionRange): OldEntry[] {
  const out: OldEntry[] = [];
  for (let i = range.header + 1; i < range.end; i++) {
    const e = doc.lineAt(i).entry;
    if (e) out.push({ line: i, key: e.key, op: e.op, value: e.value });
  }
  return out;
}

/**
 * Diff old entries against the wanted list on (key, op, value); inside each changed stretch, a
 * second diff on the key alone pairs lines that are rewritten in place (keeping their comments).
 * The rest are removed or inserted after the entry that precedes them in the new order.
 */
function planEntries(old: OldEntry[], wanted: Wanted[], headerLine: number): EntryPlan {
  const plan = emptyPlan();
  const opFor = (w: Wanted): EntryOp => {
    if (w.op) return w.op;
    for (let i = old.length - 1; i >= 0; i--) if (old[i]!.key === w.key && old[i]!.op !== '+=') return old[i]!.op;
    return '=';
  };
  let anchor = headerLine;
  const insert = (w: Wanted) => {
    const list = plan.inserts.get(anchor) ?? [];
    list.push({ key: w.key, op: opFor(w), value: w.value });
    plan.inserts.set(anchor, list);
  };
  let dels: number[] = [];
  let ins: number[] = [];
  const flush = () => {
    if (dels.length === 0 && ins.length === 0) return;
    const pairs = diffSequences(
      dels.map((a) => old[a]!),
      ins.map((b) => wanted[b]!),
      (o, w) => o.key === w.key,
    );
    for (const s of pairs) {
      if (s.t === 'keep') {
        const o = old[dels[s.a]!]!;
        const w = wanted[ins[s.b]!]!;
        const op = w.op ?? o.op;
        if (op !== o.op || w.value !== o.value) plan.rewrites.set(o.line, { op, value: w.value });
        anchor = o.line;
      } else if (s.t === 'del') plan.deletes.add(old[dels[s.a]!]!.line);
      else insert(wanted[ins[s.b]!]!);
    }
    dels = [];
    ins = [];
  };
  const steps = diffSequences(old, wanted, (o, w) => o.key === w.key && o.value === w.value && (w.op === undefined || w.op === o.op));
  for (const s of steps) {
    if (s.t === 'keep') {
      flush();
      anchor = old[s.a]!.line;
    } else if (s.t === 'del') dels.push(s.a);
    else ins.push(s.b);
  }
  flush();
  return plan;
}

function applyPlan(doc: ConfigDocument, range: SectionRange, old: OldEntry[], plan: EntryPlan): void {
  if (plan.rewrites.size === 0 && plan.deletes.size === 0 && plan.inserts.size === 0) return;
  const eol = doc.dominantEol;
  // A new line goes after its anchor, but never inside a block comment the anchor opens.
  const insertsAt = new Map<number, { key: string; op: EntryOp; value: string }[]>();
  for (const [anchor, list] of plan.inserts) {
    let j = anchor;
    while (doc.lineAt(j).depthOut > 0) {
      j++;
      if (j >= range.end || doc.lineAt(j).kind === 'entry' || doc.lineAt(j).kind === 'section') {
        throw configConflict(`cannot add an entry after line ${anchor + 1} of ${doc.fileName || 'the file'}: it opens a block comment`);
      }
    }
    insertsAt.set(j, [...(insertsAt.get(j) ?? []), ...list]);
  }
  const out: NewLine[] = [];
  for (let i = range.header; i < range.end; i++) {
    const line = doc.lineAt(i);
    const rw = plan.rewrites.get(i);
    if (plan.deletes.has(i)) {
      const rest = removeEntryCode(line, i === 0);
      if (rest !== null) out.push({ raw: rest, eol: line.eol, expect: null });
    } else if (rw) {
      const key = line.entry!.key;
      out.push({ raw: rewriteEntry(line, i === 0, rw.op, rw.value), eol: line.eol, expect: { key, op: rw.op, value: rw.value } });
    } else {
      out.push({ raw: line.raw, eol: line.eol });
    }
    const adds = insertsAt.get(i);
    if (adds) {
      const prev = out[out.length - 1];
      if (prev && prev.eol === '') prev.eol = eol;
      for (const a of adds) out.push({ raw: renderEntry(styleFor(doc, old, a.key), a.key, a.op, a.value), eol, expect: a });
    }
  }
  doc.replaceRange(range.header, range.end, out);
}

/**
 * New lines copy the spacing of a neighbour: the last entry with the same key in the section,
 * else the section's first entry (indented `same =>` lines should not set the style of an
 * `exten =>`), else the file's habit.
 */
function styleFor(doc: ConfigDocument, old: OldEntry[], key: string): EntryStyle {
  let pick: OldEntry | undefined;
  for (const e of old) if (e.key === key) pick = e;
  pick ??= old[0];
  if (pick) return styleOf(doc.lineAt(pick.line), pick.line === 0);
  return fileStyle(doc);
}

/** The first entry of the last section that has entries. */
function fileStyle(doc: ConfigDocument): EntryStyle {
  const last = lastEntryIndex(doc, doc.lineCount);
  if (last < 0) return DEFAULT_STYLE;
  let first = last;
  for (let i = last - 1; i >= 0 && doc.lineAt(i).kind !== 'section'; i--) if (doc.lineAt(i).kind === 'entry') first = i;
  return styleOf(doc.lineAt(first), first === 0);
}

function lastEntryIndex(doc: ConfigDocument, before: number): number {
  for (let i = before - 1; i >= 0; i--) if (doc.lineAt(i).kind === 'entry') return i;
  return -1;
}
