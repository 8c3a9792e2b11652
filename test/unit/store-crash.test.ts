// The store survives a kill -9 in the middle of writing: the file on disk is always whole, valid JSON
// (lowdb writes a temp file and renames it over the old one).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Store } from '../../core/store/store.ts';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

test('kill -9 during a stream of writes leaves valid JSON with every acknowledged record', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gw-store-crash-'));
  const script = path.join(dir, 'writer.mts');
  // Each record is acknowledged on stdout only after its write resolved.
  writeFileSync(
    script,
    `import { Store } from ${JSON.stringify(path.join(repo, 'core/store/store.ts'))};
const s = await Store.open(${JSON.stringify(dir)});
const c = s.collection('things');
for (let i = 0; ; i++) {
  await c.insert({ n: i, pad: 'x'.repeat(2000) });
  process.stdout.write(i + '\\n');
}
`,
  );
  const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: repo, stdio: ['ignore', 'pipe', 'inherit'] });
  let acked = -1;
  await new Promise<void>((resolve) => {
    child.stdout.on('data', (d: Buffer) => {
      const lines = d.toString().trim().split('\n');
      acked = Number(lines[lines.length - 1]);
      if (acked >= 300) {
        child.kill('SIGKILL');
        resolve();
      }
    });
  });
  await new Promise((r) => child.once('exit', r));
  const file = path.join(dir, 'gateway.json');
  assert.ok(existsSync(file));
  const data = JSON.parse(readFileSync(file, 'utf8')); // throws if the file were torn
  assert.ok(data.things.length >= acked + 1, `every acknowledged record is there (${data.things.length} >= ${acked + 1})`);
  // and the store opens again and keeps working
  const s = await Store.open(dir);
  const c = s.collection<{ uuid: string; tm_create: string; tm_update: string; n: number }>('things');
  assert.equal(c.all().length, data.things.length);
  await c.insert({ n: -1 } as never);
  rmSync(dir, { recursive: true, force: true });
});
