// Option checks of section writes (core/config-routes/options.ts) without Asterisk: an AMI fake answers `config show
// help` in the shape Asterisk 22 prints it (copied from a real answer), and counts the commands, so the per-connection
// cache is checked too. queues.conf is checked from its fixed list, with or without AMI.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AmiNotConnectedError } from '../../core/ami/errors.ts';
import { parseConfig } from '../../core/config.ts';
import { ConfigFiles } from '../../core/config-files.ts';
import { ConfigOptionCatalog, closest, editDistance, valueProblem } from '../../core/config-routes/options.ts';
import { mountConfigRoutes, routeApp } from '../support/app.ts';
import type { client } from '../support/http.ts';
import { testLogger } from '../support/log.ts';

let dir: string;
let etc: string;
let api: ReturnType<typeof client>;
let catalog: ConfigOptionCatalog;
const failures: unknown[] = [];
const commands: string[] = [];
const fake = { connected: true };

/** Options per module:object, with their [Syntax] type, as Asterisk 22 lists them. */
const HELP: Record<string, Record<string, string>> = {
  'res_pjsip endpoint': {
    type: 'None',
    allow_overlap: 'Boolean',
    rtp_timeout: 'Unsigned Integer',
    context: 'String',
    direct_media_method: 'Custom invite reinvite update',
    identify_by: 'Custom username auth_username ip',
    '100rel': 'Custom no required yes',
    set_var: 'Custom',
  },
  'res_pjsip aor': { type: 'None', max_contacts: 'Unsigned Integer' },
  'res_pjsip_outbound_registration registration': { type: 'None', retry_interval: 'Unsigned Integer', server_uri: 'String' },
  'res_parking parking_lot': { parkext: 'String', parkpos: 'Custom', parkingtime: 'Unsigned Integer', comebacktoorigin: 'Boolean' },
  'res_parking globals': {},
};

async function command(cmd: string): Promise<string[]> {
  commands.push(cmd);
  if (!fake.connected) throw new AmiNotConnectedError();
  if (cmd === 'config show help')
    return [
      'The following modules have configuration information:',
      '\tres_hep',
      '\tres_pjsip_outbound_registration',
      '\tres_pjsip',
      '\tres_parking',
    ];
  if (cmd === 'config show help res_pjsip')
    return [
      'SIP Resource using PJProject',
      '',
      'Configuration option types for res_pjsip:',
      'endpoint                  -- Endpoint',
      'aor                       -- The configuration for a location of an endpoint',
    ];
  if (cmd === 'config show help res_pjsip_outbound_registration')
    return [
      'Configuration option types for res_pjsip_outbound_registration:',
      'registration              -- The configuration for outbound registration',
      '',
    ];
  const m = /^config show help (\S+) (\S+)(?: (\S+))?$/.exec(cmd);
  const opts = m && HELP[`${m[1]} ${m[2]}`];
  if (!m || !opts) return [`Module ${cmd.split(' ')[3]} not found or has no config XML documentation.`];
  if (m[3] === undefined) {
    return [
      '',
      `  -= Info about Config Object '${m[1]}:${m[2]}' =-`,
      '',
      '[Synopsis]',
      'x',
      '',
      ...(Object.keys(opts).length ? ['[Config Options]'] : []),
      ...Object.keys(opts).map((k) => `${k.padEnd(26)}-- about ${k}`),
    ];
  }
  const t = opts[m[3]];
  if (!t) return [`No option ${m[3]} found for ${m[1]}:${m[2]}`];
  // a Custom type lists its words in the description, as Asterisk prints them (with a continuation line that is no word)
  const [kind, ...words] = t.startsWith('Custom') ? t.split(' ') : [t];
  const description = ['[Description]', 'What it does.', ...words.map((w) => `    ${w} - about ${w}`), '    header.', ''];
  return [
    '',
    `  -= Info about Config Option '${m[1]}:${m[2]}:${m[3]}' =-`,
    '',
    ...description,
    '[Syntax]',
    `${m[3]} = [${kind}] (Default: ) (Regex: false)`,
    '',
  ];
}

const PJSIP = `; pjsip.conf: by hand
[tpl-ep](!)
type = endpoint
context = from-phones

[6001]
type = endpoint
hand_written_typo = kept ; the gateway never checks what it did not write
`;
const QUEUES = '[general]\npersistentmembers = yes\n\n[sales]\nstrategy = ringall\n';

