// npm run bench: every benchmark, one after another, each in its own process so one's JIT and heap do not
// colour the next. Each prints ratios measured side by side in one run; absolute numbers mean little on a
// shared machine. config-reload needs root (it starts the real Asterisk test bed) and says so otherwise; nats needs
// nats-server (test/nats/provision.sh) and says so otherwise.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const BENCHES = ['ami-ingest.ts', 'http.ts', 'churn.ts', 'ws-fanout.ts', 'nats.ts', 'config-reload.ts'];
/** Also run under Bun, the runtime the binary embeds, where the two engines differ enough to matter. */
const ALSO_ON_BUN = new Set(['ami-ingest.ts']);
const BUN = path.join(HERE, '..', 'node_modules', '.bin', 'bun');
const only = process.argv.slice(2);

let failed = 0;
for (const file of BENCHES.filter((b) => only.length === 0 || only.some((o) => b.startsWith(o)))) {
  const runs: [string, string, string[]][] = [['', process.execPath, ['--import', 'tsx', path.join(HERE, file)]]];
  if (ALSO_ON_BUN.has(file)) runs.push([' (Bun)', BUN, [path.join(HERE, file)]]);
  for (const [label, cmd, args] of runs) {
    console.log(`\n== ${file}${label} ==`);
    const r = spawnSync(cmd, args, { stdio: 'inherit' });
    if (r.status !== 0) {
      failed++;
      console.log(`${file}${label} exited with ${r.status ?? r.signal}`);
    }
  }
}
process.exit(failed ? 1 : 0);
