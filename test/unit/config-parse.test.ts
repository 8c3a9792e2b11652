// Parser: every construct of main/config.c, read the way Asterisk reads it, and kept byte for byte.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeConfigBytes, parseConfig, type ConfigDocument } from '../../config-store/index.ts';

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'conf');
const fixture = (name: string): ConfigDocument => parseConfig(decodeConfigBytes(readFileSync(path.join(fixtures, name))).text, name);
const kinds = (doc: ConfigDocument) => doc.lines.map((l) => l.kind);
const entriesOf = (doc: ConfigDocument, name: string, index = 0) =>
  doc.sections().find((s) => s.name === name && s.index === index)!.entries;

test('round trip keeps the exact string for tricky inputs', () => {
  const inputs = [
    '',
    '\n',
    '\r\n',
    'no newline at all',
    '[a]\r\nx=1\ny=2\r\n',
    '[a]\nx = 1 ; c\r',
    '\uFEFF[a]\nx=1\n',
    '[a]\n\n\n\t \n',
    ';-- never closed\n[a]\nx=1',
    '[a]\nx=1\n\r\n\r\n',
  ];
  for (const text of inputs) assert.equal(parseConfig(text).toString(), text, JSON.stringify(text));
});

test('line kinds: blank, comment, section, entry, directive, other', () => {
  const doc = parseConfig('; c\n\n#include x.conf\n[s]\nk = v\njunk without equals\n  \t\n');
  assert.deepEqual(kinds(doc), ['comment', 'blank', 'directive', 'section', 'entry', 'other', 'blank']);
  assert.equal(doc.lines[5]!.problem?.severity, 'warning');
});

test('each line keeps its own end of line', () => {
  const doc = fixture('mixed-eol.conf');
  assert.deepEqual(
    doc.lines.map((l) => l.eol),
    ['\r\n', '\n', '\r\n', '\n', '\n', '\r\n', ''],
  );
  assert.deepEqual(entriesOf(doc, 'b'), [
    { key: 'y', op: '=', value: '3' },
    { key: 'y', op: '=', value: '4' },
  ]);
});

test('a lone CR stays inside its line (Asterisk splits on LF only)', () => {
  const doc = fixture('lone-cr.conf');
  assert.equal(doc.lines.length, 3);
  assert.equal(entriesOf(doc, 'general')[0]!.value, 'a\rb');
  assert.equal(entriesOf(doc, 'general')[1]!.value, '1'); // trailing CR is whitespace to ast_strip
});

test('operators =, => and += and repeated keys in order', () => {
  const doc = fixture('extensions.conf');
  const internal = entriesOf(doc, 'internal');
  assert.deepEqual(
    internal.map((e) => [e.key, e.op]),
    [
      ['exten', '=>'],
      ['exten', '=>'],
      ['switch', '=>'],
      ['CALLERID', '+='],
      ['CALLERID', '='],
      ['CALLERID', '+='],
    ],
  );
  assert.equal(internal[0]!.value, '200,1,NoOp(no spaces around =>)');
  assert.equal(entriesOf(doc, 'default').filter((e) => e.key === 'same').length, 2);
});

test('values: comment stripped, trimmed, \\; unescaped, quotes and inner spaces kept', () => {
  const doc = fixture('quoting.conf');
  const e = Object.fromEntries(entriesOf(doc, 'general').map((x) => [x.key, x.value]));
  assert.equal(e['name'], '"quoted value"');
  assert.equal(e['empty'], '');
  assert.equal(e['spaces'], 'lots of   inner   spaces');
  assert.equal(e['semi'], 'a;b;c');
  assert.equal(e['double_backslash'], 'a\\;not value'); // `\\;` reads back as `\;`
  assert.equal(e['[escaped'], 'first char escaped'); // leading `\` escapes the first name character
  assert.equal(e['key with spaces'], 'yes');
  assert.equal(fixture('extensions.conf').sections()[1]!.entries[2]!.value, 'Hello; welcome');
  assert.equal(doc.lines[1]!.entry!.comment, '; quotes are kept');
});

test('section names are not trimmed; text after ] that is not ( is ignored', () => {
  const doc = parseConfig('[ spaced ]\n[res] ; Default lot\n[x] (!)\n');
  const s = doc.sections();
  assert.deepEqual(
    s.map((x) => x.name),
    [' spaced ', 'res', 'x'],
  );
  assert.equal(s[2]!.isTemplate, false); // a space before ( drops the options, as in config.c
});

test('section headers: templates, inheritance, append, repeated names', () => {
  const doc = fixture('pjsip.conf');
  const s = doc.sections();
  const view = s.map((x) => `${x.name}#${x.index}${x.isTemplate ? '!' : ''}${x.isAppend ? '+' : ''}(${x.templates.join(',')})`);
  assert.deepEqual(view, [
    'transport-udp#0()',
    'endpoint-basic#0!()',
    'auth-userpass#0!()',
    'aor-single#0!()',
    '6001#0(endpoint-basic)',
    '6001#1(auth-userpass)',
    '6001#2(aor-single)',
    '6002#0!(endpoint-basic)',
    '6001#3+()',
  ]);
  assert.deepEqual(
    s[6]!.entries.map((e) => e.value),
    ['sip:6001@192.0.2.1:5060', 'sip:6001@192.0.2.2:5060'],
  );
  assert.equal(s[7]!.entries[0]!.value, '"Six Zero" <6002>');
  assert.deepEqual(doc.problems(), []);
});

