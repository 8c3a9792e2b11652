// The docs page as a person sees it: headless Chromium (Debian's package) opens /v1/docs on a running gateway,
// the page renders the route list from /v1/openapi.json, a "try it" call of /v1/status succeeds, and the page
// fetches nothing outside the gateway (PBX hosts are often offline).
import assert from 'node:assert/strict';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';

/** The page's window, as the functions run inside the page see it (this project's types have no DOM lib). */
type PageWindow = {
  innerHeight: number;
  scrollY: number;
  scrollTo(x: number, y: number): void;
  document: { body: { scrollHeight: number } };
};
import { testLogger } from '../support/log.ts';
import { BUILTIN_PLUGINS } from '../../core/plugins/builtin.ts';
import { chromiumMissing, launchChromium } from '../support/browser.ts';
import { type TempGateway, tempGateway } from '../support/gateway.ts';

const skip = chromiumMissing('docs-page');
const T = { skip: skip ?? undefined, timeout: 120000 };

let gateway: TempGateway;
let base: string;
let browser: Browser;

before(
  async () => {
    if (skip) return;
    const all = BUILTIN_PLUGINS.map((p) => p.name);
    gateway = await tempGateway({
      prefix: 'gw-docs',
      yaml: (dir) => ({
        http: { host: '127.0.0.1', port: 0 },
        ami: { host: '127.0.0.1', port: 1, username: 'x', secret: 'y', reconnect_max_ms: 60000 },
        asterisk: { config_dir: dir, modules_dir: dir },
        data_dir: dir,
        auth: { bootstrap_admin: { username: 'admin', password: 'pw' } },
        plugins: all,
      }),
      known: all,
      logger: testLogger('docs'),
      start: true,
    });
    base = gateway.base;
    browser = await launchChromium();
  },
  { timeout: 60000 },
);

after(async () => {
  await browser?.close();
  await gateway?.close();
});

test('/v1/docs renders the route list offline, and "try it" on /v1/status succeeds', T, async () => {
  const page = await browser.newPage();
  const requested: string[] = [];
  page.on('request', (r) => requested.push(r.url()));
  await page.goto(`${base}/v1/docs`);
  // Swagger UI lists every operation of /v1/openapi.json, grouped by tag (it mounts the blocks near the viewport
  // lazily, so the list is read from the page's text)
  await page.waitForSelector('.opblock', { timeout: 30000 });
  const paths = new Set<string>();
  for (let i = 0; i < 400; i++) {
    const seen = await page.$$eval('.opblock-summary-path', (els) =>
      els.map((e) => (e.getAttribute('data-path') ?? e.textContent ?? '').replace(/\u200b/g, '')),
    );
    for (const p of seen) paths.add(p);
    const atEnd = await page.evaluate(() => {
      const w = globalThis as unknown as PageWindow;
      return w.innerHeight + w.scrollY >= w.document.body.scrollHeight - 2;
    });
    if (atEnd && i > 0) break;
    await page.mouse.wheel(0, 600);
    await page.waitForTimeout(30);
  }
  for (const p of ['/v1/status', '/v1/admin/core/channels', '/v1/admin/queue/members', '/v1/me/info', '/v1/admin/pjsip/endpoints']) {
    assert.ok(paths.has(p), `${p} is on the page (${paths.size} paths)`);
  }
  assert.ok(paths.size > 60, `${paths.size} paths rendered`);

  // scroll from the top until the status operation is mounted
  await page.evaluate(() => (globalThis as unknown as PageWindow).scrollTo(0, 0));
  for (let i = 0; i < 400 && (await page.locator('#operations-status-get_status').count()) === 0; i++) {
    await page.mouse.wheel(0, 600);
    await page.waitForTimeout(30);
  }
  const op = page.locator('#operations-status-get_status');
  await op.locator('.opblock-summary').click();
  await op.locator('button.try-out__btn').click();
  await op.locator('button.execute').click();
  const status = op.locator('.live-responses-table tr.response .response-col_status').first();
  await status.waitFor({ timeout: 15000 });
  assert.equal((await status.textContent())?.trim(), '200');
  const bodyText = await op
    .locator('.live-responses-table tr.response .microlight, .live-responses-table tr.response pre')
    .first()
    .textContent();
  assert.match(bodyText ?? '', /"statuscode": ?200/);
  assert.match(bodyText ?? '', /"plugins"/);

  const outside = requested.filter((u) => !u.startsWith(base) && !u.startsWith('data:'));
  assert.deepEqual(outside, [], 'the page loads nothing from outside the gateway');
  await page.screenshot({ path: path.join(os.tmpdir(), 'gw-docs-page.png') });
  await page.close();
});
