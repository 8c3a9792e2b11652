// Safe config changes against a real Asterisk 22 (issue 12): text Asterisk would skip and names no path can address
// are refused and change nothing; a dry run returns the diff and leaves the file and Asterisk as they were; a write
// res_pjsip or res_parking refuses is rolled back (422 reload_rejected, the file byte-identical, the earlier objects
// still listed); three writes with ?reload=later and one apply make one reload per module.
//
// What res_pjsip does on Asterisk 22 (checked here, see the last test): an endpoint whose aors name no AOR, or whose
// transport does not exist, is loaded anyway (listed, only unusable), so there is nothing to roll back; an endpoint
// with an unknown option or a value of the wrong type (rtp_timeout=abc) is not created ("Could not create an object
// of type 'endpoint'") while the reload still answers "Module reloaded.": the gateway sees it missing and rolls back.
//
// Run: flock /tmp/asterisk-test.lock node --import tsx --test --test-concurrency=1 test/integration/config-safe.test.ts
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { configFiles, useBed } from '../support/bed.ts';
import { TESTBED } from '../asterisk/testbed.ts';

const { skip, bed } = useBed({ plugins: ['core', 'dialplan', 'park', 'queue', 'pjsip'] });

const { file, bytes, text } = configFiles(bed);
const backups = () => (existsSync(path.join(bed.dataDir, 'backups')) ? readdirSync(path.join(bed.dataDir, 'backups')).sort() : []);

/** The endpoint names `pjsip show endpoints` lists. */
async function endpoints(): Promise<string[]> {
  const out = await bed.asterisk.cli('pjsip show endpoints');
  return [...out.matchAll(/^\s*Endpoint:\s+(\S+)/gm)].map((m) => m[1]!).filter((n) => !n.startsWith('<'));
}

async function lots(): Promise<string[]> {
  const out = await bed.asterisk.cli('parking show');
  return [...out.matchAll(/^Parking Lot: (\S+)/gm)].map((m) => m[1]!);
}

test('null, { and a JSON document as text are refused (400, line 1) and change nothing; so is a name no path can address', {
  skip,
}, async () => {
  const before = bytes('extensions.conf');
  const bk = backups();
  const json = JSON.stringify({ data: '[general]\nstatic=yes\n' }, null, 2);
  for (const body of ['null', '{', json]) {
    const a = await bed.api.put('/v1/admin/dialplan/configurations/extensions.conf', body, { 'content-type': 'text/plain' });
    assert.equal(a.status, 400, a.text);
    assert.match(a.body.result.message, /^extensions\.conf line 1: No '=' \(equal sign\) in line 1/);
  }
  assert.ok(bytes('extensions.conf').equals(before), 'extensions.conf byte-identical');
  assert.match(await bed.asterisk.cli(`dialplan show ${TESTBED.contexts.wait}`), /Answer\(\)/, "Asterisk's dialplan as before");

  const parkBefore = bytes('res_parking.conf');
  const p = await bed.api.post('/v1/admin/park/cfg_parkinglots', { name: '../../etc/passwd', data: {} });
  assert.equal(p.status, 400, p.text);
  assert.equal(p.body.result.code, 'invalid_field');
  assert.equal(p.body.result.field, 'name');
  const q = await bed.api.put(`/v1/admin/park/parkinglots/${encodeURIComponent(' padded')}`, { parkpos: '901-902' });
  assert.equal(q.status, 400, q.text);
  assert.ok(bytes('res_parking.conf').equals(parkBefore), 'res_parking.conf byte-identical');
  assert.deepEqual(backups(), bk, 'no backup made');
});

