// Fault: the disk fills up while a config file is written. The config directory and the backups live on a 64 KiB
// tmpfs mounted by the test (root; without root the test is skipped, and under CI=true it fails), filled to the
// last byte. Every write is answered 507 insufficient_storage, the file and its backups stay byte for byte, no temp
// file is left behind, and writes work again once there is space.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigFiles } from '../../core/config-files.ts';
import type { GatewayConfig } from '../../core/config.ts';
import { HttpApp } from '../../core/http/app.ts';
import { testLogger } from '../support/log.ts';
import type { AmiMessage } from '../../core/ami/message.ts';
import { registerDialplanConfigRoutes } from '../../plugins/dialplan/config-routes.ts';
import { parseConfig } from '../../config-store/index.ts';
import { client } from '../support/http.ts';

function skipReason(): string | false {
  if (process.platform !== 'linux') return 'needs Linux (tmpfs)';
  if (process.getuid?.() !== 0) {
    if (process.env.CI === 'true') throw new Error('CI=true: the disk-full test is mandatory but needs root to mount a tmpfs');
    return 'needs root to mount a small tmpfs';
  }
  return false;
}
const skip = skipReason();

let dir: string;
let mnt: string;
let etc: string;
let backups: string;
let mounted = false;
let api: ReturnType<typeof client>;
const ami = {
  connected: true,
  async action(): Promise<AmiMessage> {
    return { fields: { Response: 'Success', Message: 'Module reloaded.' } } as unknown as AmiMessage;
  },
  async command(): Promise<string[]> {
    return ['Dialplan reloaded.'];
  },
};

/** Writes a filler file until the filesystem refuses (ENOSPC). */
function fill(file: string): number {
  const fd = openSync(file, 'w');
  const chunk = Buffer.alloc(1024, 0x78);
  let n = 0;
  try {
    for (;;) n += writeSync(fd, chunk);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
  } finally {
    closeSync(fd);
  }
  // the last partial page too
  const fd2 = openSync(file, 'a');
  try {
    for (;;) n += writeSync(fd2, Buffer.alloc(1, 0x78));
  } catch {
    /* full */
  } finally {
    closeSync(fd2);
  }
  return n;
}

/** Every file under d with its bytes. */
function snapshot(d: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(d)) out[name] = readFileSync(path.join(d, name)).toString('base64');
  return out;
}

before(async () => {
  if (skip) return;
  dir = mkdtempSync(path.join(os.tmpdir(), 'gw-fault-disk-'));
  mnt = path.join(dir, 'mnt');
  mkdirSync(mnt);
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mnt], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`mount -t tmpfs failed: ${r.stderr}`);
  mounted = true;
  // /etc/asterisk and the gateway's data on one partition, as on most PBX hosts
  etc = path.join(mnt, 'etc');
  mkdirSync(etc);
  backups = path.join(mnt, 'data', 'backups');
  writeFileSync(path.join(etc, 'extensions.conf'), `; keep me\n[ctx]\nexten => 1,1,NoOp()\n${'; padding\n'.repeat(300)}`);
  const config = { asterisk: { config_dir: etc }, data_dir: path.join(mnt, 'data'), backups: { retention: 5 } } as GatewayConfig;
  const files = new ConfigFiles(config, ami as never, testLogger('test'));
  const http = new HttpApp({
    bodyLimitBytes: 1 << 20,
    auth: { resolve: (t) => (t === 'tok' ? { userUuid: 'u1', roles: new Set(['admin'] as const) } : undefined) },
    liveness: () => null,
    logError: () => {},
  });
  registerDialplanConfigRoutes({ router: http.router('dialplan'), configFiles: files });
  http.seal();
  api = client(http.fetch);
  api.setToken('tok');
});

after(() => {
  if (skip) return;
  if (mounted) spawnSync('umount', [mnt]);
  rmSync(dir, { recursive: true, force: true });
});

test('disk full while writing a config file: 507, the file and its backups intact, writes work again after', {
  skip,
  timeout: 30_000,
}, async () => {
  // one write while there is room: one backup exists
  const first = await api.post('/v1/admin/dialplan/sdps', { name: 'c1', data: [{ exten: '> 1,1,NoOp(one)' }] });
  assert.equal(first.status, 200, first.text);
  const filler = path.join(mnt, 'filler');
  const filled = fill(filler);
  assert.ok(filled > 0, 'the tmpfs was filled');
  const beforeEtc = snapshot(etc);
  const beforeBackups = snapshot(backups);
  assert.equal(Object.keys(beforeBackups).length, 1);

  // whole file, a new section, an edit of one section, a delete: each would need new blocks
  const big = `${readFileSync(path.join(etc, 'extensions.conf'), 'utf8')}\n[more]\n${'exten => 2,1,NoOp(x)\n'.repeat(400)}`;
  const answers = [
    await api.put('/v1/admin/dialplan/configurations/extensions.conf', { data: big }),
    await api.post('/v1/admin/dialplan/sdps', { name: 'c2', data: [{ exten: '> 2,1,NoOp(two)' }] }),
    await api.put('/v1/admin/dialplan/sdps/c1', { data: [{ exten: `> 1,1,NoOp(${'y'.repeat(5000)})` }] }),
  ];
  for (const a of answers) {
    assert.equal(a.status, 507, a.text);
    assert.equal(a.body.result.code, 'insufficient_storage');
    assert.match(a.body.result.message, /no space left/i);
  }
  // nothing changed: the live file, its backups, and no temp file left in the config directory
  assert.deepEqual(snapshot(etc), beforeEtc);
  assert.deepEqual(snapshot(backups), beforeBackups);
  assert.doesNotThrow(() => parseConfig(readFileSync(path.join(etc, 'extensions.conf'), 'utf8')).assertValid());
  const got = await api.get('/v1/admin/dialplan/configurations/extensions.conf');
  assert.equal(got.status, 200);

  // space again: the same write goes through, with a backup of what was there
  rmSync(filler);
  const again = await api.post('/v1/admin/dialplan/sdps', { name: 'c2', data: [{ exten: '> 2,1,NoOp(two)' }] });
  assert.equal(again.status, 200, again.text);
  assert.equal(Object.keys(snapshot(backups)).length, 2);
  assert.match(readFileSync(path.join(etc, 'extensions.conf'), 'utf8'), /\[c2\]/);
});
