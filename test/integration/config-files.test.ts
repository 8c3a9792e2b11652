// Config files over REST against a real Asterisk 22: a context made through sdps is in Asterisk's dialplan, a parking
// lot made through cfg_parkinglots is in its Parkinglots, a queue made through cfg_queues is in its QueueStatus, a
// pjsip.conf PUT reaches res_pjsip; the admin's hand-written comments stay; a stale If-Match is 412 and the file is
// byte-identical afterwards.
//
// Run: node --import tsx --test --test-concurrency=1 test/integration/config-files.test.ts
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { configFiles, useBed } from '../support/bed.ts';
import { eventually } from '../support/http.ts';
import { TESTBED } from '../asterisk/testbed.ts';

const { skip, bed } = useBed({ plugins: ['core', 'dialplan', 'park', 'queue', 'pjsip'] });

/** The test bed writes this at the top of every config file it makes. */
const HAND_WRITTEN = '; hand-written by the admin: keep me\n';

const { file, bytes, text } = configFiles(bed);

function assertHandWritten(name: string): void {
  assert.ok(text(name).startsWith(HAND_WRITTEN), `${name} still starts with the admin's hand-written comment`);
}

test("a context created through sdps is in Asterisk's dialplan; PUT and DELETE follow", { skip }, async () => {
  const ctx = 'gw-cfg-ctx';
  const a = await bed.api.post('/v1/admin/dialplan/sdps', {
    name: ctx,
    data: [{ exten: '> _X.,1,NoOp(gw-cfg first)' }, { same: '> n,Hangup()' }],
  });
  assert.equal(a.status, 200, a.text);
  assert.equal(a.body.result.reload.status, 'done', JSON.stringify(a.body.result.reload));
  let shown = await bed.asterisk.cli(`dialplan show ${ctx}`);
  assert.match(shown, new RegExp(`\\[ Context '${ctx}' created by 'pbx_config' \\]`));
  assert.match(shown, /NoOp\(gw-cfg first\)/);
  assert.match(shown, /Hangup\(\)/);
  assert.deepEqual((await bed.api.get(`/v1/admin/dialplan/sdps/${ctx}`)).body.result, {
    name: ctx,
    data: [{ exten: '> _X.,1,NoOp(gw-cfg first)' }, { same: '> n,Hangup()' }],
  });

  // managers edit the same contexts
  const p = await bed.api.put(`/v1/manager/sdialplans/${ctx}`, {
    data: [{ exten: '> _X.,1,NoOp(gw-cfg second)' }, { same: '> n,Wait(1)' }, { same: '> n,Hangup()' }],
  });
  assert.equal(p.status, 200, p.text);
  assert.equal(p.body.result.reload.status, 'done');
  shown = await bed.asterisk.cli(`dialplan show ${ctx}`);
  assert.match(shown, /NoOp\(gw-cfg second\)/);
  assert.match(shown, /Wait\(1\)/);
  assert.doesNotMatch(shown, /gw-cfg first/);
  // the test bed's own contexts are all still there
  for (const c of Object.values(TESTBED.contexts)) {
    assert.match(await bed.asterisk.cli(`dialplan show ${c}`), new RegExp(`Context '${c}'`), c);
  }

  const d = await bed.api.del(`/v1/admin/dialplan/sdps/${ctx}`);
  assert.equal(d.status, 200, d.text);
  assert.equal(d.body.result.reload.status, 'done');
  assert.match(await bed.asterisk.cli(`dialplan show ${ctx}`), /There is no existence of '.*' context|no such context/i);
  assertHandWritten('extensions.conf');
  assert.match(text('extensions.conf'), /; answers and waits ten minutes\n/, 'comments inside contexts stay too');
});

