// The lazy document that ConfigFileStore.update uses (parseConfigLazy): it must answer exactly as the full parse
// (parseConfig) does, before and after edits, on the corpus, the fixtures, hand-picked traps and random files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, decodeConfigBytes, parseConfig, validateText, type ConfigDocument } from '../../config-store/index.ts';
import { parseConfigLazy } from '../../config-store/document.ts';
import { strayLineProblem } from '../../config-store/structure-check.ts';

const fixturesDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'conf');
const corpusDir =
  process.env.ASTERISK_CONF_CORPUS || (process.env.ASTERISK_CHROOT || '/var/cache/asterisk-gateway/sid') + '/etc/asterisk.dist';

function confFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((n) => n.endsWith('.conf') && statSync(path.join(dir, n)).isFile())
    .sort()
    .map((n) => path.join(dir, n));
}

const errorsOf = (doc: ConfigDocument) => doc.problems().filter((p) => p.severity === 'error').length;

/** Everything a lazy document answers without parsing every line, compared with the full parse. */
function assertSameView(lazy: ConfigDocument, full: ConfigDocument, label: string): void {
  assert.equal(lazy.toString(), full.toString(), `${label}: text`);
  assert.equal(lazy.errorCount(), errorsOf(full), `${label}: error count`);
  assert.deepEqual(lazy.headerLines(), full.headerLines(), `${label}: headers`);
  assert.equal(lazy.dominantEol, full.dominantEol, `${label}: dominant EOL`);
  assert.equal(lazy.lineCount, full.lines.length, `${label}: line count`);
  assert.equal(lazy.hasIncludingDirective(), full.hasIncludingDirective(), `${label}: includes`);
  for (const s of full.sections()) {
    const sel = { sectionIndex: s.index };
    assert.deepEqual(lazy.section(s.name, sel), full.section(s.name, sel), `${label}: section [${s.name}]#${s.index}`);
    assert.equal(lazy.countSections(s.name), full.countSections(s.name), `${label}: count [${s.name}]`);
  }
}

/** Line by line (this parses every line of the lazy document, one at a time), then the materialised view. */
function assertSameLines(lazy: ConfigDocument, full: ConfigDocument, label: string): void {
  const lines = full.lines;
  for (let i = 0; i < lines.length; i++) assert.deepEqual(lazy.lineAt(i), lines[i], `${label}: line ${i + 1}`);
  assert.deepEqual(lazy.lines, lines, `${label}: lines after materialising`);
  assert.deepEqual(lazy.problems(), full.problems(), `${label}: problems`);
  assert.deepEqual(lazy.sections(), full.sections(), `${label}: sections`);
  assert.deepEqual(lazy.includes(), full.includes(), `${label}: includes`);
}

function assertLazyMatches(text: string, label: string): void {
  const full = parseConfig(text, label);
  assertSameView(parseConfigLazy(text, label), full, label);
  assertSameLines(parseConfigLazy(text, label), full, label);
}

/** Runs `edit` on both documents: both must throw the same error, or both end with the same text and view. */
function sameEdit(lazy: ConfigDocument, full: ConfigDocument, label: string, edit: (d: ConfigDocument) => void): void {
  let lazyErr: unknown = null;
  let fullErr: unknown = null;
  try {
    edit(full);
  } catch (e) {
    fullErr = e;
  }
  try {
    edit(lazy);
  } catch (e) {
    lazyErr = e;
  }
  const show = (e: unknown) => (e === null ? 'no error' : e instanceof ConfigError ? `${e.status} ${e.message}` : String(e));
  assert.equal(show(lazyErr), show(fullErr), `${label}: outcome`);
  assertSameView(lazy, full, label);
}

test('lazy document: every fixture and corpus file reads the same as the full parse', () => {
  const files = [...confFiles(fixturesDir), ...(existsSync(corpusDir) ? confFiles(corpusDir) : [])];
  assert.ok(files.length >= 10);
  for (const f of files) assertLazyMatches(decodeConfigBytes(readFileSync(f)).text, path.basename(f));
});

