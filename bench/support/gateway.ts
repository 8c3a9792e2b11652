// The gateway as the benchmarks run it: in-process, on a (fake) AMI at `amiPort`, with the core and users plugins,
// listening on a loopback port, and an admin token.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseConfig } from '../../core/config.ts';
import { Gateway } from '../../core/gateway.ts';
import { createLogger } from '../../core/log.ts';

export async function startBenchGateway(amiPort: number, name: string) {
  const dir = mkdtempSync(path.join(os.tmpdir(), `gw-bench-${name}-`));
  const cfg = parseConfig(
    JSON.stringify({
      http: { host: '127.0.0.1', port: 0 },
      ami: { host: '127.0.0.1', port: amiPort, username: 'bench', secret: 'bench' },
      data_dir: dir,
      asterisk: { config_dir: dir },
      auth: { token_ttl_s: 3600, bootstrap_admin: { username: 'admin', password: 'bench-pw' } },
      plugins: ['core', 'users'],
    }),
    path.join(dir, 'gateway.yaml'),
    ['core', 'users'],
  );
  const gw = await Gateway.create(cfg, createLogger('bench', 'silent'));
  const server = await gw.start();
  const base = `http://127.0.0.1:${server.port}`;
  return {
    gw,
    port: server.port,
    base,
    /** Log in as the bench's admin. */
    async login(): Promise<string> {
      const res = await fetch(`${base}/v1/admin/login`, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from('admin:bench-pw').toString('base64')}` },
      });
      return ((await res.json()) as { result: { authtoken: string } }).result.authtoken;
    },
    async stop(): Promise<void> {
      await gw.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
