// `npm run demo` end to end: the demo (deploy/demo/demo.ts) runs as a child process on a free DEMO_PORT, under the
// runtime running this file (Node via tsx, or Bun). It must print its URL and a login that works, show a call of its
// trickle in the channel list, serve the docs page, and on SIGINT stop itself, its Asterisk and its gateway.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { skipReason } from '../support/bed.ts';
import { chromiumMissing, launchChromium } from '../support/browser.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const skip = skipReason() ?? false;

/** How long the demo may take to print its URL (Asterisk start, gateway start, all plugins live). */
const START_MS = 120_000;
/** How long until a trickle call shows in the channel list (the first one is made at once). */
const CHANNEL_MS = 20_000;
/** How long SIGINT may take to end the demo, its Asterisk and its gateway. */
const STOP_MS = 30_000;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
/** Like sleep, but the timer does not keep the process alive once the test is over. */
const timeout = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });

/** pid exists and is not a zombie. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^[ZX]$/.test(stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3));
  } catch {
    return false;
  }
}

/**
 * The live PBX as a person sees it through the docs page: headless Chromium opens /v1/docs, the token is entered
 * as Swagger UI's authorization, and "try it out" on GET /v1/admin/core/channels answers 200 with a demo call in it.
 */
async function liveThroughDocsPage(base: string, token: string): Promise<void> {
  if (chromiumMissing('demo')) return;
  const doc = (await (await fetch(`${base}/v1/openapi.json`)).json()) as {
    paths: Record<string, Record<string, { operationId: string; tags: string[] }>>;
  };
  const op = doc.paths['/v1/admin/core/channels']?.get;
  assert.ok(op, 'GET /v1/admin/core/channels is in the document');
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    await page.goto(`${base}/v1/docs`);
    await page.waitForSelector('.opblock', { timeout: 30000 });
    await page.evaluate(
      (t) => (globalThis as unknown as { ui: { preauthorizeApiKey(n: string, v: string): void } }).ui.preauthorizeApiKey('authtoken', t),
      token,
    );
    const block = page.locator(`#operations-${op.tags[0]}-${op.operationId}`);
    for (let i = 0; i < 400 && (await block.count()) === 0; i++) {
      await page.mouse.wheel(0, 600);
      await page.waitForTimeout(30);
    }
    await block.locator('.opblock-summary').click();
    await block.locator('button.try-out__btn').click();
    await block.locator('button.execute').click();
    const status = block.locator('.live-responses-table tr.response .response-col_status').first();
    await status.waitFor({ timeout: 15000 });
    assert.equal((await status.textContent())?.trim(), '200');
    const body =
      (await block.locator('.live-responses-table tr.response .microlight, .live-responses-table tr.response pre').first().textContent()) ??
      '';
    assert.match(body, /"channel": ?"Local\/[^"@]+@demo-calls-/, 'a live demo call, shown through the docs page');
    await page.screenshot({ path: path.join(os.tmpdir(), 'gw-demo-docs-page.png') });
  } finally {
    await browser.close();
  }
}

let child: ChildProcess | undefined;
const pids: number[] = [];
after(() => {
  // Only when the test failed half-way: nothing it started may outlive it.
  for (const pid of [child?.pid, ...pids]) {
    if (pid && alive(pid)) process.kill(pid, 'SIGKILL');
  }
});

