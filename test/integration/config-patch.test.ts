// PATCH of config sections and Asterisk's own option lists, against a real Asterisk 22: a PATCH of one key of a queue
// with three member => lines and a comment changes exactly that line of queues.conf and Asterisk follows; a parking
// lot PATCH keeps the options not given.
//
// Run: flock /tmp/asterisk-test.lock node --import tsx --test --test-concurrency=1 test/integration/config-patch.test.ts
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configFiles, useBed } from '../support/bed.ts';
import { eventually } from '../support/http.ts';
import { TESTBED } from '../asterisk/testbed.ts';

const { skip, bed } = useBed({ plugins: ['core', 'dialplan', 'park', 'queue', 'pjsip'] });

const { text } = configFiles(bed);

/** The lines that differ between two texts of the same length in lines: [line number, before, after]. */
function changedLines(a: string, b: string): [number, string, string][] {
  const x = a.split('\n');
  const y = b.split('\n');
  assert.equal(y.length, x.length, 'same number of lines');
  return x.flatMap((l, i) => (l === y[i] ? [] : [[i + 1, l, y[i]!] as [number, string, string]]));
}

async function queueParams(q: string) {
  const r = await bed.gateway.ami.list('QueueStatus', { Queue: q });
  return {
    params: r.events.find((m) => m.fields.Event === 'QueueParams' && m.fields.Queue === q),
    members: r.events.filter((m) => m.fields.Event === 'QueueMember' && m.fields.Queue === q),
  };
}

test('PATCH of one key of a queue with three member => lines and a comment changes exactly one line', { skip }, async () => {
  const q = 'gwpatchq';
  const member = TESTBED.staticMember.interface;
  // the queue as an admin wrote it by hand: a comment, three members, a trailing comment on one of them
  const base = '/v1/admin/queue/configurations/queues.conf';
  const cur = (await bed.api.get(base)).body.result.data as string;
  const section =
    `\n; ---- the patch test queue, written by hand ----\n[${q}]\nstrategy = ringall ; everyone at once\n` +
    `member => ${member},0,Patch One\nmember => Local/101@gw-test-member/n,0,Patch Two ; mornings\n` +
    `member => Local/102@gw-test-member/n,0,Patch Three\ntimeout = 15\n`;
  const put = await bed.api.put(base, { data: cur + section });
  assert.equal(put.status, 200, put.text);
  assert.equal(put.body.result.reload.status, 'done', JSON.stringify(put.body.result.reload));
  const s0 = await eventually(async () => ((await queueParams(q)).params ? queueParams(q) : undefined), 10000, `queue ${q}`);
  assert.equal(s0!.params!.fields.Strategy, 'ringall');
  assert.equal(s0!.members.length, 3);

  const before = text('queues.conf');
  const a = await bed.api.patch(`/v1/admin/queue/cfg_queues/${q}`, { data: { strategy: 'leastrecent' } });
  assert.equal(a.status, 200, a.text);
  assert.equal(a.body.result.reload.status, 'done', JSON.stringify(a.body.result.reload));
  const after = text('queues.conf');
  const changed = changedLines(before, after);
  assert.equal(changed.length, 1, JSON.stringify(changed));
  assert.deepEqual(changed[0]!.slice(1), ['strategy = ringall ; everyone at once', 'strategy = leastrecent ; everyone at once']);
  // Asterisk took it, and still has the three members
  const s1 = await eventually(
    async () => {
      const s = await queueParams(q);
      return s.params?.fields.Strategy === 'leastrecent' ? s : undefined;
    },
    10000,
    'strategy leastrecent in QueueStatus',
  );
  assert.deepEqual(s1!.members.map((m) => m.fields.Name).sort(), ['Patch One', 'Patch Three', 'Patch Two']);

  // a member's penalty through the array form: that one line changes, its comment stays
  const b = await bed.api.patch(`/v1/admin/queue/cfg_queues/${q}`, {
    data: { member: [`${member},0,Patch One`, 'Local/101@gw-test-member/n,3,Patch Two', 'Local/102@gw-test-member/n,0,Patch Three'] },
  });
  assert.equal(b.status, 200, b.text);
  assert.deepEqual(
    changedLines(after, text('queues.conf')).map((c) => c.slice(1)),
    [['member => Local/101@gw-test-member/n,0,Patch Two ; mornings', 'member => Local/101@gw-test-member/n,3,Patch Two ; mornings']],
  );
  await eventually(
    async () => (await queueParams(q)).members.find((m) => m.fields.Name === 'Patch Two')?.fields.Penalty === '3',
    10000,
    'penalty 3 in QueueStatus',
  );
  // clean up
  assert.equal((await bed.api.del(`/v1/admin/queue/cfg_queues/${q}`)).status, 200);
});

