// Minimal edits: each test states exactly which lines an edit removes and adds; the rest must be byte-identical.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, decodeConfigBytes, parseConfig, type ConfigDocument } from '../../config-store/index.ts';

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'conf');
const fixture = (name: string): ConfigDocument => parseConfig(decodeConfigBytes(readFileSync(path.join(fixtures, name))).text, name);

/** Lines removed and added between two texts (LCS over lines split on LF, so a CR stays visible). */
function lineDiff(before: string, after: string): { removed: string[]; added: string[] } {
  const a = before.split('\n');
  const b = after.split('\n');
  const len: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--)
      len[i]![j] = a[i] === b[j] ? len[i + 1]![j + 1]! + 1 : Math.max(len[i + 1]![j]!, len[i]![j + 1]!);
  }
  const removed: string[] = [];
  const added: string[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      i++;
      j++;
    } else if (len[i + 1]![j]! >= len[i]![j + 1]!) removed.push(a[i++]!);
    else added.push(b[j++]!);
  }
  return { removed: [...removed, ...a.slice(i)], added: [...added, ...b.slice(j)] };
}

/** Runs `edit` on the fixture and returns the line diff. */
function edited(name: string, edit: (doc: ConfigDocument) => void): { removed: string[]; added: string[]; text: string } {
  const doc = fixture(name);
  const before = doc.toString();
  edit(doc);
  const text = doc.toString();
  assert.equal(parseConfig(text).toString(), text);
  return { ...lineDiff(before, text), text };
}

function assertConfigError(fn: () => void, status: number, re?: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    assert.equal(err.status, status, err.message);
    if (re) assert.match(err.message, re);
    return true;
  });
}

const entries = (doc: ConfigDocument, name: string, index = 0) => doc.sections().find((s) => s.name === name && s.index === index)!.entries;

// ---- setValue ----

test('setValue changes one line, keeping spacing and the trailing comment', () => {
  const d = edited('extensions.conf', (doc) => doc.setValue('globals', 'CONSOLE', 'Console/alsa'));
  assert.deepEqual(d.removed, ['CONSOLE=Console/dsp                ; console channel']);
  assert.deepEqual(d.added, ['CONSOLE=Console/alsa                ; console channel']);
});

test('setValue keeps the op and indentation: =>, +=, tabs', () => {
  assert.deepEqual(edited('extensions.conf', (doc) => doc.setValue('default', 'ignorepat', '8')).added, ['ignorepat => 8']);
  const plus = edited('extensions.conf', (doc) => doc.setValue('internal', 'CALLERID', 'x'));
  assert.deepEqual([plus.removed, plus.added], [['CALLERID += more'], ['CALLERID += x']]);
  const tabs = edited('tabs-utf8-bom.conf', (doc) => doc.setValue('café', 'callerid', '"Zoë" <200>'));
  assert.deepEqual(tabs.added, ['\tcallerid\t=\t"Zoë" <200>\t; tabbed']);
});

test('setValue edits the LAST entry with that key (ast_variable_retrieve returns the last)', () => {
  const d = edited('pjsip.conf', (doc) => doc.setValue('6001', 'contact', 'sip:6001@192.0.2.9', { sectionIndex: 2 }));
  assert.deepEqual(d.removed, ['contact=sip:6001@192.0.2.2:5060']);
  assert.deepEqual(d.added, ['contact=sip:6001@192.0.2.9']);
});

test('setValue appends a missing key after the last entry, in the section style', () => {
  const d = edited('extensions.conf', (doc) => doc.setValue('general', 'clearglobalvars', 'no'));
  assert.deepEqual(d.removed, []);
  assert.deepEqual(d.added, ['clearglobalvars=no']);
  assert.match(d.text, /writeprotect=no\nclearglobalvars=no\n\n\[globals\]/);
  // Aligned operators stay aligned.
  const aligned = parseConfig('[t]\ntype          = transport\nprotocol      = udp\n');
  aligned.setValue('t', 'bind', '0.0.0.0');
  assert.equal(aligned.toString(), '[t]\ntype          = transport\nprotocol      = udp\nbind          = 0.0.0.0\n');
});

test('setValue into an empty section adds right after the header', () => {
  const doc = parseConfig('[a]\n\n[b]\nx=1\n');
  doc.setValue('a', 'k', 'v');
  assert.equal(doc.toString(), '[a]\nx=1\n'.replace('x=1', 'k=v') + '\n[b]\nx=1\n');
});