test("a parking lot created through cfg_parkinglots is in Asterisk's Parkinglots", { skip }, async () => {
  const lot = 'gwcfglot';
  const a = await bed.api.post('/v1/admin/park/cfg_parkinglots', {
    name: lot,
    data: { parkpos: '901-910', context: 'parkedcalls-cfg', parkingtime: '30' },
  });
  assert.equal(a.status, 200, a.text);
  assert.equal(a.body.result.reload.status, 'done', JSON.stringify(a.body.result.reload));
  const theirs = await eventually(
    async () => (await bed.gateway.ami.list('Parkinglots')).events.find((m) => m.fields.Event === 'Parkinglot' && m.fields.Name === lot),
    10000,
    `lot ${lot} in Parkinglots`,
  );
  assert.equal(theirs!.fields.StartSpace, '901');
  assert.equal(theirs!.fields.StopSpace, '910');
  assert.equal(theirs!.fields.Timeout, '30');
  // the existing lots are untouched, in the file and in Asterisk
  const names = (await bed.gateway.ami.list('Parkinglots')).events.filter((m) => m.fields.Event === 'Parkinglot').map((m) => m.fields.Name);
  for (const l of Object.values(TESTBED.lots)) assert.ok(names.includes(l.name), l.name);
  const list = (await bed.api.get('/v1/admin/park/cfg_parkinglots')).body.result.list;
  assert.deepEqual(list.find((s: any) => s.name === 'gwlot').data, {
    parkpos: '801-810',
    context: 'parkedcalls-gw',
    parkingtime: '8',
    comebacktoorigin: 'no',
    comebackcontext: TESTBED.contexts.parkTimeout,
  });

  const u = await bed.api.put(`/v1/admin/park/cfg_parkinglots/${lot}`, {
    data: { parkpos: '901-905', context: 'parkedcalls-cfg', parkingtime: '30' },
  });
  assert.equal(u.status, 200, u.text);
  await eventually(
    async () => (await bed.gateway.ami.list('Parkinglots')).events.find((m) => m.fields.Name === lot)?.fields.StopSpace === '905',
    10000,
    'lot resized',
  );
  assertHandWritten('res_parking.conf');
});

test("a queue created through cfg_queues is in Asterisk's QueueStatus, with its members", { skip }, async () => {
  const q = 'gwcfgq';
  const member = TESTBED.staticMember.interface;
  const a = await bed.api.post('/v1/admin/queue/cfg_queues', {
    name: q,
    data: [
      { strategy: 'ringall' },
      { timeout: '15' },
      { member: `> ${member},0,Cfg One` },
      { member: '> Local/101@gw-test-member/n,0,Cfg Two' },
    ],
  });
  assert.equal(a.status, 200, a.text);
  assert.equal(a.body.result.reload.status, 'done', JSON.stringify(a.body.result.reload));
  const status = async () => {
    const r = await bed.gateway.ami.list('QueueStatus', { Queue: q });
    return {
      params: r.events.find((m) => m.fields.Event === 'QueueParams' && m.fields.Queue === q),
      members: r.events.filter((m) => m.fields.Event === 'QueueMember' && m.fields.Queue === q),
    };
  };
  const s = await eventually(async () => ((await status()).params ? status() : undefined), 10000, `queue ${q} in QueueStatus`);
  assert.equal(s!.params!.fields.Strategy, 'ringall');
  assert.deepEqual(s!.members.map((m) => m.fields.Name).sort(), ['Cfg One', 'Cfg Two']);

  // object form to a queue with repeated member lines: 409, and nothing changes
  const before = bytes('queues.conf');
  const refused = await bed.api.put(`/v1/admin/queue/cfg_queues/${q}`, { data: { strategy: 'leastrecent', member: member } });
  assert.equal(refused.status, 409, refused.text);
  assert.ok(bytes('queues.conf').equals(before));

  // array form: drop one member, keep the other line as it is
  const u = await bed.api.put(`/v1/admin/queue/cfg_queues/${q}`, {
    data: [{ strategy: 'ringall' }, { timeout: '15' }, { member: `> ${member},0,Cfg One` }],
  });
  assert.equal(u.status, 200, u.text);
  await eventually(async () => (await status()).members.length === 1, 10000, 'member removed by reload');
  assertHandWritten('queues.conf');
  // the test bed's queues are still there
  const all = (await bed.gateway.ami.list('QueueStatus')).events.filter((m) => m.fields.Event === 'QueueParams').map((m) => m.fields.Queue);
  for (const name of Object.values(TESTBED.queues)) assert.ok(all.includes(name), name);
});