test('PATCH of a parking lot keeps the options not given (PUT would drop them)', { skip }, async () => {
  const lot = 'gwpatchlot';
  const a = await bed.api.post('/v1/admin/park/cfg_parkinglots', {
    name: lot,
    data: { parkext: '780', parkpos: '781-785', context: 'gw-patch-park', parkingtime: '40' },
  });
  assert.equal(a.status, 200, a.text);
  const before = text('res_parking.conf');
  const p = await bed.api.patch(`/v1/admin/park/parkinglots/${lot}`, { parkingtime: 90 });
  assert.equal(p.status, 200, p.text);
  assert.equal(p.body.result.reload.status, 'done', JSON.stringify(p.body.result.reload));
  assert.deepEqual(
    changedLines(before, text('res_parking.conf')).map((c) => c.slice(1)),
    [['parkingtime = 40', 'parkingtime = 90']],
  );
  const lots = await eventually(
    async () => {
      const r = await bed.gateway.ami.list('Parkinglots');
      const l = r.events.find((m) => m.fields.Name === lot);
      return l?.fields.Timeout === '90' ? l : undefined;
    },
    10000,
    'lot timeout 90 in Parkinglots',
  );
  assert.equal(lots!.fields.StartSpace, '781');
  assert.equal((await bed.api.del(`/v1/admin/park/parkinglots/${lot}`)).status, 200);
});

test("pjsip.conf: an unknown option is refused with Asterisk's closest name, a bad boolean too; a known one reaches res_pjsip", {
  skip,
}, async () => {
  const before = text('pjsip.conf');
  const typo = await bed.api.post('/v1/admin/pjsip/cfg_sections', { name: 'gwopt1', data: { type: 'endpoint', allow_overlapp: 'no' } });
  assert.equal(typo.status, 400, typo.text);
  assert.equal(typo.body.result.code, 'unknown_option');
  assert.equal(typo.body.result.suggestion, 'allow_overlap');
  assert.match(typo.body.result.message, /"allow_overlapp" is not an option of res_pjsip endpoint.*did you mean "allow_overlap"\?/);
  const bool = await bed.api.post('/v1/admin/pjsip/cfg_sections', { name: 'gwopt1', data: { type: 'endpoint', allow_overlap: 'maybe' } });
  assert.equal(bool.status, 400, bool.text);
  assert.equal(bool.body.result.field, 'data.allow_overlap');
  assert.match(bool.body.result.message, /must be a boolean/);
  const uint = await bed.api.post('/v1/admin/pjsip/cfg_sections', { name: 'gwopt1', data: { type: 'aor', max_contacts: 'two' } });
  assert.equal(uint.status, 400, uint.text);
  assert.match(uint.body.result.message, /max_contacts = "two": must be an unsigned integer/);
  // a Custom option whose description lists its words: direct_media_method (invite, reinvite, update)
  const word = await bed.api.post('/v1/admin/pjsip/cfg_sections', {
    name: 'gwopt1',
    data: { type: 'endpoint', direct_media_method: 'sideways' },
  });
  assert.equal(word.status, 400, word.text);
  assert.match(word.body.result.message, /direct_media_method = "sideways": must be one of invite, reinvite, update/);
  // a type of another module: registration (res_pjsip_outbound_registration)
  const reg = await bed.api.post('/v1/admin/pjsip/cfg_sections', { name: 'gwopt1', data: { type: 'registration', retry_intervall: '60' } });
  assert.equal(reg.status, 400, reg.text);
  assert.equal(reg.body.result.suggestion, 'retry_interval');
  assert.equal(text('pjsip.conf'), before, 'refusals write nothing');

  const ok = await bed.api.post('/v1/admin/pjsip/cfg_sections', {
    name: 'gwopt1',
    data: {
      type: 'endpoint',
      allow_overlap: 'no',
      context: 'default',
      rtp_timeout: 30,
      dtmf_mode: 'rfc4733',
      direct_media_method: 'update',
    },
  });
  assert.equal(ok.status, 200, ok.text);
  assert.equal(ok.body.result.option_check.status, 'done', JSON.stringify(ok.body.result.option_check));
  assert.equal(ok.body.result.reload.status, 'done', JSON.stringify(ok.body.result.reload));
  await eventually(
    async () => /Endpoint:\s+gwopt1/.test(await bed.asterisk.cli('pjsip show endpoint gwopt1')),
    10000,
    'endpoint gwopt1 in res_pjsip',
  );
  assert.match(await bed.asterisk.cli('pjsip show endpoint gwopt1'), /allow_overlap\s+:\s+false/);
  assert.equal((await bed.api.del('/v1/admin/pjsip/cfg_sections/gwopt1')).status, 200);
});

