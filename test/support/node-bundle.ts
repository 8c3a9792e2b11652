// Node runs the gateway as `npm start` does: its TypeScript bundled for Node by `bun build --target=node`, then plain
// node on that file, not through tsx, whose loader thread holds ~50 MB that a deployment does not have. Tests and
// benches that measure the Node gateway's memory run their entry point the same way, through this.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BUN = path.join(ROOT, 'node_modules/.bin/bun');

/** The node executable: under Bun, process.execPath is Bun's. */
export const NODE = process.versions.bun ? 'node' : process.execPath;

/**
 * `entry` (a .ts file) bundled for Node into a new directory under the checkout's dist/ (inside the checkout, so the
 * docs page's files still resolve from node_modules, as for `npm start`). Returns the .js file; remove() deletes it.
 */
export function nodeBundle(entry: string): { file: string; remove(): void } {
  mkdirSync(path.join(ROOT, 'dist'), { recursive: true });
  const out = mkdtempSync(path.join(ROOT, 'dist', 'bundle-'));
  const build = spawnSync(BUN, ['build', entry, '--target=node', '--outdir', out], { encoding: 'utf8', cwd: ROOT });
  assert.equal(build.status, 0, `bun build ${entry}: ${build.stderr}`);
  return {
    file: path.join(out, `${path.basename(entry, '.ts')}.js`),
    remove: () => rmSync(out, { recursive: true, force: true }),
  };
}