test('startLine / endLine of sections are 1-based and cover up to the next header', () => {
  const doc = parseConfig('; top\n[a]\nx=1\n\n[b]\ny=2');
  assert.deepEqual(
    doc.sections().map((s) => [s.startLine, s.endLine]),
    [
      [2, 4],
      [5, 6],
    ],
  );
});

test('block comments: multi-line, nested, ;--- is plain, code around them counts', () => {
  const doc = fixture('block-comments.conf');
  assert.deepEqual(
    doc.sections().map((s) => s.name),
    ['general'],
  ); // [not-a-section] is inside the block
  assert.deepEqual(
    entriesOf(doc, 'general').map((e) => `${e.key}=${e.value}`),
    ['visible=yes', 'a=one two', 'c=3', 'd=4', 'e=5', 'f=6'],
  );
  assert.deepEqual(doc.lines.map((l) => l.depthOut).slice(0, 5), [1, 1, 1, 0, 0]);
  assert.equal(doc.lines[10]!.depthIn, 1); // nested open+close keeps the outer one open
  assert.deepEqual(doc.problems(), []);
});

test('block comment markers: escaped, 4th dash, stray close', () => {
  assert.equal(parseConfig('[a]\nx = 1 \\;-- not a block\ny=2\n').sections()[0]!.entries.length, 2);
  assert.equal(parseConfig('[a]\n;--- plain\ny=2\n').sections()[0]!.entries.length, 1);
  const stray = parseConfig('[a]\nx = a--;b\n');
  assert.equal(stray.sections()[0]!.entries[0]!.value, 'a--'); // we read it as a plain comment
  assert.equal(stray.problems()[0]!.severity, 'error'); // Asterisk would drop the rest of the file
});

test('directives are kept as lines and recorded', () => {
  const doc = fixture('directives.conf');
  assert.deepEqual(doc.includes(), [
    { directive: 'include', target: 'common.conf', line: 2 },
    { directive: 'tryinclude', target: 'optional.conf', line: 3 },
    { directive: 'include', target: 'extra/*.conf', line: 6 },
    { directive: 'exec', target: '/usr/bin/make-config', line: 7 },
    { directive: 'include', target: 'upper.conf', line: 8 },
  ]);
  assert.deepEqual(
    doc.problems().map((p) => [p.line, p.severity]),
    [[10, 'warning']],
  );
});

test('UTF-8, tabs and a BOM on line 1', () => {
  const doc = fixture('tabs-utf8-bom.conf');
  const [s] = doc.sections();
  assert.equal(s!.name, 'café');
  assert.deepEqual(s!.entries.slice(0, 2), [
    { key: 'callerid', op: '=', value: '"Jürgen Müller" <100>' },
    { key: 'display', op: '=>', value: '日本語 😀' },
  ]);
  assert.equal(s!.entries[2]!.value, 'x\u00a0'); // NBSP is not C whitespace: kept
  assert.equal(parseConfig('\uFEFF[a]\n').sections()[0]!.name, 'a');
  assert.equal(parseConfig('[a]\n\uFEFF[b]\n').sections().length, 1); // a BOM counts on line 1 only
});

test('problems: each refusal names its line', () => {
  const cases: [string, number, RegExp][] = [
    ['[ok]\n[abc\n', 2, /closing '\]'/],
    ['[ok]\n[abc](!\n', 2, /closing '\)'/],
    ['; c\nx = 1\n[a]\n', 2, /before any \[section\]/],
    ['[a]\n;-- open\nx=1\n', 2, /never closed/],
    ['[a](nope)\n', 1, /inherits from 'nope'/],
    ['[a](+)\n', 1, /appends to a section/],
    ['[a]\n\\ x=1\n', 2, /invalid escape/],
    [`[a]\nx=${'y'.repeat(9000)}\n`, 2, /longer than 8190 bytes/],
  ];
  for (const [text, line, re] of cases) {
    const errors = parseConfig(text)
      .problems()
      .filter((p) => p.severity === 'error');
    assert.equal(errors[0]?.line, line, text.slice(0, 40));
    assert.match(errors[0]!.message, re);
  }
  // After an #include the referenced template may live in the included file: no false alarm.
  assert.deepEqual(parseConfig('#include "t.conf"\n[a](tmpl)\n').problems(), []);
  assert.deepEqual(parseConfig('[T](!)\n[a](t)\n').problems(), []); // names compare case-insensitively
});

test('strict parse throws ConfigError 400', () => {
  assert.throws(
    () => parseConfig('x=1\n', 'e.conf', { strict: true }),
    (err: unknown) => (err as { status: number }).status === 400 && /e\.conf line 1/.test((err as Error).message),
  );
});

test('a 100,000-line file parses fast', () => {
  const parts: string[] = [];
  for (let c = 0; c < 2500; c++) {
    parts.push(`; context ${c}`, `[ctx-${c}]`);
    for (let i = 0; i < 37; i++) parts.push(`exten => ${1000 + i},1,Dial(PJSIP/${1000 + i},20) ; ring ${i}`);
    parts.push('');
  }
  const text = `${parts.join('\n')}\n`;
  parseConfig(text); // warm up
  const t0 = performance.now();
  const doc = parseConfig(text);
  const ms = performance.now() - t0;
  assert.equal(doc.lines.length, 100_000);
  assert.equal(doc.toString(), text);
  assert.ok(ms < 500, `parse took ${ms.toFixed(1)} ms`); // generous bound for slow CI; typical is far lower
});