test("a dry run returns the diff and the reload, and leaves the file's bytes, mtime and Asterisk unchanged", { skip }, async () => {
  const was = bytes('pjsip.conf');
  const mtime = statSync(file('pjsip.conf')).mtimeMs;
  const bk = backups();
  const next = `${text('pjsip.conf')}\n[gw-dry]\ntype = endpoint\ncontext = ${TESTBED.contexts.wait}\n`;
  const a = await bed.api.put('/v1/admin/pjsip/configurations/pjsip.conf?dry_run=true', { data: next });
  assert.equal(a.status, 200, a.text);
  assert.equal(a.body.result.dry_run, true);
  assert.equal(a.body.result.reload, 'module reload res_pjsip.so');
  assert.match(a.body.result.diff, /^--- a\/pjsip\.conf\n\+\+\+ b\/pjsip\.conf\n@@ .* @@\n/);
  assert.match(a.body.result.diff, /\n\+\[gw-dry\]\n\+type = endpoint\n/);
  // a parking lot through the plugin's own route, and a queue section
  const lot = await bed.api.put('/v1/admin/park/parkinglots/gwdrylot?dry_run=true', { parkpos: '951-952' });
  assert.equal(lot.status, 200, lot.text);
  assert.match(lot.body.result.diff, /\+\[gwdrylot\]/);
  const qu = await bed.api.post('/v1/admin/queue/cfg_queues?dry_run=true', { name: 'gw-dry-q', data: [{ strategy: 'ringall' }] });
  assert.match(qu.body.result.diff, /\+\[gw-dry-q\]/);
  assert.ok(bytes('pjsip.conf').equals(was));
  assert.equal(statSync(file('pjsip.conf')).mtimeMs, mtime);
  assert.deepEqual(backups(), bk, 'no backup');
  assert.ok(!(await endpoints()).includes('gw-dry'), 'Asterisk does not know the endpoint');
  assert.ok(!(await lots()).includes('gwdrylot'));
  assert.doesNotMatch(await bed.asterisk.cli('queue show gw-dry-q'), /strategy/);
});