test('setValue with the same value writes nothing', () => {
  const doc = fixture('extensions.conf');
  const before = doc.toString();
  doc.setValue('globals', 'TRUNK', 'PJSIP/trunk');
  doc.setValue('globals', 'GREETING', '  Hello; welcome '); // trimmed and escaped, it is the same value
  assert.equal(doc.toString(), before);
});

test('setValue escapes ; and reads back the exact value', () => {
  const d = edited('extensions.conf', (doc) => doc.setValue('globals', 'TRUNK', 'a;b\\;c'));
  assert.deepEqual(d.added, ['TRUNK=a\\;b\\\\;c']);
  assert.equal(entries(parseConfig(d.text), 'globals')[1]!.value, 'a;b\\;c');
});

test('setValue keeps values from turning into operators or comments', () => {
  const doc = parseConfig('[s]\nx=1\ny=2;note\n');
  doc.setValue('s', 'x', '>not object');
  doc.setValue('s', 'y', 'ends with backslash\\');
  assert.equal(doc.toString(), '[s]\nx= >not object\ny=ends with backslash\\ ;note\n');
  assert.deepEqual(entries(doc, 's'), [
    { key: 'x', op: '=', value: '>not object' },
    { key: 'y', op: '=', value: 'ends with backslash\\' },
  ]);
});

test('setValue on lines that take part in block comments keeps the comments', () => {
  const d = edited('block-comments.conf', (doc) => {
    doc.setValue('general', 'c', '33'); // this line opens a block comment
    doc.setValue('general', 'd', '44'); // this line starts inside it
    doc.setValue('general', 'a', 'x'); // code after an inline block comment is dropped with the old value
  });
  assert.deepEqual(d.removed, ['a = one ;-- inline block --;two', 'c = 3 ;-- opens a block here', 'end of block --; d = 4']);
  assert.deepEqual(d.added, ['a = x ;-- inline block --;', 'c = 33 ;-- opens a block here', 'end of block --; d = 44']);
  const e = Object.fromEntries(entries(parseConfig(d.text), 'general').map((x) => [x.key, x.value]));
  assert.deepEqual([e['a'], e['c'], e['d']], ['x', '33', '44']);
});

test('a new entry never lands inside a block comment', () => {
  const doc = parseConfig('[s]\na = 1 ;-- open\nstill comment\n--;\n\n[t]\n');
  doc.setValue('s', 'b', '2');
  assert.equal(doc.toString(), '[s]\na = 1 ;-- open\nstill comment\n--;\nb = 2\n\n[t]\n');
});

test('added lines use the file EOL; a missing final newline is supplied first', () => {
  const crlf = edited('crlf.conf', (doc) => doc.setValue('general', 'tcpenable', 'no'));
  assert.deepEqual(crlf.added, ['tcpenable=no\r']);
  const nofinal = edited('no-final-newline.conf', (doc) => doc.setValue('general', 'new', 'v'));
  assert.equal(nofinal.text, '[general]\nkey = value ; comment\nlast = line\nnew = v\n');
});

test('setValue refusals', () => {
  const doc = fixture('pjsip.conf');
  const before = doc.toString();
  assertConfigError(() => doc.setValue('nope', 'a', 'b'), 404, /\[nope\] not found/);
  assertConfigError(() => doc.setValue('6001', 'a', 'b'), 409, /occurs 4 times.*sectionIndex/);
  assertConfigError(() => doc.setValue('6001', 'a', 'b', { sectionIndex: 4 }), 404);
  assertConfigError(() => doc.setValue('6001', 'a', 'b', { sectionIndex: -1 }), 400);
  assertConfigError(() => doc.setValue('transport-udp', 'a=b', 'c'), 400, /must not contain '='/);
  assertConfigError(() => doc.setValue('transport-udp', 'a', 'b\nc'), 400, /CR, LF/);
  assertConfigError(() => doc.setValue('transport-udp', '', 'c'), 400);
  assert.equal(doc.toString(), before);
});

// ---- replaceSectionEntries ----

test('replaceSectionEntries with the same list changes nothing', () => {
  const doc = fixture('extensions.conf');
  const before = doc.toString();
  for (const s of doc.sections()) doc.replaceSectionEntries(s.name, s.entries);
  assert.equal(doc.toString(), before);
});

