// The systemd unit (deploy/asterisk-gateway.service) is checked by systemd itself: `systemd-analyze verify` must print
// nothing, a broken copy must make it complain, and `systemd-analyze security --offline=yes` must score it below
// EXPOSURE_MAX. The example gateway.yaml and manager.conf must fit together and pass the gateway's config schema.
// systemd-analyze comes with Debian's systemd package (test/systemd/provision.sh installs it as root); without it
// these tests are skipped with the reason, and fail under CI=true.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseConfig } from '../../core/config.ts';
import { BUILTIN_PLUGINS } from '../../core/plugins/builtin.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const UNIT = path.join(ROOT, 'deploy/asterisk-gateway.service');
const EXEC_START = 'ExecStart=/usr/local/bin/asterisk-gateway --config /etc/asterisk-gateway/gateway.yaml';
/** Measured with systemd 252 (Debian 12): 1.4. The bar leaves room for another systemd's weights, not for a lost setting. */
const EXPOSURE_MAX = 2.0;

const ANALYZE = ['/usr/bin/systemd-analyze', '/bin/systemd-analyze'].find((p) => spawnSync(p, ['--version']).status === 0);
function skip(): string | false {
  if (ANALYZE) return false;
  if (process.env.CI === 'true') throw new Error('CI=true: systemd-analyze is missing (test/systemd/provision.sh installs it)');
  return 'systemd-analyze is not installed (run test/systemd/provision.sh as root)';
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'gw-unit-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/**
 * The unit with ExecStart pointing at a real executable in the temp dir (verify checks that the binary exists);
 * asserts that this is the only line changed.
 */
function unitCopy(name: string, edit: (text: string) => string = (t) => t): string {
  const original = readFileSync(UNIT, 'utf8');
  const fake = path.join(dir, 'asterisk-gateway');
  writeFileSync(fake, '#!/bin/sh\nexit 0\n');
  chmodSync(fake, 0o755);
  const substituted = original.replace(EXEC_START, `ExecStart=${fake} --config /etc/asterisk-gateway/gateway.yaml`);
  const before = original.split('\n');
  const changed = substituted.split('\n').flatMap((line, i) => (line === before[i] ? [] : [line]));
  assert.deepEqual(changed, [`ExecStart=${fake} --config /etc/asterisk-gateway/gateway.yaml`], 'only the ExecStart line is substituted');
  const file = path.join(dir, name);
  writeFileSync(file, edit(substituted));
  return file;
}

function analyze(...args: string[]) {
  const r = spawnSync(ANALYZE!, args, { cwd: dir, encoding: 'utf8', env: { ...process.env, SYSTEMD_LOG_COLOR: '0', NO_COLOR: '1' } });
  assert.equal(r.error, undefined);
  return { status: r.status, stdout: r.stdout, stderr: r.stderr.trim() };
}

test('systemd-analyze verify: the unit is clean', { skip: skip() }, () => {
  const r = analyze('verify', unitCopy('asterisk-gateway.service'));
  assert.equal(r.stderr, '', 'systemd-analyze verify printed warnings');
  assert.equal(r.status, 0);
});

test('systemd-analyze verify complains about a misspelt key, a bad value and a missing binary', { skip: skip() }, () => {
  const typo = analyze(
    'verify',
    unitCopy('typo.service', (t) => t.replace('\nProtectSystem=strict\n', '\nProtectSytem=strict\n')),
  );
  assert.match(typo.stderr, /Unknown key '?ProtectSytem'? in section '?\[?Service\]?'?/);
  const value = analyze(
    'verify',
    unitCopy('value.service', (t) => t.replace('\nRestartSec=2\n', '\nRestartSec=two seconds\n')),
  );
  assert.match(value.stderr, /value\.service:\d+: Failed to parse sec value, ignoring: two seconds/);
  const missing = analyze(
    'verify',
    unitCopy('missing.service', (t) => t.replace(/^ExecStart=\S+/m, 'ExecStart=/nonexistent/asterisk-gateway')),
  );
  assert.match(missing.stderr, /\/nonexistent\/asterisk-gateway/);
  assert.notEqual(missing.status, 0);
});

test('the unit has the hardening it promises', () => {
  const text = readFileSync(UNIT, 'utf8');
  const keys = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (m) keys.set(m[1]!, [...(keys.get(m[1]!) ?? []), m[2]!]);
  }
  const one = (k: string) => keys.get(k)?.join('\n');
  assert.equal(one('User'), 'asterisk-gateway');
  assert.equal(one('Group'), 'asterisk-gateway');
  assert.equal(one('SupplementaryGroups'), 'asterisk');
  assert.equal(one('ProtectSystem'), 'strict');
  assert.equal(one('ReadWritePaths'), '/etc/asterisk /var/lib/asterisk-gateway');
  assert.equal(one('StateDirectory'), 'asterisk-gateway');
  assert.equal(one('CapabilityBoundingSet'), '');
  assert.equal(one('AmbientCapabilities'), '');
  assert.equal(one('NoNewPrivileges'), 'yes');
  assert.equal(one('UMask'), '0027');
  assert.equal(one('KillSignal'), 'SIGTERM');
  assert.equal(one('ExecReload'), '/bin/kill -HUP $MAINPID');
  assert.equal(one('RestrictAddressFamilies'), 'AF_UNIX AF_INET AF_INET6');
  assert.equal(keys.has('MemoryDenyWriteExecute'), false, 'Node and Bun JIT-compile: they need W+X memory');
  assert.equal(keys.has('PrivateUsers'), false, 'it would unmap the asterisk group');
});

