// Byte-for-byte round trip of real Asterisk sample configs and of our own fixtures, plus edit invariants on them.
//
// The corpus is the Asterisk 22 sample set from the Debian sid chroot that test/asterisk/provision.sh builds;
// ASTERISK_CONF_CORPUS overrides the path. Missing corpus: skipped locally, a failure when CI=true.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeConfigBytes, encodeConfigText, parseConfig } from '../../config-store/index.ts';

const corpusDir =
  process.env.ASTERISK_CONF_CORPUS || (process.env.ASTERISK_CHROOT || '/var/cache/asterisk-gateway/sid') + '/etc/asterisk.dist';
const fixturesDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'conf');
const isCi = process.env.CI === 'true';

function confFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((n) => n.endsWith('.conf') && statSync(path.join(dir, n)).isFile())
    .sort();
}

/** Bytes -> text -> document -> text -> bytes must give the same bytes. */
function assertRoundTrip(file: string): void {
  const bytes = readFileSync(file);
  const { text, encoding } = decodeConfigBytes(bytes);
  const doc = parseConfig(text, path.basename(file));
  const out = doc.toString();
  assert.equal(out, text, `${file}: text differs`);
  assert.ok(encodeConfigText(out, encoding).equals(bytes), `${file}: bytes differ`);
}

/** Rewriting every section with its own entries reversed must read back reversed and touch nothing else. */
function assertEditInvariants(file: string): void {
  const { text } = decodeConfigBytes(readFileSync(file));
  const doc = parseConfig(text, path.basename(file));
  const errorsBefore = doc.problems().filter((p) => p.severity === 'error').length;
  const sections = doc.sections();
  for (const s of sections) {
    doc.replaceSectionEntries(s.name, s.entries, { sectionIndex: s.index });
  }
  assert.equal(doc.toString(), text, `${file}: identical entries changed bytes`);
  for (const s of sections) {
    const reversed = [...s.entries].reverse();
    doc.replaceSectionEntries(s.name, reversed, { sectionIndex: s.index });
    const back = doc.sections().find((x) => x.name === s.name && x.index === s.index)!;
    assert.deepEqual(back.entries, reversed, `${file} [${s.name}]#${s.index}`);
  }
  assert.deepEqual(
    doc.sections().map((s) => [s.name, s.index, s.isTemplate, s.templates]),
    sections.map((s) => [s.name, s.index, s.isTemplate, s.templates]),
  );
  assert.equal(doc.problems().filter((p) => p.severity === 'error').length, errorsBefore, `${file}: new errors`);
  // Deleting one section removes exactly that section from the typed view.
  if (sections.length > 1) {
    const victim = sections[Math.floor(sections.length / 2)]!;
    const again = parseConfig(text);
    again.deleteSection(victim.name, { sectionIndex: victim.index });
    const names = (list: { name: string }[]) => list.map((s) => s.name);
    const expected = names(sections.filter((s) => s !== victim));
    assert.deepEqual(names(again.sections()), expected, `${file}: deleteSection ${victim.name}`);
  }
}

const corpusPresent = existsSync(corpusDir);
const skipReason =
  corpusPresent || isCi
    ? false
    : `Asterisk sample configs not found at ${corpusDir} (run test/asterisk/provision.sh or set ASTERISK_CONF_CORPUS)`;

test('Asterisk sample corpus: every *.conf round-trips byte for byte', { skip: skipReason }, () => {
  assert.ok(corpusPresent, `CI=true but the corpus directory ${corpusDir} is missing`);
  const files = confFiles(corpusDir);
  assert.ok(files.length > 0, `no *.conf in ${corpusDir}`);
  for (const f of files) assertRoundTrip(path.join(corpusDir, f));
});

test('Asterisk sample corpus: edits read back as written and keep every other byte', { skip: skipReason }, () => {
  assert.ok(corpusPresent, `CI=true but the corpus directory ${corpusDir} is missing`);
  for (const f of confFiles(corpusDir)) assertEditInvariants(path.join(corpusDir, f));
});

test('fixtures: every *.conf round-trips byte for byte', () => {
  const files = confFiles(fixturesDir);
  assert.ok(files.length >= 10, 'fixture set is incomplete');
  for (const f of files) assertRoundTrip(path.join(fixturesDir, f));
});

test('fixtures: edit invariants', () => {
  // lone-cr.conf holds a value with a CR inside, which the edit API refuses to write (by design).
  for (const f of confFiles(fixturesDir).filter((n) => n !== 'lone-cr.conf')) assertEditInvariants(path.join(fixturesDir, f));
});

test('fixtures cover CRLF, no final newline, BOM, Latin-1 and block comments', () => {
  const raw = (n: string) => readFileSync(path.join(fixturesDir, n));
  assert.ok(raw('crlf.conf').includes('\r\n'));
  assert.notEqual(raw('no-final-newline.conf').at(-1), 0x0a);
  assert.deepEqual([...raw('tabs-utf8-bom.conf').subarray(0, 3)], [0xef, 0xbb, 0xbf]);
  assert.equal(decodeConfigBytes(raw('latin1.conf')).encoding, 'latin1');
  assert.ok(raw('block-comments.conf').includes(';--'));
});