test('lazy document: a [header] inside a block comment is not a section', () => {
  const text = [
    ';-- a block comment at the top',
    '[hidden-1]',
    '   [hidden-2](!)',
    'exten => 1,1,NoOp()',
    '  ;-- nested',
    '[hidden-3]',
    '  --;',
    '[hidden-4]',
    '--; [after-close]',
    '[real]',
    'a = 1 ;-- opens here',
    '[hidden-5]',
    'close --; b = 2',
    ';-- one line --; [also-real]',
    'c = 3',
    ';--- four dashes: plain comment',
    '[last]',
    'x\\;y = 1 ; escaped semicolon',
    '',
  ].join('\n');
  const lazy = parseConfigLazy(text, 't.conf');
  const names = lazy.headerLines().map((i) => lazy.lineAt(i).header!.name);
  assert.deepEqual(names, ['after-close', 'real', 'also-real', 'last']);
  for (const hidden of ['hidden-1', 'hidden-2', 'hidden-3', 'hidden-4', 'hidden-5']) assert.equal(lazy.countSections(hidden), 0, hidden);
  assert.deepEqual(lazy.section('real')!.entries, [
    { key: 'a', op: '=', value: '1' },
    { key: 'b', op: '=', value: '2' },
  ]);
  assertLazyMatches(text, 't.conf');
});

test('lazy document: errors are counted like the full parse (line errors, structure, unclosed comment)', () => {
  const cases = [
    'x=1\n[a]\n',
    '[a]\n[broken\n',
    '[a](missing)\nk=v\n',
    '[a](+)\n',
    '#include other.conf\n[a](missing)\n',
    '[a]\n\\ = bad escape\n',
    '[a]\nk = v --; stray close\n',
    `[a]\nk = ${'v'.repeat(9000)}\n`,
    '[a]\n;-- never closed\nk=v\n',
    '\uFEFFk=1\r\n[a]\r\n',
    '\uFEFF[a]\nk=1',
    '',
    '\n\n\n',
    'just text\n',
    '[a](x\n',
  ];
  for (const text of cases) assertLazyMatches(text, JSON.stringify(text.slice(0, 40)));
});

test('lazy document: edits give the same bytes and view as the full parse (fixtures and corpus)', () => {
  const files = [...confFiles(fixturesDir), ...(existsSync(corpusDir) ? confFiles(corpusDir) : [])].filter(
    (f) => !f.endsWith('lone-cr.conf'),
  );
  for (const f of files) {
    const text = decodeConfigBytes(readFileSync(f)).text;
    const label = path.basename(f);
    const full = parseConfig(text, label);
    const lazy = parseConfigLazy(text, label);
    const sections = full.sections();
    // Reverse the entries of up to 5 sections spread over the file, set a value, add and delete a section.
    const step = Math.max(1, Math.floor(sections.length / 5));
    for (let k = 0; k < sections.length; k += step) {
      const s = sections[k]!;
      sameEdit(lazy, full, `${label} reverse [${s.name}]`, (d) =>
        d.replaceSectionEntries(s.name, [...s.entries].reverse(), { sectionIndex: s.index }),
      );
    }
    if (sections.length > 0) {
      const s = sections[sections.length >> 1]!;
      sameEdit(lazy, full, `${label} setValue`, (d) => d.setValue(s.name, 'gw-test-key', 'a;b', { sectionIndex: s.index }));
      sameEdit(lazy, full, `${label} delete`, (d) => d.deleteSection(s.name, { sectionIndex: s.index }));
    }
    sameEdit(lazy, full, `${label} add`, (d) => d.addSection('gw-test-new', { k: 'v' }));
    assertSameLines(lazy, full, label);
  }
});