test('replaceSectionEntries: change, insert, delete with the fewest line changes', () => {
  const d = edited('extensions.conf', (doc) => {
    const list: { key: string; value: string }[] = entries(doc, 'default').map((e) => ({ key: e.key, value: e.value }));
    list.splice(1, 1); // drop the first `same`
    list[2] = { key: 'exten', value: '100,1,Dial(PJSIP/100,30)' }; // change
    list.splice(3, 0, { key: 'exten', value: '101,1,Dial(PJSIP/101)' }); // insert in the middle
    list.push({ key: 'autohints', value: 'yes' }); // append
    doc.replaceSectionEntries('default', list);
  });
  assert.deepEqual(d.removed, [' same => n,Playback(hello-world)   ; indented same line', 'exten => 100,1,Dial(PJSIP/100,20)']);
  assert.deepEqual(d.added, ['exten => 100,1,Dial(PJSIP/100,30)', 'exten => 101,1,Dial(PJSIP/101)', 'autohints = yes']);
  assert.match(d.text, /exten => 100,1,Dial\(PJSIP\/100,30\)\nexten => 101,1,Dial\(PJSIP\/101\)\nexten => 100,n,/);
  assert.match(d.text, /ignorepat => 9\nautohints = yes\n\n\[internal\]/);
});

test('replaceSectionEntries keeps comments and blank lines between kept entries', () => {
  const doc = parseConfig('[s]\n; about a\na=1\n\n; about b\nb=2 ; trailing\n; about c\nc=3\n');
  doc.replaceSectionEntries('s', [
    { key: 'a', value: '1' },
    { key: 'b', value: '20' },
    { key: 'd', value: '4' },
  ]);
  assert.equal(doc.toString(), '[s]\n; about a\na=1\n\n; about b\nb=20 ; trailing\nd=4\n; about c\n');
});

test('replaceSectionEntries: op omitted matches any op, and new lines reuse the key op', () => {
  const d = edited('extensions.conf', (doc) => {
    const list = entries(doc, 'parkedcalls').map((e) => ({ key: e.key, value: e.value }));
    list.push({ key: 'exten', value: '701,1,Park()' });
    doc.replaceSectionEntries('parkedcalls', list);
  });
  assert.deepEqual([d.removed, d.added], [[], ['exten => 701,1,Park()']]);
  // An explicit op that differs rewrites the line in place.
  const opChange = edited('extensions.conf', (doc) =>
    doc.replaceSectionEntries('parkedcalls', [{ key: 'exten', op: '=', value: '700,1,Park()' }]),
  );
  assert.deepEqual([opChange.removed, opChange.added], [['exten => 700,1,Park()'], ['exten = 700,1,Park()']]);
});

test('replaceSectionEntries with repeated keys: keeps the right duplicates', () => {
  const d = edited('pjsip.conf', (doc) =>
    doc.replaceSectionEntries(
      '6001',
      [
        { key: 'contact', value: 'sip:6001@192.0.2.2:5060' },
        { key: 'contact', value: 'sip:6001@192.0.2.3:5060' },
      ],
      { sectionIndex: 2 },
    ),
  );
  assert.deepEqual(d.removed, ['contact=sip:6001@192.0.2.1:5060']);
  assert.deepEqual(d.added, ['contact=sip:6001@192.0.2.3:5060']);
});

test('replaceSectionEntries to empty removes only entry lines; block comment parts survive', () => {
  const d = edited('block-comments.conf', (doc) => doc.replaceSectionEntries('general', []));
  assert.deepEqual(d.removed, [
    'visible = yes',
    'a = one ;-- inline block --;two',
    'c = 3 ;-- opens a block here',
    'end of block --; d = 4',
    'e = 5',
    'f = 6 ; plain comment with ;-- inside it, no block',
  ]);
  assert.deepEqual(d.added, [';-- opens a block here', 'end of block --;']);
  const after = parseConfig(d.text);
  assert.deepEqual(entries(after, 'general'), []);
  assert.deepEqual(after.problems(), []);
});