const text = (f: string) => readFileSync(path.join(etc, f), 'utf8');

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'gw-cfgopts-'));
  etc = path.join(dir, 'etc');
  mkdirSync(etc);
  mkdirSync(path.join(dir, 'data'));
  writeFileSync(path.join(etc, 'pjsip.conf'), PJSIP);
  writeFileSync(path.join(etc, 'queues.conf'), QUEUES);
  writeFileSync(path.join(etc, 'res_parking.conf'), '[general]\n\n[default]\nparkext => 700\n');
  const cfg = parseConfig(
    `ami: {host: 127.0.0.1, port: 1, username: u, secret: s}\ndata_dir: ${path.join(dir, 'data')}\nasterisk: {config_dir: ${etc}}\n`,
    path.join(dir, 'gateway.yaml'),
    [],
  );
  // reloads need AMI actions: this fake never has them (answers `pending`); the option lists come from `command`
  const files = new ConfigFiles(
    cfg,
    { connected: false, action: async () => Promise.reject(new AmiNotConnectedError()), command },
    testLogger('test'),
  );
  catalog = new ConfigOptionCatalog({
    get connected() {
      return fake.connected;
    },
    command,
  });
  ({ api } = await routeApp({
    plugins: ['pjsip', 'park', 'queue'],
    tokens: { t: { userUuid: 'a', roles: new Set(['admin']) } },
    bodyLimitBytes: 65536,
    logError: (e) => failures.push(e),
    mount: (http) => mountConfigRoutes(http, { configFiles: files, configOptions: catalog }, ['pjsip', 'park', 'queue']),
  }));
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
  assert.deepEqual(failures, [], 'no request failed inside the gateway (500)');
});

test('edit distance and the closest name', () => {
  assert.equal(editDistance('kitten', 'sitting'), 3);
  assert.equal(editDistance('', 'abc'), 3);
  assert.equal(closest('allow_overlapp', ['allow', 'allow_overlap', 'allow_transfer']), 'allow_overlap');
  assert.equal(closest('PARKINGTME', ['parkext', 'parkingtime']), 'parkingtime');
  assert.equal(closest('zzzzzz', ['parkext', 'parkingtime']), undefined, 'nothing near: no suggestion');
  assert.equal(valueProblem({ kind: 'boolean' }, 'On'), null);
  assert.match(valueProblem({ kind: 'boolean' }, 'maybe')!, /boolean/);
  assert.match(valueProblem({ kind: 'unsigned' }, '-1')!, /unsigned/);
  assert.equal(valueProblem({ kind: 'integer' }, '-1'), null);
  assert.match(valueProblem({ kind: 'enum', choices: ['all'], orBoolean: true }, 'some')!, /yes, no or all/);
});

test('pjsip.conf: an unknown option is 400 unknown_option with the closest name, and nothing is written', async () => {
  const before = text('pjsip.conf');
  const a = await api.post('/v1/admin/pjsip/cfg_sections', { name: 'gw1', data: { type: 'endpoint', allow_overlapp: 'no' } });
  assert.equal(a.status, 400, a.text);
  assert.equal(a.body.result.code, 'unknown_option');
  assert.equal(a.body.result.option, 'allow_overlapp');
  assert.equal(a.body.result.suggestion, 'allow_overlap');
  assert.match(a.body.result.message, /did you mean "allow_overlap"\?/);
  // a bad boolean, a bad unsigned, an unknown type
  for (const [data, re] of [
    [{ type: 'endpoint', allow_overlap: 'maybe' }, /allow_overlap = "maybe": must be a boolean/],
    [{ type: 'aor', max_contacts: '-2' }, /max_contacts = "-2": must be an unsigned integer/],
    [{ type: 'endpiont', context: 'x' }, /type "endpiont".*did you mean "endpoint"/],
    [{ type: 'endpoint', direct_media_method: 'sideways' }, /direct_media_method = "sideways": must be one of invite, reinvite, update/],
    [{ type: 'endpoint', identify_by: 'username,header' }, /identify_by = "username,header": must be one of username, auth_username, ip/],
  ] as const) {
    const r = await api.post('/v1/admin/pjsip/cfg_sections', { name: 'gw1', data });
    assert.equal(r.status, 400, r.text);
    assert.match(r.body.result.message, re);
  }
  assert.equal(text('pjsip.conf'), before);
});

