// Whether the module at `moduleUrl` is the script node/bun was started with (so a benchmark file can both be
// imported by bench/run.ts and run directly). realpath, since the path on the command line may be a link.
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export function isMain(moduleUrl: string): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(moduleUrl));
  } catch {
    return false;
  }
}