test('lazy document: deleting the section that carries the BOM keeps the BOM on line 1', () => {
  const text = '\uFEFF[a]\r\nk=1\r\n[b]\r\nx=2\r\n';
  const full = parseConfig(text);
  const lazy = parseConfigLazy(text);
  sameEdit(lazy, full, 'delete a', (d) => d.deleteSection('a'));
  assert.equal(lazy.toString(), '\uFEFF[b]\r\nx=2\r\n');
  sameEdit(lazy, full, 'add c', (d) => d.addSection('c', [{ key: 'y', value: '3' }]));
  assertSameLines(lazy, full, 'bom');
});

// ---- random files and edits ----

/** mulberry32: a small seeded PRNG, so a failure can be replayed. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FRAGMENTS = [
  '[a]',
  '[b](!)',
  '[c](b)',
  '[d](+)',
  ' [e] ; note',
  '[unclosed',
  '[f](x',
  '[a]',
  '[g](missing)',
  '[h]',
  'k=v',
  ' same => n,NoOp()',
  'x = 1 ; c',
  'y\\;z = 2',
  '\\[esc = 1',
  '\\ = bad',
  'noequals',
  'a += b',
  'exten => 1,1,Dial(PJSIP/1)',
  '; comment',
  ';-- open',
  'close --;',
  ';-- one line --;',
  ';--- not a block',
  '--; stray',
  'x = 1 ;-- opens',
  ';-- [hidden] --; [vis]',
  '[in] ;-- open',
  '  ;-- nested --;',
  'end --; d = 4',
  '#include foo.conf',
  '#tryinclude "x.conf"',
  '#bogus',
  '#exec',
  '',
  '   ',
  '\t',
  'val\rcr = 1',
  ' = no name',
  '+=v',
  'text ; a=b',
  '{',
];

function randomText(r: () => number): string {
  const n = Math.floor(r() * 40);
  const eols = ['\n', '\n', '\n', '\r\n'];
  let out = r() < 0.1 ? '\uFEFF' : '';
  for (let i = 0; i < n; i++) {
    const frag = r() < 0.01 ? `k = ${'v'.repeat(9000)}` : FRAGMENTS[Math.floor(r() * FRAGMENTS.length)]!;
    const eol = i === n - 1 && r() < 0.2 ? '' : eols[Math.floor(r() * eols.length)]!;
    out += frag + eol;
  }
  return out;
}

function randomEdit(r: () => number, full: ConfigDocument): (d: ConfigDocument) => void {
  const sections = full.sections();
  const s = sections.length ? sections[Math.floor(r() * sections.length)]! : { name: 'nope', index: 0, entries: [] };
  const sel = r() < 0.8 ? { sectionIndex: s.index } : {};
  const pick = r();
  // Every random choice is made here, not in the returned function: it runs once per document.
  if (pick < 0.2) {
    const key = r() < 0.5 ? 'k' : 'new-key';
    const value = `v${Math.floor(r() * 9)}`;
    return (d) => d.setValue(s.name, key, value, sel);
  }
  if (pick < 0.4) {
    const entries = [...s.entries].reverse();
    if (r() < 0.5) entries.push({ key: 'added', op: '=>', value: 'n,NoOp()' });
    if (entries.length > 1 && r() < 0.5) entries.splice(Math.floor(r() * entries.length), 1);
    return (d) => d.replaceSectionEntries(s.name, entries, sel);
  }
  if (pick < 0.5) return (d) => d.setSectionObject(s.name, { k: 'obj', z: 'last' }, sel);
  if (pick < 0.65) {
    const name = r() < 0.3 ? 'a' : `n${Math.floor(r() * 99)}`;
    const opts = { templates: r() < 0.3 ? ['a'] : [], allowDuplicate: r() < 0.2 };
    return (d) => d.addSection(name, { k: 'v' }, opts);
  }
  if (pick < 0.8) return (d) => d.deleteSection(s.name, sel);
  // Raw line replacement, as a plugin could do: may move a block-comment boundary (then refused).
  const count = full.lines.length;
  const start = Math.floor(r() * (count + 1));
  const end = Math.min(count, start + Math.floor(r() * 4));
  const next = Array.from({ length: Math.floor(r() * 3) }, () => ({
    raw: FRAGMENTS[Math.floor(r() * FRAGMENTS.length)]!,
    eol: '\n' as const,
  }));
  return (d) =>
    d.replaceRange(
      start,
      end,
      next.map((l) => ({ ...l })),
    );
}

test('lazy document: 400 random files, each with random edits, match the full parse', () => {
  for (let seed = 1; seed <= 400; seed++) {
    const r = rng(seed);
    const text = randomText(r);
    const label = `seed ${seed}`;
    const full = parseConfig(text, 'r.conf');
    const lazy = parseConfigLazy(text, 'r.conf');
    assertSameView(lazy, full, label);
    // validateText counts with the lazy parse: it must refuse exactly what the full parse refuses, with the same message.
    let refused: string | null = null;
    try {
      validateText(text, 'r.conf');
    } catch (e) {
      refused = (e as Error).message;
    }
    // The full parse's errors, plus every line Asterisk would skip (strayLineProblem on each fully parsed line):
    // validateText's quick look at the raw text must find exactly these.
    const errors = [
      ...full.problems().filter((p) => p.severity === 'error'),
      ...full.lines.flatMap((l, i) => strayLineProblem(l, i) ?? []),
    ].sort((a, b) => a.line - b.line);
    const once = errors.filter((p, i) => i === 0 || errors[i - 1]!.line !== p.line);
    const expected = once.length
      ? `r.conf line ${once[0]!.line}: ${once[0]!.message}${once.length > 1 ? ` (and ${once.length - 1} more)` : ''}`
      : null;
    assert.equal(refused, expected, `${label}: validateText`);
    const edits = 1 + Math.floor(r() * 5);
    for (let k = 0; k < edits; k++) sameEdit(lazy, full, `${label} edit ${k}`, randomEdit(r, full));
    assertSameLines(lazy, full, label);
  }
});

test('lazy document: the unchanged head and tail reported after edits really are unchanged', () => {
  for (let seed = 1000; seed < 1200; seed++) {
    const r = rng(seed);
    const text = randomText(r);
    const full = parseConfig(text, 'r.conf');
    const lazy = parseConfigLazy(text, 'r.conf');
    for (let k = 0; k < 3; k++) {
      try {
        randomEdit(r, full)(lazy);
      } catch {
        // refused edits change nothing
      }
    }
    const ends = lazy.unchangedEnds()!;
    const out = lazy.toString();
    assert.ok(ends.prefix + ends.suffix <= Math.min(out.length, text.length), `seed ${seed}`);
    assert.equal(out.slice(0, ends.prefix), text.slice(0, ends.prefix), `seed ${seed}: head`);
    assert.equal(out.slice(out.length - ends.suffix), text.slice(text.length - ends.suffix), `seed ${seed}: tail`);
    assert.equal(ends.middle(), out.slice(ends.prefix, out.length - ends.suffix), `seed ${seed}: middle`);
  }
});

test('lazy document: many edits on a small file (its line tables must grow) match the full parse', () => {
  const text = '[a]\nk=v\n';
  const full = parseConfig(text, 'g.conf');
  const lazy = parseConfigLazy(text, 'g.conf');
  for (let i = 0; i < 150; i++) {
    sameEdit(lazy, full, `add ${i}`, (d) =>
      d.addSection(`s${i}`, [
        { key: 'a', value: String(i) },
        { key: 'b', value: 'x' },
      ]),
    );
    if (i % 10 === 9) sameEdit(lazy, full, `delete ${i - 5}`, (d) => d.deleteSection(`s${i - 5}`));
  }
  // And a file of one-character lines: the first pass itself outgrows its first guess.
  const dense = `[d]\n${'\n'.repeat(5000)}x=1\n`;
  assertLazyMatches(dense, 'dense');
  const fd = parseConfig(dense);
  const ld = parseConfigLazy(dense);
  sameEdit(ld, fd, 'dense set', (d) => d.setValue('d', 'y', '2'));
  assertSameLines(lazy, full, 'grown');
  assertSameLines(ld, fd, 'dense');
});