test('replaceSectionEntries refusals leave the document unchanged', () => {
  const doc = fixture('extensions.conf');
  const before = doc.toString();
  assertConfigError(() => doc.replaceSectionEntries('default', [{ key: 'a', value: 'x\r' }]), 400);
  assertConfigError(() => doc.replaceSectionEntries('default', [{ key: 'a', op: '==' as never, value: 'x' }]), 400, /operator/);
  assertConfigError(() => doc.replaceSectionEntries('default', 'nope' as never), 400);
  assertConfigError(() => doc.replaceSectionEntries('missing', []), 404);
  assert.equal(doc.toString(), before);
});

// ---- setSectionObject ----

test('setSectionObject: changed values edit one line each, new keys append, missing keys go', () => {
  const d = edited('pjsip.conf', (doc) =>
    doc.setSectionObject('transport-udp', { bind: '127.0.0.1', type: 'transport', local_net: '10.0.0.0/8' }),
  );
  assert.deepEqual(d.removed, ['protocol=udp', 'bind=0.0.0.0']);
  assert.deepEqual(d.added, ['bind=127.0.0.1', 'local_net=10.0.0.0/8']);
  assert.match(d.text, /\[transport-udp\]\ntype=transport\nbind=127\.0\.0\.1\nlocal_net=10\.0\.0\.0\/8\n\n/);
});

test('setSectionObject refuses a section with a repeated key (409)', () => {
  const doc = fixture('pjsip.conf');
  assertConfigError(() => doc.setSectionObject('endpoint-basic', { type: 'endpoint' }), 409);
  assert.throws(() => doc.setSectionObject('endpoint-basic', {}), {
    message: 'section endpoint-basic has repeated key allow; use the array form',
  });
  assertConfigError(() => doc.setSectionObject('transport-udp', { 'bad;key': 'x' }), 400);
  assertConfigError(() => doc.setSectionObject('transport-udp', [] as never), 400);
});

// ---- addSection ----

test('addSection appends after one blank line, in the file EOL and style', () => {
  const d = edited('crlf.conf', (doc) =>
    doc.addSection(
      'new',
      [
        { key: 'a', value: '1' },
        { key: 'exten', op: '=>', value: '1,1,NoOp()' },
      ],
      { templates: ['office'], isTemplate: true },
    ),
  );
  assert.ok(d.text.endsWith(' same => n,Hangup()\r\n\r\n[new](!,office)\r\na = 1\r\nexten => 1,1,NoOp()\r\n'), JSON.stringify(d.text));
  assert.deepEqual(d.removed, []);
  const s = parseConfig(d.text).sections().at(-1)!;
  assert.deepEqual([s.name, s.isTemplate, s.templates], ['new', true, ['office']]);
});

test('addSection: missing final newline, empty file, object entries, inheritance only', () => {
  const nofinal = fixture('no-final-newline.conf');
  nofinal.addSection('x', { k: 'v' });
  assert.equal(nofinal.toString(), '[general]\nkey = value ; comment\nlast = line\n\n[x]\nk = v\n');
  const empty = parseConfig('');
  empty.addSection('first', []);
  assert.equal(empty.toString(), '[first]\n');
  const inherit = parseConfig('[a](!)\n[b](!)\n');
  inherit.addSection('c', [], { templates: ['a', 'B'] });
  assert.equal(inherit.toString(), '[a](!)\n[b](!)\n\n[c](a,B)\n');
  const trailingBlank = parseConfig('[a]\nx=1\n\n');
  trailingBlank.addSection('b', { y: '2' });
  assert.equal(trailingBlank.toString(), '[a]\nx=1\n\n[b]\ny=2\n');
});

test('addSection refuses a template that is not defined (Asterisk would refuse the whole file)', () => {
  const doc = fixture('pjsip.conf');
  assertConfigError(() => doc.addSection('6003', [], { templates: ['endpoint-typo'] }), 400, /template \[endpoint-typo\] is not defined/);
  doc.addSection('6003', [], { templates: ['endpoint-basic'] });
  // After an #include the template may live in the included file.
  parseConfig('#include "templates.conf"\n').addSection('x', [], { templates: ['from-include'] });
});

test('addSection refuses an existing name unless allowDuplicate', () => {
  const doc = fixture('pjsip.conf');
  assertConfigError(() => doc.addSection('6002', []), 409, /already exists/);
  doc.addSection('6002', { type: 'aor', max_contacts: '1' }, { allowDuplicate: true });
  const last = doc.sections().at(-1)!;
  assert.deepEqual([last.name, last.index, last.entries.length], ['6002', 1, 2]);
});

