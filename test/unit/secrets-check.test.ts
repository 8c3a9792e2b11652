// The check test/run.sh runs over the whole test log (test/support/secrets-check.ts) can fail: a secret in the log
// fails it, and so does a log or list too small to mean anything.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';

declare const Bun: unknown;
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const dir = mkdtempSync(path.join(os.tmpdir(), 'gw-secrets-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function check(lines: string[], secrets: string[]): { status: number | null; out: string } {
  writeFileSync(path.join(dir, 'log'), `${lines.join('\n')}\n`);
  writeFileSync(path.join(dir, 'secrets'), secrets.map((s) => `${JSON.stringify(s)}\n`).join(''));
  const runner = typeof Bun !== 'undefined' ? [process.execPath] : [process.execPath, '--import', 'tsx'];
  const r = spawnSync(
    runner[0]!,
    [...runner.slice(1), path.join(ROOT, 'test/support/secrets-check.ts'), path.join(dir, 'log'), path.join(dir, 'secrets')],
    {
      encoding: 'utf8',
    },
  );
  return { status: r.status, out: r.stdout + r.stderr };
}

const requests = Array.from(
  { length: 120 },
  (_, i) => `{"level":"info","scope":"gw:http","route":"${i % 10 === 0 ? '/admin/login' : '/status'}","status":200,"msg":"request"}`,
);
const secrets = Array.from({ length: 25 }, (_, i) => `secret-value-${i}-${'x'.repeat(i)}`);

test('a clean log passes; one secret in it fails the check, naming the line', () => {
  const clean = check(requests, [...secrets, 'pw']);
  assert.equal(clean.status, 0, clean.out);
  assert.match(clean.out, /25 secrets checked \(1 shorter than 8 left out\): 0 found/);
  const leaked = check([...requests, `{"level":"error","msg":"login failed with ${secrets[7]}"}`], secrets);
  assert.equal(leaked.status, 1, leaked.out);
  assert.match(leaked.out, /1 found/);
  assert.match(leaked.out, /is in the log: .*login failed with/);
});

test('too little to check fails too: an empty log, or almost no secrets', () => {
  assert.equal(check([], secrets).status, 1);
  assert.equal(check(requests, secrets.slice(0, 3)).status, 1);
});
