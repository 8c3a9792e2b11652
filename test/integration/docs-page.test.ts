// The docs page as a person sees it: headless Chromium (Debian's package) opens /v1/docs on a running gateway,
// the page renders the route list from /v1/openapi.json, a "try it" call of /v1/status succeeds, and the page
// fetches nothing outside the gateway (PBX hosts are often offline).
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { parseConfig } from '../../core/config.ts';
import { Gateway } from '../../core/gateway.ts';
import { createLogger } from '../../core/log.ts';
import { BUILTIN_PLUGINS } from '../../core/plugins/builtin.ts';

const CHROMIUM = '/usr/bin/chromium';
function skipReason(): string | null {
  if (existsSync(CHROMIUM)) return null;
  if (process.env.CI === 'true') throw new Error('CI=true: the docs-page test needs Chromium (test/browser/provision.sh)');
  return 'Chromium is not installed (run test/browser/provision.sh as root)';
}
const skip = skipReason();
const T = { skip: skip ?? undefined, timeout: 120000 };

let gw: Gateway;
let base: string;
let dir: string;
let browser: Browser;

before(async () => {
  if (skip) return;
  dir = mkdtempSync(path.join(os.tmpdir(), 'gw-docs-'));
  const all = BUILTIN_PLUGINS.map((p) => p.name);
  const config = parseConfig(
    JSON.stringify({
      http: { host: '127.0.0.1', port: 0 },
      ami: { host: '127.0.0.1', port: 1, username: 'x', secret: 'y', reconnect_max_ms: 60000 },
      asterisk: { config_dir: dir, modules_dir: dir },
      data_dir: dir,
      auth: { bootstrap_admin: { username: 'admin', password: 'pw' } },
      plugins: all,
    }),
    path.join(dir, 'gateway.yaml'),
    all,
  );
  gw = await Gateway.create(config, createLogger('docs', 'silent'));
  const server = await gw.start();
  base = `http://127.0.0.1:${server.port}`;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}, { timeout: 60000 });

after(async () => {
  await browser?.close();
  await gw?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('/v1/docs renders the route list offline, and "try it" on /v1/status succeeds', T, async () => {
  const page = await browser.newPage();
  const requested: string[] = [];
  page.on('request', (r) => requested.push(r.url()));
  await page.goto(`${base}/v1/docs`);
  // Swagger UI renders one block per operation once it has loaded /v1/openapi.json
  await page.waitForSelector('.opblock', { timeout: 30000 });
  const paths = await page.$$eval('.opblock-summary-path', (els) => els.map((e) => e.getAttribute('data-path') ?? e.textContent ?? ''));
  for (const p of ['/v1/status', '/v1/admin/core/channels', '/v1/admin/queue/members', '/v1/me/info']) {
    assert.ok(paths.some((x) => x.replace(/\u200b/g, '') === p), `${p} is on the page (${paths.length} paths)`);
  }
  assert.ok(paths.length > 90, `${paths.length} operations rendered`);

  const op = page.locator('#operations-status-get_status');
  await op.locator('.opblock-summary').click();
  await op.locator('button.try-out__btn').click();
  await op.locator('button.execute').click();
  const status = op.locator('.live-responses-table tr.response .response-col_status').first();
  await status.waitFor({ timeout: 15000 });
  assert.equal((await status.textContent())?.trim(), '200');
  const bodyText = await op.locator('.live-responses-table tr.response .microlight, .live-responses-table tr.response pre').first().textContent();
  assert.match(bodyText ?? '', /"statuscode": ?200/);
  assert.match(bodyText ?? '', /"plugins"/);

  const outside = requested.filter((u) => !u.startsWith(base) && !u.startsWith('data:'));
  assert.deepEqual(outside, [], 'the page loads nothing from outside the gateway');
  await page.screenshot({ path: path.join(os.tmpdir(), 'gw-docs-page.png') });
  await page.close();
});