test(`systemd-analyze security --offline=yes: exposure below ${EXPOSURE_MAX}`, { skip: skip() }, (t) => {
  const help = analyze('security', '--help');
  if (!/--offline/.test(help.stdout)) return t.skip('this systemd-analyze has no --offline');
  const r = analyze('security', '--offline=yes', '--no-pager', unitCopy('asterisk-gateway.service'));
  const m = /Overall exposure level for asterisk-gateway\.service: (\d+(?:\.\d+)?)/.exec(r.stdout);
  assert.ok(m, `no exposure level in:\n${r.stdout}\n${r.stderr}`);
  const score = Number(m[1]);
  t.diagnostic(`exposure ${score}`);
  assert.ok(score < EXPOSURE_MAX, `exposure ${score} is not below ${EXPOSURE_MAX}`);
  // The same copy without its hardening scores far worse: the number measures these settings.
  const bare = analyze(
    'security',
    '--offline=yes',
    '--no-pager',
    unitCopy('bare.service', (t) => t.replace(/\n# Hardening\.[\s\S]*?\n\[Install\]/, '\n[Install]')),
  );
  const b = /Overall exposure level for bare\.service: (\d+(?:\.\d+)?)/.exec(bare.stdout);
  assert.ok(b && Number(b[1]) > score + 3, `without hardening: ${b?.[1]}`);
});

test('gateway.example.yaml passes the config schema and names the manager.conf.example user', () => {
  const yaml = readFileSync(path.join(ROOT, 'deploy/gateway.example.yaml'), 'utf8');
  const known = BUILTIN_PLUGINS.map((p) => p.name);
  const c = parseConfig(yaml, '/etc/asterisk-gateway/gateway.yaml', known, { AMI_SECRET: 's3cret', GATEWAY_ADMIN_PASSWORD: 'pw' });
  assert.equal(c.data_dir, '/var/lib/asterisk-gateway');
  assert.equal(c.asterisk.config_dir, '/etc/asterisk');
  assert.equal(c.ami.secret, 's3cret');
  // every plugin that needs nothing but Asterisk; nats needs a broker of the operator's (README: Fleets)
  assert.deepEqual([...c.plugins].sort(), known.filter((p) => p !== 'nats').sort(), 'every plugin but nats');
  assert.throws(() => parseConfig(yaml, '/etc/asterisk-gateway/gateway.yaml', known, {}), /AMI_SECRET is not set/);
  const manager = readFileSync(path.join(ROOT, 'deploy/manager.conf.example'), 'utf8');
  const section = new RegExp(`^\\[${c.ami.username}\\]\\n([^[]*)`, 'm').exec(manager);
  assert.ok(section, `manager.conf.example has no [${c.ami.username}]`);
  assert.match(section[1]!, /^permit = 127\.0\.0\.1\/255\.255\.255\.255$/m);
  assert.match(manager, new RegExp(`^port = ${c.ami.port}$`, 'm'));
});