test('a whole-file write: unknown options and wrong types are refused before writing; an endpoint res_pjsip refuses is rolled back (422, file byte-identical, earlier endpoints listed)', {
  skip,
}, async () => {
  const listedBefore = await endpoints();
  assert.ok(listedBefore.includes(TESTBED.pjsip.endpoint), listedBefore.join());
  // caught by the option check against Asterisk's own lists: 400, nothing written, nothing reloaded
  for (const [name, bad, code] of [
    ['gw-bad-opt', 'bogus_option = yes', 'unknown_option'],
    ['gw-bad-int', 'rtp_timeout = abc', 'invalid_field'],
  ] as const) {
    const before = bytes('pjsip.conf');
    const a = await bed.api.put('/v1/admin/pjsip/configurations/pjsip.conf', {
      data: `${text('pjsip.conf')}\n[${name}]\ntype = endpoint\ncontext = ${TESTBED.contexts.wait}\n${bad}\n`,
    });
    assert.equal(a.status, 400, a.text);
    assert.equal(a.body.result.code, code);
    assert.ok(bytes('pjsip.conf').equals(before), 'pjsip.conf untouched');
  }
  // what passes the option check but res_pjsip still refuses (a codec it does not know): written, reloaded, not
  // listed, rolled back
  const name = 'gw-bad-codec';
  const before = bytes('pjsip.conf');
  const a = await bed.api.put('/v1/admin/pjsip/configurations/pjsip.conf', {
    data: `${text('pjsip.conf')}\n[${name}]\ntype = endpoint\ncontext = ${TESTBED.contexts.wait}\nallow = nosuchcodec\n`,
  });
  assert.equal(a.status, 422, a.text);
  assert.equal(a.body.result.code, 'reload_rejected');
  assert.match(
    a.body.result.errors[0],
    new RegExp(`endpoint "${name}" was written to pjsip\\.conf, but after the reload Asterisk does not list it`),
  );
  assert.equal(a.body.result.reload.status, 'done', 'the reload itself answers success: only the listing shows the refusal');
  assert.equal(a.body.result.reload_after_restore.status, 'done');
  // Asterisk's own words, read from its log (asterisk.log_file) between the reload and the check
  assert.ok(
    (a.body.result.asterisk_log as string[]).some((l) => /\b(ERROR|WARNING)\[/.test(l) && /nosuchcodec|allow/.test(l)),
    `Asterisk's log lines name the codec: ${JSON.stringify(a.body.result.asterisk_log)}`,
  );
  assert.ok(bytes('pjsip.conf').equals(before), 'pjsip.conf byte-identical to before');
  assert.deepEqual(await endpoints(), listedBefore, 'the earlier endpoints are still listed');
  // one res_pjsip takes is written and stays
  const ok = await bed.api.put('/v1/admin/pjsip/configurations/pjsip.conf', {
    data: `${text('pjsip.conf')}\n[gw-good]\ntype = endpoint\ncontext = ${TESTBED.contexts.wait}\n`,
  });
  assert.equal(ok.status, 200, ok.text);
  assert.ok((await endpoints()).includes('gw-good'));
});

test('a trunk whose endpoint res_pjsip refuses (an unknown codec in allow), written through the trunk route, is rolled back', {
  skip,
}, async () => {
  const before = bytes('pjsip.conf');
  const listedBefore = await endpoints();
  const a = await bed.api.post('/v1/manager/trunks', {
    name: 'gw-bad-trunk',
    hostname: '127.0.0.9',
    context: TESTBED.contexts.wait,
    allow: 'nosuchcodec',
  });
  assert.equal(a.status, 422, a.text);
  assert.equal(a.body.result.code, 'reload_rejected');
  assert.match(a.body.result.errors[0], /endpoint "gw-bad-trunk"/);
  assert.ok(bytes('pjsip.conf').equals(before), 'pjsip.conf byte-identical');
  assert.deepEqual(await endpoints(), listedBefore);
});

test('a lot res_parking refuses, written through the section route, is rolled back: 422, file byte-identical, lots as before', {
  skip,
}, async () => {
  const before = bytes('res_parking.conf');
  const lotsBefore = await lots();
  const a = await bed.api.post('/v1/admin/park/cfg_parkinglots', { name: 'gwbadlot', data: { parkpos: 'abc' } });
  assert.equal(a.status, 422, a.text);
  assert.equal(a.body.result.code, 'reload_rejected');
  assert.equal(a.body.result.reload.status, 'failed');
  assert.match(a.body.result.errors[0], /Asterisk refused the reload of res_parking\.conf/);
  assert.ok(bytes('res_parking.conf').equals(before), 'res_parking.conf byte-identical');
  assert.deepEqual(await lots(), lotsBefore);
});

test('what res_pjsip does with a missing AOR or transport: it loads the endpoint, so the write stands', { skip }, async () => {
  const a = await bed.api.put('/v1/admin/pjsip/configurations/pjsip.conf', {
    data: `${text('pjsip.conf')}\n[gw-noaor]\ntype = endpoint\naors = gw-no-such-aor\ntransport = gw-no-such-transport\ncontext = ${TESTBED.contexts.wait}\n`,
  });
  assert.equal(a.status, 200, a.text);
  assert.ok((await endpoints()).includes('gw-noaor'), 'Asterisk 22 lists it (unusable, but loaded)');
});

test('three writes with reload=later and one apply make one reload per module; /v1/status lists them meanwhile', { skip }, async () => {
  // Asterisk's own count: a Reload event per module reload (main/loader.c), seen on a session of our own
  const watch = await bed.asterisk.ami({ events: 'system' });
  const reloads = () => watch.events.filter((e) => e.Event === 'Reload').map((e) => e.Module);
  const a = await bed.api.post('/v1/admin/queue/cfg_queues?reload=later', { name: 'gw-later-1', data: [{ strategy: 'ringall' }] });
  const b = await bed.api.post('/v1/admin/queue/cfg_queues?reload=later', { name: 'gw-later-2', data: [{ strategy: 'ringall' }] });
  const c = await bed.api.put('/v1/admin/park/parkinglots/gwlaterlot?reload=later', { parkpos: '961-962' });
  for (const r of [a, b]) {
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.result.reload.status, 'later');
  }
  assert.equal(c.status, 200, c.text);
  assert.equal(c.body.result.reload.status, 'later');
  assert.match(text('queues.conf'), /\[gw-later-2\]/, 'written');
  assert.doesNotMatch(await bed.asterisk.cli('queue show gw-later-1'), /strategy/, 'not reloaded yet');
  const status = await bed.api.get('/v1/status');
  assert.deepEqual(
    status.body.result.config.unapplied.map((u: { name: string }) => u.name),
    ['queues.conf', 'res_parking.conf'],
  );
  const applied = await bed.api.post('/v1/admin/config/apply', {});
  assert.equal(applied.status, 200, applied.text);
  assert.deepEqual(
    applied.body.result.list.map((x: { module: string; files: string[]; reload: { status: string } }) => [
      x.module,
      x.files,
      x.reload.status,
    ]),
    [
      ['module reload app_queue.so', ['queues.conf'], 'done'],
      ['module reload res_parking.so', ['res_parking.conf'], 'done'],
    ],
  );
  assert.match(await bed.asterisk.cli('queue show gw-later-2'), /strategy/);
  assert.ok((await lots()).includes('gwlaterlot'));
  assert.deepEqual((await bed.api.get('/v1/status')).body.result.config.unapplied, []);
  await new Promise((r) => setTimeout(r, 500));
  try {
    assert.deepEqual(reloads().sort(), ['app_queue.so', 'res_parking.so'], 'Asterisk reloaded each module exactly once, at apply');
  } finally {
    watch.close();
  }
});
