// core/ami/decode.ts: the WebAssembly UTF-8 -> Latin-1 path must give exactly what Buffer#toString('utf8') gives,
// for any bytes (well-formed or not), and the module embedded in latin1-wasm.ts must be the one latin1.wat assembles to.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { decodeUtf8, latin1WasmActive, WASM_MAX_BYTES } from '../../core/ami/decode.ts';
import { GENERATED_PATH, generatedLatin1Wasm } from '../../core/ami/latin1-build.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const recording = readFileSync(path.join(root, 'test/fixtures/ami/ami-recording-asterisk22.txt'));

/** Deterministic pseudo-random numbers (a failure can be replayed). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function same(buf: Buffer, start = 0, end = buf.length, what = ''): void {
  const want = buf.toString('utf8', start, end);
  const got = decodeUtf8(buf, start, end);
  if (got !== want)
    assert.fail(`${what}: bytes ${buf.subarray(start, end).toString('hex').slice(0, 200)} gave ${JSON.stringify(got.slice(0, 80))}`);
}

test('latin1-wasm.ts is what `npm run build:wasm` makes of latin1.wat (not stale)', async () => {
  assert.equal(readFileSync(GENERATED_PATH, 'utf8'), await generatedLatin1Wasm());
});

test('the WebAssembly path is in use on this runtime (so the tests below test it)', () => {
  assert.equal(latin1WasmActive, true);
});

test('the recorded Asterisk 22 stream decodes the same, whole and in pieces cut anywhere (mid-character too)', () => {
  same(recording, 0, Math.min(recording.length, WASM_MAX_BYTES), 'first 128 KiB');
  const next = rng(1);
  for (let pos = 0; pos < recording.length; ) {
    const end = Math.min(recording.length, pos + 1 + Math.floor(next() * 6000));
    same(recording, pos, end, `recording [${pos}, ${end})`);
    pos = end;
  }
});

test('characters of every width, at every place around the 16-byte blocks, well-formed or not', () => {
  const samples = ['a', 'é', 'ö', 'ÿ', '\u0080', 'Ā', 'Ж', '名', '€', '😀', '\r\n', ': '];
  for (const ch of samples) {
    for (let before = 0; before <= 33; before++) {
      for (const after of [0, 1, 15, 16, 17])
        same(Buffer.from(`${'x'.repeat(before)}${ch}${'y'.repeat(after)}`), 0, undefined, `${ch} at ${before}`);
    }
  }
  const malformed = [
    [0xc3], // cut after the lead byte
    [0x61, 0xc3],
    [0xc0, 0x80], // overlong NUL
    [0xc1, 0xbf],
    [0x80], // continuation without a lead
    [0xc3, 0x41], // lead without a continuation
    [0xc3, 0xc3, 0xb6],
    [0xe2, 0x82], // cut three-byte sequence
    [0xed, 0xa0, 0x80], // surrogate
    [0xf8, 0x88, 0x80, 0x80, 0x80],
    [0xff],
  ];
  for (const bytes of malformed) {
    for (let before = 0; before <= 20; before++) {
      same(Buffer.concat([Buffer.alloc(before, 0x41), Buffer.from(bytes), Buffer.alloc(20 - before, 0x42)]), 0, undefined, 'malformed');
    }
  }
});

test('random bytes and random text, at random offsets of a larger buffer', () => {
  const next = rng(2);
  const alphabet = ['a', 'Z', ' ', ':', '\r', '\n', 'é', 'ö', 'ß', 'ÿ', 'Ł', 'Ж', '中', '😀'];
  for (let i = 0; i < 3000; i++) {
    const n = Math.floor(next() * 90);
    let text = '';
    for (let k = 0; k < n; k++) text += alphabet[Math.floor(next() * (i % 3 === 0 ? alphabet.length : 10))];
    const body = Buffer.from(text);
    const buf = Buffer.concat([Buffer.from('pre'), body, Buffer.from('post')]);
    same(buf, 3, 3 + body.length, `text ${i}`);
    const raw = Buffer.alloc(Math.floor(next() * 70));
    for (let k = 0; k < raw.length; k++) raw[k] = next() < 0.7 ? 0x20 + Math.floor(next() * 0x5f) : Math.floor(next() * 256);
    same(raw, 0, raw.length, `bytes ${i}`);
  }
});

test('text at the module size limit goes through it, longer text through the engine, both right', () => {
  const unit = Buffer.from('Caller Jörg: 1234\r\n');
  const big = Buffer.alloc(WASM_MAX_BYTES + 100);
  for (let i = 0; i + unit.length <= big.length; i += unit.length) unit.copy(big, i);
  const cut = (n: number) => {
    let end = n;
    while (end > 0 && (big[end - 1]! & 0xc0) === 0xc0) end--; // do not end on a lead byte
    return end;
  };
  same(big, 0, cut(WASM_MAX_BYTES), 'at the limit');
  same(big, 0, cut(WASM_MAX_BYTES + 60), 'past the limit');
  same(big, 7, cut(WASM_MAX_BYTES + 7), 'at the limit, from an offset');
});

test('without WebAssembly (node --jitless) the engine decodes, with the same results', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gw-decode-'));
  try {
    const script = path.join(dir, 'check.ts');
    writeFileSync(
      script,
      `import { decodeUtf8, latin1WasmActive } from ${JSON.stringify(path.join(root, 'core/ami/decode.ts'))};\n` +
        `const b = Buffer.from('Jörg 名 \\u00ff');\nconsole.log(JSON.stringify([latin1WasmActive, decodeUtf8(b, 0, b.length) === b.toString()]));\n`,
    );
    // node, also when this test runs under Bun: --jitless is Node's flag
    const out = execFileSync('node', ['--jitless', '--import', 'tsx', script], { cwd: root, encoding: 'utf8' });
    assert.deepEqual(JSON.parse(out.trim().split('\n').pop()!), [false, true]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