test('npm run demo: URL, login, a live call, the docs page; SIGINT stops everything it started', { skip, timeout: 240_000 }, async () => {
  const port = await freePort();
  const isBun = typeof process.versions.bun === 'string';
  child = spawn(process.execPath, [...(isBun ? [] : ['--import', 'tsx']), 'deploy/demo/demo.ts'], {
    cwd: ROOT,
    env: { ...process.env, DEMO_PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  const exited = new Promise<{ code: number | null; signal: string | null }>((r) =>
    child!.once('exit', (code, signal) => r({ code, signal })),
  );
  let done = false;
  void exited.then(() => {
    done = true;
  });

  const deadline = Date.now() + START_MS;
  while (!/^Ctrl-C stops/m.test(stdout)) {
    assert.ok(!done, `the demo exited before it was up:\n${stdout}\n${stderr}`);
    assert.ok(Date.now() < deadline, `no URL within ${START_MS} ms:\n${stdout}\n${stderr}`);
    await sleep(200);
  }
  const field = (name: string) => {
    const m = new RegExp(`^\\s+${name}:\\s+(.*)$`, 'm').exec(stdout);
    assert.ok(m, `no "${name}:" line in:\n${stdout}`);
    return m[1]!;
  };
  const url = field('URL');
  assert.equal(url, `http://127.0.0.1:${port}/`);
  const login = /^admin \/ (\S+)/.exec(field('login'));
  assert.ok(login, field('login'));
  const asteriskPid = Number(/pid (\d+)/.exec(field('asterisk'))?.[1]);
  const gatewayPid = Number(/pid (\d+)/.exec(field('gateway'))?.[1]);
  const files = /files (\S+)/.exec(field('demo'))?.[1];
  assert.ok(asteriskPid > 1 && gatewayPid > 1 && files, stdout);
  pids.push(asteriskPid, gatewayPid);
  assert.ok(alive(asteriskPid) && alive(gatewayPid), 'Asterisk and the gateway run');
  assert.ok(existsSync(files!));

  const base = url.replace(/\/$/, '');
  const auth = await fetch(`${base}/v1/admin/login`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`admin:${login[1]}`).toString('base64')}` },
  });
  assert.equal(auth.status, 200, 'login with the printed credentials');
  const token = ((await auth.json()) as { result: { authtoken: string } }).result.authtoken;
  const wrong = await fetch(`${base}/v1/admin/login`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`admin:${login[1]}x`).toString('base64')}` },
  });
  assert.equal(wrong.status, 401, 'a wrong password is refused');

  let channels: { channel: string }[] = [];
  const until = Date.now() + CHANNEL_MS;
  while (!channels.some((c) => /^Local\/[^@]+@demo-calls-/.test(c.channel))) {
    assert.ok(Date.now() < until, `no trickle call in the channel list within ${CHANNEL_MS} ms: ${JSON.stringify(channels)}`);
    await sleep(250);
    const r = await fetch(`${base}/v1/admin/core/channels`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(r.status, 200);
    channels = ((await r.json()) as { result: { list: { channel: string }[] } }).result.list;
  }

  const docs = await fetch(`${base}/v1/docs`);
  assert.equal(docs.status, 200);
  assert.match(await docs.text(), /swagger-ui/);
  await liveThroughDocsPage(base, token);

  const t0 = Date.now();
  child.kill('SIGINT');
  const end = await Promise.race([exited, timeout(STOP_MS).then(() => undefined)]);
  assert.ok(end, `the demo did not exit within ${STOP_MS} ms of SIGINT:\n${stdout}\n${stderr}`);
  assert.deepEqual(end, { code: 0, signal: null }, stderr);
  while ((alive(asteriskPid) || alive(gatewayPid)) && Date.now() - t0 < STOP_MS) await sleep(100);
  assert.equal(alive(asteriskPid), false, `Asterisk pid ${asteriskPid} survived`);
  assert.equal(alive(gatewayPid), false, `gateway pid ${gatewayPid} survived`);
  assert.equal(existsSync(files!), false, `${files} was not removed`);
  assert.match(stdout, /demo: SIGINT: stopping\n[\s\S]*demo: stopped\n$/);
  // The port is free again (nothing of the gateway listens on it).
  await new Promise<void>((resolve, reject) => {
    const s = net
      .createServer()
      .once('error', reject)
      .listen(port, '127.0.0.1', () => s.close(() => resolve()));
  });
});
