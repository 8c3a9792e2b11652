// The single binary (`bun build --compile`) serves the API contract and the docs page from its own embedded files:
// built here into a temp dir, started from a gateway.yaml (no Asterisk needed for these routes).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BUN = path.join(ROOT, 'node_modules/.bin/bun');
let dir: string;
let bin: string;
let child: ReturnType<typeof spawn> | undefined;
let base: string;
let metricsPort: number;

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });

before(
  async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'gw-binary-'));
    bin = path.join(dir, 'asterisk-gateway');
    const build = spawnSync(BUN, ['build', '--compile', path.join(ROOT, 'core/main.ts'), '--outfile', bin], {
      encoding: 'utf8',
      cwd: ROOT,
    });
    assert.equal(build.status, 0, build.stderr);
    const port = await freePort();
    metricsPort = await freePort();
    writeFileSync(
      path.join(dir, 'gateway.yaml'),
      [
        `http: { host: 127.0.0.1, port: ${port} }`,
        'ami: { host: 127.0.0.1, port: 1, username: gw, secret: x }',
        `asterisk: { config_dir: ${dir} }`,
        `data_dir: ${dir}/data`,
        'plugins: [core, users, queue, park, agents, dialplan, pjsip, chat]',
        `metrics: { enabled: true, port: ${metricsPort}, token: binary-metrics-token-0042 }`,
        '',
      ].join('\n'),
    );
    // cwd is / so nothing can be read from the checkout's node_modules
    child = spawn(bin, ['--config', path.join(dir, 'gateway.yaml')], { cwd: '/', stdio: 'ignore' });
    base = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 100; i++) {
      try {
        if ((await fetch(`${base}/v1/status`)).status === 200) return;
      } catch {}
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('the binary did not answer /v1/status');
  },
  { timeout: 120000 },
);

after(() => {
  child?.kill('SIGTERM');
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('the compiled binary serves /v1/openapi.json, /v1/asyncapi.json and the docs page with its files', { timeout: 60000 }, async () => {
  const doc = (await (await fetch(`${base}/v1/openapi.json`)).json()) as { openapi: string; paths: Record<string, unknown> };
  assert.equal(doc.openapi, '3.1.0');
  assert.ok(Object.keys(doc.paths).length > 60);
  const a = (await (await fetch(`${base}/v1/asyncapi.json`)).json()) as { asyncapi: string };
  assert.equal(a.asyncapi, '3.0.0');
  const page = await (await fetch(`${base}/v1/docs`)).text();
  assert.match(page, /swagger-ui-bundle\.js/);
  const js = await fetch(`${base}/v1/docs/swagger-ui-bundle.js`);
  assert.equal(js.status, 200);
  assert.ok((await js.arrayBuffer()).byteLength > 500_000, 'the Swagger UI bundle is embedded');
  const css = await fetch(`${base}/v1/docs/swagger-ui.css`);
  assert.equal(css.status, 200);
  assert.match(await css.text(), /swagger-ui/);
});

test('the compiled binary serves /metrics (prom-client bundled) on its own port, with its token', { timeout: 60000 }, async () => {
  assert.equal((await fetch(`${base}/v1/status`)).status, 200);
  const url = `http://127.0.0.1:${metricsPort}/metrics`;
  assert.equal((await fetch(url)).status, 401);
  const r = await fetch(url, { headers: { authorization: 'Bearer binary-metrics-token-0042' } });
  assert.equal(r.status, 200);
  const text = await r.text();
  assert.match(text, /^asterisk_gateway_http_requests_total\{route="\/status",method="GET",status="200"\} [1-9]/m);
  assert.match(text, /^asterisk_gateway_ami_connected 0$/m);
  assert.match(text, /^process_resident_memory_bytes \d+/m);
});