test('addSection validates names before touching anything', () => {
  const doc = fixture('pjsip.conf');
  const before = doc.toString();
  for (const bad of ['', 'a]b', '[a', 'a\nb', 'a\rb', 'x'.repeat(80), 'semi;colon']) assertConfigError(() => doc.addSection(bad, []), 400);
  doc.addSection('x'.repeat(79), []); // the longest name Asterisk holds
  assertConfigError(() => doc.addSection('ok', [], { templates: ['a,b'] }), 400);
  assertConfigError(() => doc.addSection('ok', [{ key: 'a;b', value: 'x' }]), 400);
  assertConfigError(() => doc.addSection('ok', [{ key: 'a+', value: 'x' }]), 400, /must not end with '\+'/);
  assertConfigError(() => parseConfig('[a]\n;-- open\n').addSection('b', []), 409, /unclosed block comment/);
  assert.notEqual(doc.toString(), before);
});

test('names that would read as a header, directive or escape are written with a leading backslash', () => {
  const doc = parseConfig('[s]\n');
  doc.replaceSectionEntries('s', [
    { key: '#include', value: 'not a directive' },
    { key: '[x', value: 'not a header' },
    { key: '\\b', value: 'backslash' },
  ]);
  assert.equal(doc.toString(), '[s]\n\\#include = not a directive\n\\[x = not a header\n\\\\b = backslash\n');
  assert.deepEqual(
    entries(doc, 's').map((e) => e.key),
    ['#include', '[x', '\\b'],
  );
});

// ---- deleteSection ----

test('deleteSection keeps the comment that describes the next section', () => {
  const d = edited('extensions.conf', (doc) => doc.deleteSection('internal'));
  assert.deepEqual(d.removed, [
    '[internal]',
    'exten=>200,1,NoOp(no spaces around =>)',
    'exten => _2XX,1,Dial(PJSIP/${EXTEN})',
    'switch => Realtime/internal@extensions',
    'CALLERID += appended',
    'CALLERID = base',
    'CALLERID += more',
    '',
  ]);
  assert.deepEqual(d.added, []);
  assert.match(d.text, /ignorepat => 9\n\n; this comment describes \[parkedcalls\]\n\[parkedcalls\]/);
});

test('deleteSection: comments not separated by a blank line are ours; the last section goes to EOF', () => {
  const doc = parseConfig('[a]\nx=1\n\n[b]\ny=2\n; trailing note\n[c]\nz=3\n\n[d]\nw=4\n');
  doc.deleteSection('b');
  assert.equal(doc.toString(), '[a]\nx=1\n\n[c]\nz=3\n\n[d]\nw=4\n');
  doc.deleteSection('d');
  assert.equal(doc.toString(), '[a]\nx=1\n\n[c]\nz=3\n\n');
});

test('deleteSection with repeated names needs sectionIndex', () => {
  const doc = fixture('pjsip.conf');
  assertConfigError(() => doc.deleteSection('6001'), 409);
  doc.deleteSection('6001', { sectionIndex: 1 });
  assert.deepEqual(
    doc
      .sections()
      .filter((s) => s.name === '6001')
      .map((s) => s.templates.join() || (s.isAppend ? '+' : '')),
    ['endpoint-basic', 'aor-single', '+'],
  );
  assertConfigError(() => doc.deleteSection('nope'), 404);
});

test('deleteSection of the first section keeps the BOM on line 1', () => {
  const doc = parseConfig('\uFEFF[a]\nx=1\n\n[b]\ny=2\n');
  doc.deleteSection('a');
  assert.equal(doc.toString(), '\uFEFF[b]\ny=2\n');
  assert.equal(doc.sections()[0]!.name, 'b');
});

test('section(): one section without building the list', () => {
  const doc = fixture('pjsip.conf');
  assert.deepEqual(doc.section('6001', { sectionIndex: 2 }), doc.sections()[6]);
  assert.deepEqual(doc.section('transport-udp'), doc.sections()[0]);
  assert.equal(doc.section('missing'), undefined);
  assertConfigError(() => doc.section('6001'), 409);
});