test("pjsip.conf: known options pass (type from the section or its template; other modules' types too); lists are read once", async () => {
  commands.length = 0;
  const a = await api.post('/v1/admin/pjsip/cfg_sections', {
    name: 'gw2',
    data: {
      type: 'endpoint',
      allow_overlap: 'no',
      rtp_timeout: 30,
      direct_media_method: 'UPDATE',
      identify_by: 'username, ip',
      '100rel': 'true',
      set_var: 'A=1',
    },
  });
  assert.equal(a.status, 200, a.text);
  assert.deepEqual(a.body.result.option_check, { status: 'done', message: "7 options checked against Asterisk's lists" });
  // a section using a template takes the template's type: allow_overlap is checked as an endpoint option
  const t = await api.post('/v1/admin/pjsip/cfg_sections', { name: 'gw3', templates: ['tpl-ep'], data: { allow_overlapp: 'yes' } });
  assert.equal(t.status, 400, t.text);
  assert.equal(t.body.result.suggestion, 'allow_overlap');
  const reg = await api.post('/v1/admin/pjsip/cfg_sections', { name: 'gw-reg', data: { type: 'registration', retry_interval: '60' } });
  assert.equal(reg.status, 200, reg.text);
  // the endpoint list and the types were read by the test before: on this connection they are not read again
  for (const c of ['config show help res_pjsip endpoint', 'config show help', 'config show help res_pjsip'])
    assert.ok(!commands.includes(c), `${c} was cached: ${JSON.stringify(commands)}`);
  assert.ok(
    commands.includes('config show help res_pjsip_outbound_registration registration'),
    'the registration list is read when first needed',
  );
  // a PATCH of another key leaves the hand-written unknown option alone
  const p = await api.patch('/v1/admin/pjsip/cfg_sections/6001', { data: { allow_overlap: 'no' } });
  assert.equal(p.status, 200, p.text);
  assert.match(text('pjsip.conf'), /hand_written_typo = kept ; the gateway/);
  // after reset() (a new AMI connection) the lists are read again
  catalog.reset();
  commands.length = 0;
  assert.equal((await api.patch('/v1/admin/pjsip/cfg_sections/gw2', { data: { rtp_timeout: 60 } })).status, 200);
  assert.ok(commands.includes('config show help res_pjsip endpoint'), JSON.stringify(commands));
});

test('AMI down: pjsip and res_parking writes are not held up, the answer says the check was skipped', async () => {
  fake.connected = false;
  try {
    catalog.reset();
    const a = await api.patch('/v1/admin/pjsip/cfg_sections/gw2', { data: { no_such_option_now: 'x' } });
    assert.equal(a.status, 200, a.text);
    assert.equal(a.body.result.option_check.status, 'skipped');
    assert.match(a.body.result.option_check.message, /not connected/);
    // queues.conf is still checked: its list is the gateway's own copy
    const q = await api.patch('/v1/admin/queue/cfg_queues/sales', { data: { wrapuptme: 5 } });
    assert.equal(q.status, 400, q.text);
    assert.equal(q.body.result.suggestion, 'wrapuptime');
  } finally {
    fake.connected = true;
  }
});

test('res_parking.conf: lot options from res_parking parking_lot; [general] lists none, so it is not checked', async () => {
  const before = text('res_parking.conf');
  const a = await api.patch('/v1/admin/park/cfg_parkinglots/default', { data: { parkingtme: 45 } });
  assert.equal(a.status, 400, a.text);
  assert.equal(a.body.result.code, 'unknown_option');
  assert.equal(a.body.result.suggestion, 'parkingtime');
  const b = await api.patch('/v1/admin/park/cfg_parkinglots/default', { data: { parkingtime: 'soon' } });
  assert.equal(b.status, 400, b.text);
  assert.equal(b.body.result.code, 'invalid_field');
  assert.equal(b.body.result.field, 'data.parkingtime');
  assert.equal(text('res_parking.conf'), before);
  const c = await api.patch('/v1/admin/park/cfg_parkinglots/default', { data: { parkingtime: 45, comebacktoorigin: 'no' } });
  assert.equal(c.status, 200, c.text);
  assert.equal(c.body.result.option_check.status, 'done');
  const g = await api.patch('/v1/admin/park/cfg_parkinglots/general', { data: { parkeddynamic: 'yes' } });
  assert.equal(g.status, 200, g.text);
});

test("queues.conf: names and values from app_queue's own list", async () => {
  const before = text('queues.conf');
  for (const [data, code, re] of [
    [{ ringinuse: 'maybe' }, 'invalid_field', /must be a boolean/],
    [{ strategy: 'ringal' }, 'invalid_field', /must be one of ringall, leastrecent/],
    [{ autopause: 'some' }, 'invalid_field', /must be yes, no or all/],
    [{ timeout: 'ten' }, 'invalid_field', /must be an integer/],
    [{ 'anounce-frequency': 30 }, 'unknown_option', /did you mean "announce-frequency"/],
  ] as const) {
    const r = await api.patch('/v1/admin/queue/cfg_queues/sales', { data });
    assert.equal(r.status, 400, r.text);
    assert.equal(r.body.result.code, code);
    assert.match(r.body.result.message, re);
  }
  const g = await api.patch('/v1/admin/queue/cfg_queues/general', { data: { persistentmember: 'yes' } });
  assert.equal(g.body.result.suggestion, 'persistentmembers', g.text);
  assert.equal(text('queues.conf'), before);
  const ok = await api.post('/v1/admin/queue/cfg_queues', {
    name: 'support',
    data: [{ strategy: 'rrmemory' }, { ringinuse: 'no' }, { member: '> PJSIP/1' }, { member: '> PJSIP/2' }],
  });
  assert.equal(ok.status, 200, ok.text);
  assert.deepEqual(ok.body.result.option_check, { status: 'done', message: "4 options checked against Asterisk's lists" });
});

test('every answer above was checked against the document', async () => {
  const checker = await api.contract();
  assert.ok(checker && checker.checked > 10, `checked ${checker?.checked}`);
});
