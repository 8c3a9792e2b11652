// The gateway for test/integration/soak.test.ts, in its own process so that its RSS is the gateway's alone (not the
// test's fake AMI nor its HTTP and WebSocket clients): core, users and queue plugins, logged in to the fake AMI at
// argv[2] on loopback. Prints one JSON line {"port": N} on stdout when it listens; stops on SIGTERM. Each line `gc`
// on stdin is answered with a line {"rss": MB, "heap": MB}: after a full garbage collection (what is retained).
// SOAK_HEAPSNAPSHOTS=3,40 (Node only) also writes a heap snapshot into SOAK_HEAPSNAPSHOT_DIR (default: the working
// directory) after the 3rd and the 40th of those collections, for diffing what is retained between two samples.
// SOAK_MEMORY_LOG=1 also writes process.memoryUsage() after each collection to stderr (what the RSS is made of).
//   node --import tsx test/support/soak-gateway.ts <ami port> <data dir>     (or: bun test/support/soak-gateway.ts ...)
import path from 'node:path';
import v8 from 'node:v8';
import { createLogger } from '../../core/log.ts';
import { collect } from './gc.ts';
import { gatewayIn } from './gateway.ts';

const [amiPort, dir] = process.argv.slice(2) as [string, string];
const plugins = ['core', 'users', 'queue'];
const gw = await gatewayIn(
  dir,
  {
    http: { host: '127.0.0.1', port: 0 },
    ami: { host: '127.0.0.1', port: Number(amiPort), username: 'soak', secret: 'soak' },
    data_dir: dir,
    asterisk: { config_dir: dir },
    auth: { token_ttl_s: 3600, bootstrap_admin: { username: 'admin', password: 'soak-pw' } },
    plugins,
  },
  plugins,
  { logger: createLogger('soak', 'silent') },
);
const server = await gw.start();
process.stdout.write(`${JSON.stringify({ port: server.port })}\n`);

declare const Bun: unknown;

const snapshotsAt = new Set((process.env.SOAK_HEAPSNAPSHOTS ?? '').split(',').filter(Boolean).map(Number));
let collections = 0;
process.stdin.setEncoding('utf8');
process.stdin.on('data', (d: string) => {
  for (const line of d.split('\n')) {
    if (line.trim() !== 'gc') continue;
    collect();
    collections++;
    if (snapshotsAt.has(collections) && typeof Bun === 'undefined') {
      const file = path.join(process.env.SOAK_HEAPSNAPSHOT_DIR ?? '.', `soak-${process.pid}-${collections}.heapsnapshot`);
      v8.writeHeapSnapshot(file);
    }
    const m = process.memoryUsage();
    if (process.env.SOAK_MEMORY_LOG === '1') {
      const mb = Object.entries(m).map(([k, n]) => `${k} ${(n / 2 ** 20).toFixed(0)}`);
      process.stderr.write(`soak gateway after GC ${collections}, MB: ${mb.join(', ')}\n`);
    }
    process.stdout.write(`${JSON.stringify({ rss: m.rss / 2 ** 20, heap: m.heapUsed / 2 ** 20 })}\n`);
  }
});
process.on('SIGTERM', async () => {
  await gw.stop();
  process.exit(0);
});