test('every edit keeps the file valid when it was valid', () => {
  for (const name of ['extensions.conf', 'pjsip.conf', 'block-comments.conf', 'crlf.conf', 'tabs-utf8-bom.conf']) {
    const doc = fixture(name);
    for (const s of doc.sections()) {
      doc.replaceSectionEntries(s.name, [...s.entries].reverse(), { sectionIndex: s.index });
      const back = doc.sections().find((x) => x.name === s.name && x.index === s.index)!;
      assert.deepEqual(back.entries, [...s.entries].reverse(), `${name} [${s.name}]`);
    }
    assert.deepEqual(
      doc.problems().filter((p) => p.severity === 'error'),
      [],
      name,
    );
  }
});

// ---- randomised: edits on generated files full of comment and escape corner cases ----

test('random sections and random edits: entries read back as asked, other sections untouched', () => {
  let seed = 12345;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const pick = <T>(xs: readonly T[]): T => xs[rnd(xs.length)]!;
  const lineTokens = [
    'k = v',
    'k=v ; note',
    'exten => 1,1,NoOp(x)',
    ' same => n,Hangup()',
    'k += more',
    '; a comment',
    '',
    '\t',
    ';-- open',
    'inside',
    'close --;',
    'close --; k = after',
    'k = a ;-- inline --; b',
    'k = a\\;b',
    'no equals',
    '#include "x.conf"',
    ';--- plain',
    'k = 1 ;-- opens',
  ];
  const chars = ['a', 'b', ';', '\\', '-', '>', '=', ' ', '#', '[', 'é', ',', '(', ')'];
  const keys = ['k', 'exten', 'same', 'x', 'type', '#odd', '[odd'];
  let refused = 0;
  let done = 0;
  for (let round = 0; round < 400; round++) {
    const parts: string[] = [];
    const nSections = 1 + rnd(4);
    for (let s = 0; s < nSections; s++) {
      parts.push(`[s${s}]${pick(['', '(!)', ' ; header note'])}`);
      for (let i = rnd(8); i > 0; i--) parts.push(pick(lineTokens));
    }
    const text = parts.map((p) => p + pick(['\n', '\n', '\r\n'])).join('');
    const doc = parseConfig(text);
    const errors = () => doc.problems().filter((p) => p.severity === 'error').length;
    const errorsBefore = errors();
    const sections = doc.sections();
    const target = pick(sections);
    const wanted = target.entries.map((e) => ({ ...e })) as { key: string; op?: '=' | '=>' | '+='; value: string }[];
    for (let k = rnd(4); k > 0; k--) {
      const value = Array.from({ length: rnd(8) }, () => pick(chars))
        .join('')
        .trim();
      const op = pick([undefined, '=', '=>', '+='] as const);
      const entry = op ? { key: pick(keys), op, value } : { key: pick(keys), value };
      const at = rnd(wanted.length + 1);
      const action = rnd(3);
      if (action === 0 && wanted.length) wanted.splice(at % wanted.length, 1);
      else if (action === 1 && wanted.length) wanted[at % wanted.length] = entry;
      else wanted.splice(at, 0, entry);
    }
    const before = doc.toString();
    try {
      doc.replaceSectionEntries(target.name, wanted, { sectionIndex: target.index });
    } catch (err) {
      assert.ok(err instanceof ConfigError && err.status === 409, String(err));
      assert.equal(doc.toString(), before, 'a refused edit must leave the document as it was');
      refused++;
      continue;
    }
    done++;
    const after = doc.sections();
    const got = after.find((s) => s.name === target.name && s.index === target.index)!;
    assert.deepEqual(
      got.entries.map((e, i) => (wanted[i]?.op === undefined ? { key: e.key, value: e.value } : e)),
      wanted,
      `round ${round}: ${JSON.stringify(text)}`,
    );
    for (const s of after) {
      if (s === got) continue;
      assert.deepEqual(s.entries, sections.find((x) => x.name === s.name && x.index === s.index)!.entries, `round ${round}`);
    }
    assert.ok(errors() <= errorsBefore, `round ${round}: new errors in ${JSON.stringify(doc.toString())}`);
    const lines = before.split('\n');
    const afterLines = doc.toString().split('\n');
    const head = target.startLine - 1;
    assert.deepEqual(afterLines.slice(0, head + 1), lines.slice(0, head + 1), `round ${round}: lines above changed`);
    const tail = lines.length - target.endLine;
    assert.deepEqual(afterLines.slice(afterLines.length - tail), lines.slice(lines.length - tail), `round ${round}: lines below changed`);
  }
  assert.ok(done > 300, `only ${done} edits applied (${refused} refused)`);
});