test('pjsip.conf: a whole-file PUT is validated, backed up and reaches res_pjsip', { skip }, async () => {
  const base = '/v1/admin/pjsip/configurations';
  const cur = await bed.api.get(`${base}/pjsip.conf`);
  assert.equal(cur.status, 200, cur.text);
  const next = `${cur.body.result.data}\n; added through the gateway\n[gw-ep2]\ntype = endpoint\ncontext = ${TESTBED.contexts.wait}\ndisallow = all\nallow = ulaw\n`;
  // unparsable text: 400 naming the line, file unchanged
  const before = bytes('pjsip.conf');
  const bad = await bed.api.put(`${base}/pjsip.conf`, { data: `${next}[gw-ep3\ntype = endpoint\n` });
  assert.equal(bad.status, 400, bad.text);
  assert.match(bad.body.result.message, /line \d+/);
  assert.ok(bytes('pjsip.conf').equals(before));

  const a = await bed.api.put(`${base}/pjsip.conf`, { data: next }, { 'if-match': cur.headers.get('etag')! });
  assert.equal(a.status, 200, a.text);
  assert.equal(a.body.result.reload.status, 'done', JSON.stringify(a.body.result.reload));
  assert.equal(text('pjsip.conf'), next);
  await eventually(async () => /gw-ep2/.test(await bed.asterisk.cli('pjsip show endpoints')), 10000, 'gw-ep2 in pjsip show endpoints');
  const list = (await bed.api.get(base)).body.result.list;
  assert.equal(list[0].name, 'pjsip.conf');
  assert.ok(list.some((x: any) => x.name === a.body.result.backup && x.data === before.toString()));
  assertHandWritten('pjsip.conf');
});

test('a stale If-Match is 412 and leaves every file byte-identical', { skip }, async () => {
  for (const [base, name, put] of [
    ['/v1/admin/dialplan/sdps', 'extensions.conf', { path: `/${TESTBED.contexts.wait}`, body: { data: [{ exten: '> _X.,1,Hangup()' }] } }],
    ['/v1/admin/park/cfg_parkinglots', 'res_parking.conf', { path: '/gwlot', body: { data: { parkpos: '801-802' } } }],
    ['/v1/admin/queue/cfg_queues', 'queues.conf', { path: `/${TESTBED.queues.hold}`, body: { data: [{ strategy: 'leastrecent' }] } }],
    ['/v1/admin/pjsip/configurations', 'pjsip.conf', { path: '/pjsip.conf', body: { data: '[x]\ntype = aor\n' } }],
    ['/v1/admin/dialplan/configurations', 'extensions.conf', { path: '/extensions.conf', body: { data: '[x]\n' } }],
  ] as const) {
    const got = await bed.api.get(`${base}${put.path}`);
    assert.equal(got.status, 200, got.text);
    const etag = got.headers.get('etag')!;
    assert.match(etag, /^"[0-9a-f]{64}"$/);
    // someone edits the file by hand after our GET
    writeFileSync(file(name), `${text(name)}; touched by hand\n`);
    const before = bytes(name);
    const a = await bed.api.put(`${base}${put.path}`, put.body, { 'if-match': etag });
    assert.equal(a.status, 412, `${base}${put.path}: ${a.text}`);
    assert.ok(bytes(name).equals(before), `${name} unchanged after a 412`);
    const d = await bed.api.del(`${base}${put.path}`, undefined, { 'if-match': etag });
    assert.ok(d.status === 412 || d.status === 400, `${base}${put.path} DELETE: ${d.text}`);
    assert.ok(bytes(name).equals(before), `${name} unchanged after a refused DELETE`);
    assertHandWritten(name);
  }
});