test('res_parking.conf and queues.conf: unknown options and bad values are refused with the closest name; known ones pass', {
  skip,
}, async () => {
  const park = text('res_parking.conf');
  const p1 = await bed.api.post('/v1/admin/park/cfg_parkinglots', {
    name: 'gwoptlot',
    data: { parkext: '790', parkpos: '791-795', parkingtme: 45 },
  });
  assert.equal(p1.status, 400, p1.text);
  assert.equal(p1.body.result.code, 'unknown_option');
  assert.equal(p1.body.result.suggestion, 'parkingtime');
  const p2 = await bed.api.post('/v1/admin/park/cfg_parkinglots', {
    name: 'gwoptlot',
    data: { parkext: '790', parkpos: '791-795', comebacktoorigin: 'perhaps' },
  });
  assert.equal(p2.status, 400, p2.text);
  assert.match(p2.body.result.message, /comebacktoorigin = "perhaps": must be a boolean/);
  assert.equal(text('res_parking.conf'), park);
  const p3 = await bed.api.post('/v1/admin/park/cfg_parkinglots', {
    name: 'gwoptlot',
    data: { parkext: '790', parkpos: '791-795', context: 'gw-opt-park', parkingtime: 45, comebacktoorigin: 'no' },
  });
  assert.equal(p3.status, 200, p3.text);
  assert.equal(p3.body.result.option_check.status, 'done');
  assert.equal((await bed.api.del('/v1/admin/park/cfg_parkinglots/gwoptlot')).status, 200);

  const queues = text('queues.conf');
  for (const [data, code, re] of [
    [[{ strategy: 'ringall' }, { wrapuptme: '5' }], 'unknown_option', /did you mean "wrapuptime"/],
    [[{ strategy: 'ringall' }, { ringinuse: 'maybe' }], 'invalid_field', /ringinuse = "maybe": must be a boolean/],
    [[{ strategy: 'ringal' }], 'invalid_field', /must be one of ringall, leastrecent/],
  ] as const) {
    const r = await bed.api.post('/v1/admin/queue/cfg_queues', { name: 'gwoptq', data });
    assert.equal(r.status, 400, r.text);
    assert.equal(r.body.result.code, code);
    assert.match(r.body.result.message, re);
  }
  assert.equal(text('queues.conf'), queues);
  const q = await bed.api.post('/v1/admin/queue/cfg_queues', {
    name: 'gwoptq',
    data: [{ strategy: 'rrmemory' }, { ringinuse: 'no' }, { wrapuptime: '5' }],
  });
  assert.equal(q.status, 200, q.text);
  assert.equal(q.body.result.option_check.status, 'done');
  await eventually(async () => (await queueParams('gwoptq')).params?.fields.Strategy === 'rrmemory', 10000, 'queue gwoptq in QueueStatus');
  assert.equal((await bed.api.del('/v1/admin/queue/cfg_queues/gwoptq')).status, 200);
});

test('trunks: PATCH changes the fields given (null removes an optional one); the option check passes what the gateway writes', {
  skip,
}, async () => {
  const t = await bed.api.post('/v1/manager/trunks', {
    name: 'gwpatchtrunk',
    hostname: '192.0.2.44:5060',
    context: 'default',
    caller_id: '"Patch" <+15550001111>',
    from_domain: 'patch.example',
  });
  assert.equal(t.status, 200, t.text);
  assert.equal(t.body.result.reload.status, 'done', JSON.stringify(t.body.result.reload));
  await eventually(
    async () => /callerid\s+:\s+"Patch"/.test(await bed.asterisk.cli('pjsip show endpoint gwpatchtrunk')),
    10000,
    'res_pjsip has the callerid',
  );
  const before = text('pjsip.conf');
  const p = await bed.api.patch('/v1/manager/trunks/gwpatchtrunk', { caller_id: null, qualify_frequency: 0 });
  assert.equal(p.status, 200, p.text);
  assert.equal(p.body.result.reload.status, 'done');
  assert.equal(p.body.result.caller_id, '');
  assert.equal(p.body.result.from_domain, 'patch.example', 'a field not given keeps its value');
  const after = text('pjsip.conf');
  assert.ok(before.includes('callerid = "Patch" <+15550001111>\n') && !after.includes('callerid ='), 'the callerid line is gone');
  assert.equal(
    after,
    before
      .replace('callerid = "Patch" <+15550001111>\n', '')
      .replace(/(\[gwpatchtrunk\]\ntype = aor\n(?:.*\n)*?qualify_frequency = )60/, '$10'),
  );
  await eventually(
    async () => !/callerid\s+:\s+"Patch"/.test(await bed.asterisk.cli('pjsip show endpoint gwpatchtrunk')),
    10000,
    'res_pjsip dropped the callerid',
  );
  assert.equal((await bed.api.del('/v1/manager/trunks/gwpatchtrunk')).status, 200);
});
