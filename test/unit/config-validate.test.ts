// Validation helpers: every refusal is a ConfigError 400, and whole-file validation names the line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, escapeValue, parseConfig, validateKey, validateName, validateText, validateValue } from '../../config-store/index.ts';

function refused(fn: () => void, re?: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ConfigError, String(err));
    assert.equal(err.status, 400);
    if (re) assert.match(err.message, re);
    return true;
  });
}

test('validateName', () => {
  for (const ok of ['general', '6001', 'ctx-with.dots_and-dashes', 'café', ' spaced ', 'x'.repeat(79)]) validateName(ok);
  refused(() => validateName(''), /non-empty/);
  refused(() => validateName('a\nb'), /CR, LF/);
  refused(() => validateName('a\rb'), /CR, LF/);
  refused(() => validateName('a[b'), /'\[' or '\]'/);
  refused(() => validateName('a]b'), /'\[' or '\]'/);
  refused(() => validateName('a;b'), /';'/);
  refused(() => validateName('x'.repeat(80)), /79 bytes/);
  refused(() => validateName('é'.repeat(40)), /79 bytes/); // 80 bytes in UTF-8
  refused(() => validateName(42 as unknown as string));
});

test('validateKey', () => {
  for (const ok of ['exten', 'same', 'max_contacts', 'a-b.c', '#x', '[x', 'with space']) validateKey(ok);
  refused(() => validateKey(''));
  refused(() => validateKey('a=b'), /'='/);
  refused(() => validateKey('a;b'), /';'/);
  refused(() => validateKey(' a'), /whitespace/);
  refused(() => validateKey('a\t'), /whitespace/);
  refused(() => validateKey('a\nb'), /CR, LF/);
  refused(() => validateKey('a+'), /'\+'/);
});

test('validateValue and escaping', () => {
  for (const ok of ['', 'x', 'a;b', 'quote " and \\', 'ü 日本']) validateValue(ok);
  refused(() => validateValue('a\nb'), /CR, LF/);
  refused(() => validateValue('a\r'), /CR, LF/);
  refused(() => validateValue('nul\0'), /NUL/);
  refused(() => validateValue(undefined as unknown as string));
  assert.equal(escapeValue('a;b;c'), 'a\\;b\\;c');
  assert.equal(escapeValue('no semicolon'), 'no semicolon');
  // What we write reads back as what was asked, including a literal backslash before ';'.
  for (const v of ['a;b', 'a\\;b', 'x;--y', 'x--;y', ';', '\\']) {
    assert.equal(parseConfig(`[s]\nk = ${escapeValue(v)}\n`).sections()[0]!.entries[0]!.value, v, v);
  }
});

test('validateText passes valid files, warnings included', () => {
  validateText('');
  validateText('; only comments\n#include "x.conf"\n');
  validateText('[a]\nx=1\n[b](a)\n[c](!)\n[d](c,a)\n[a](+)\ny=2\n#unknowndirective x\n');
  // everything a line may be: header, =, =>, +=, directive, comment, block comment, blank, CRLF
  validateText('[a]\r\nx=1\r\n exten => 1,1,NoOp(a=b\\;c)\ny += 2 ; c\n#include "x.conf"\n;-- not = code\nstill comment\n--;\n\n\t\n');
  validateText(';-- block\n[x] inside\n--;\n[a]\n');
});

test('validateText: a line Asterisk would skip ("No \'=\' (equal sign) in line N") is refused, naming it', () => {
  refused(() => validateText('null'), /^line 1: No '=' \(equal sign\) in line 1/);
  refused(() => validateText('{'), /^line 1: No '=' \(equal sign\) in line 1/);
  refused(
    () => validateText('{\n  "data": "[general]\\nstatic=yes"\n}\n', 'extensions.conf'),
    /^extensions\.conf line 1: No '='.*\(and 2 more\)/,
  );
  refused(() => validateText('\ufeffnull\n'), /line 1: No '='/);
  refused(() => validateText('[a]\nx=1\nforgot the equals\n'), /^line 3: No '='/);
  refused(() => validateText('[a]\nsome text ; a=b in a comment\n'), /^line 2: No '='/);
  refused(() => validateText('[a]\n = value\n'), /^line 2: no variable name/);
  refused(() => validateText('[a]\n+=value\n'), /^line 2: no variable name/);
  refused(() => validateText('[a]\n;-- a --; text after a closed block\n'), /^line 2: No '='/);
  refused(() => validateText(';-- open\n--; after close\n[a]\n'), /^line 2: No '='/);
  // every problem is listed once, in line order, with the earlier kinds of error
  try {
    validateText('[a]\nbad one\n[broken\nbad two\n');
    assert.fail('must refuse');
  } catch (e) {
    assert.ok(e instanceof ConfigError);
    assert.deepEqual(
      e.problems!.map((p) => p.line),
      [2, 3, 4],
    );
  }
});

test('validateText: unclosed section header names its line', () => {
  refused(() => validateText('[a]\nx=1\n\n[abc\ny=2\n'), /^line 4: section header has no closing '\]'/);
  refused(() => validateText('[a]\n[b](!,a\n'), /^line 2: section options have no closing '\)'/);
});

test('validateText: unterminated block comment names the line that opened it', () => {
  refused(() => validateText('[a]\nx=1\n;-- never closed\ny=2\n'), /^line 3: block comment/);
  refused(() => validateText('[a]\nx=1 ;-- opened after code\n'), /^line 2: block comment/);
});

test('validateText: variable before any section names its line', () => {
  refused(() => validateText('; header comment\n\nbindport=5060\n[general]\n'), /^line 3: variable line before any \[section\]/);
});

test('validateText: other refusals Asterisk would make', () => {
  refused(() => validateText('[a](missing)\n'), /inherits from 'missing'/);
  refused(() => validateText('[a]\nx=1 --; y\n'), /--;/);
  refused(() => validateText('[a]\n\\\tbad=1\n'), /invalid escape/);
});

test('validateText reports all errors and names the file', () => {
  try {
    validateText('x=1\n[a\n', 'extensions.conf');
    assert.fail('expected a refusal');
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    assert.match(err.message, /^extensions\.conf line 1: .* \(and 1 more\)$/);
    assert.deepEqual(
      err.problems?.map((p) => p.line),
      [1, 2],
    );
  }
});
