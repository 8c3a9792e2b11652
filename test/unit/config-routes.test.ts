// Config files over REST without Asterisk (core/config-routes/ through the dialplan, pjsip, park and queue config
// routes): shapes, ETags and If-Match, backups, and every refusal, each checked to leave the file byte-identical.
// The routes run in an HttpApp of their own that serves its OpenAPI document, so every answer is also checked
// against the declared schemas (test/support/http.ts). AMI is not connected, so every reload answers `pending`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AmiNotConnectedError } from '../../core/ami/errors.ts';
import { parseConfig } from '../../core/config.ts';
import { ConfigFiles } from '../../core/config-files.ts';
import { testLogger } from '../support/log.ts';
import { mountConfigRoutes, routeApp } from '../support/app.ts';
import { client } from '../support/http.ts';

let dir: string;
let etc: string;
let backups: string;
let api: ReturnType<typeof client>;
let manager: ReturnType<typeof client>;
const failures: unknown[] = [];

const FILES: Record<string, string> = {
  'extensions.conf': `; extensions.conf: hand-written by the admin, keep me
; (this comment must survive every edit)

[general]
static = yes
writeprotect = no

[globals]
TRUNK = PJSIP/trunk ; the carrier

; ---- internal phones ----
[internal]
exten => 100,1,NoOp(desk 100) ; front desk
 same => n,Dial(PJSIP/100,20)
 same => n,Hangup()
;-- an old extension, disabled by hand
exten => 999,1,NoOp(disabled)
--;
include => parking

[parking]
exten => 700,1,Park()

[twice]
exten => 1,1,NoOp(first)

[twice]
exten => 2,1,NoOp(second)

[odd]
setvar = >not an op
setvar += more
`,
  'res_parking.conf': `; res_parking.conf: hand-written by the admin, keep me
[general]
parkeddynamic = no

; the main lot
[default]
parkext => 700
parkpos => 701-720
context => parkedcalls ; where parked calls live

[multi]
parkpos => 801-810
parkpos => 811-820 ; repeated on purpose
`,
  'queues.conf': `; queues.conf: hand-written by the admin, keep me
[general]
persistentmembers = yes

[sales]
strategy = ringall ; everyone at once
member => PJSIP/100,0,Alice
member => PJSIP/101,0,Bob
`,
  'pjsip.conf': `; pjsip.conf: hand-written by the admin, keep me
[6001]
type = endpoint

[6001]
type = auth
`,
};

const SECRET = 'not for the gateway\n';

function config() {
  return parseConfig(
    `ami: {host: 127.0.0.1, port: 1, username: u, secret: s}
data_dir: ${path.join(dir, 'data')}
asterisk: {config_dir: ${etc}}
http: {body_limit_bytes: 65536}
`,
    path.join(dir, 'gateway.yaml'),
    [],
  );
}

/** AMI is down: every reload is `pending`. */
const ami = {
  connected: false,
  action: async (): Promise<never> => {
    throw new AmiNotConnectedError();
  },
  command: async (): Promise<never> => {
    throw new AmiNotConnectedError();
  },
};

const onDisk = (file: string) => readFileSync(path.join(etc, file));
const text = (file: string) => onDisk(file).toString('utf8');
const etagOf = (b: Buffer) => `"${createHash('sha256').update(b).digest('hex')}"`;
const backupNames = (file: string) => (existsSync(backups) ? readdirSync(backups).filter((n) => n.startsWith(`${file}.`)) : []);

/** Runs `fn` (a refused request) and checks that nothing on disk changed: the file, its backups, the secret. */
async function unchanged(file: string, fn: () => Promise<void>): Promise<void> {
  const before = onDisk(file);
  const bk = backupNames(file).sort();
  await fn();
  assert.ok(onDisk(file).equals(before), `${file} must be byte-identical after a refusal`);
  assert.deepEqual(backupNames(file).sort(), bk, 'no backup made by a refusal');
  assert.equal(readFileSync(path.join(dir, 'secret.conf'), 'utf8'), SECRET);
}

function refused(a: { status: number; body: any; text: string }, status: number, msg?: RegExp) {
  assert.equal(a.status, status, a.text);
  assert.equal(a.body.statuscode, status);
  if (msg) assert.match(a.body.result.message, msg);
}

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'gw-cfgroutes-'));
  etc = path.join(dir, 'etc');
  backups = path.join(dir, 'data', 'backups');
  mkdirSync(etc);
  mkdirSync(path.join(dir, 'data'));
  for (const [name, body] of Object.entries(FILES)) writeFileSync(path.join(etc, name), body);
  writeFileSync(path.join(dir, 'secret.conf'), SECRET);
  const cfg = config();
  const files = new ConfigFiles(cfg, ami, testLogger('test'));
  const app = await routeApp({
    plugins: ['dialplan', 'pjsip', 'park', 'queue'],
    tokens: {
      'admin-token': { userUuid: 'admin', roles: new Set(['admin']) },
      'manager-token': { userUuid: 'mgr', roles: new Set(['manager']) },
    },
    bodyLimitBytes: cfg.http.body_limit_bytes,
    logError: (e) => failures.push(e),
    mount: (http) => mountConfigRoutes(http, { configFiles: files }),
  });
  api = app.api;
  manager = client(app.http.fetch);
  manager.setToken('manager-token');
});
after(async () => {
  rmSync(dir, { recursive: true, force: true });
  assert.deepEqual(failures, [], 'no request failed inside the gateway (500)');
});

// ---------------------------------------------------------------------------------------------------------------
// whole files

test('configurations: GET list and detail, with the ETag of the bytes on disk', async () => {
  for (const [base, file] of [
    ['/v1/admin/dialplan/configurations', 'extensions.conf'],
    ['/v1/admin/pjsip/configurations', 'pjsip.conf'],
    ['/v1/admin/park/configurations', 'res_parking.conf'],
    ['/v1/admin/queue/configurations', 'queues.conf'],
  ] as const) {
    const list = await api.get(base);
    assert.equal(list.status, 200, list.text);
    assert.deepEqual(list.body.result.list[0], { name: file, data: text(file) });
    assert.equal(list.headers.get('etag'), etagOf(onDisk(file)));
    const one = await api.get(`${base}/${file}`);
    assert.equal(one.status, 200);
    assert.deepEqual(one.body.result, { name: file, data: text(file) });
    assert.equal(one.headers.get('etag'), etagOf(onDisk(file)));
  }
});

test('configurations: PUT replaces the file, backs up the old one, and reports the reload (pending: AMI is down)', async () => {
  const base = '/v1/admin/pjsip/configurations';
  const old = onDisk('pjsip.conf');
  const next = `${old.toString()}\n; added by PUT\n[6002]\ntype = endpoint\n`;
  const a = await api.put(`${base}/pjsip.conf`, { data: next });
  assert.equal(a.status, 200, a.text);
  assert.equal(text('pjsip.conf'), next);
  assert.equal(a.headers.get('etag'), etagOf(onDisk('pjsip.conf')));
  assert.equal(a.body.result.name, 'pjsip.conf');
  assert.match(a.body.result.backup, /^pjsip\.conf\.\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.equal(a.body.result.reload.status, 'pending');
  assert.match(a.body.result.reload.message, /not connected/);
  // the backup holds the old bytes and is listed after the current file
  const list = (await api.get(base)).body.result.list;
  assert.deepEqual(
    list.map((x: any) => x.name),
    ['pjsip.conf', a.body.result.backup],
  );
  assert.equal(list[1].data, old.toString());
  const bk = await api.get(`${base}/${a.body.result.backup}`);
  assert.equal(bk.status, 200);
  assert.deepEqual(bk.body.result, { name: a.body.result.backup, data: old.toString() });
  // the same text again changes nothing and needs no reload
  const same = await api.put(`${base}/pjsip.conf`, { data: next });
  assert.equal(same.status, 200);
  assert.equal(same.body.result.backup, null);
  assert.equal(same.body.result.reload.status, 'none');
  // text/plain bodies work too, with If-Match
  const plain = await api.put(`${base}/pjsip.conf`, `${next}; plain\n`, {
    'content-type': 'text/plain',
    'if-match': a.headers.get('etag')!,
  });
  assert.equal(plain.status, 200, plain.text);
  assert.equal(text('pjsip.conf'), `${next}; plain\n`);
});

test('configurations: text that does not parse is refused with 400 naming the line, before any byte is written', async () => {
  const base = '/v1/admin/dialplan/configurations/extensions.conf';
  await unchanged('extensions.conf', async () => {
    const a = await api.put(base, { data: '[general]\nstatic=yes\n\n[broken\nexten => 1,1,NoOp()\n' });
    refused(a, 400, /extensions\.conf line 4/);
    assert.equal(a.body.result.problems[0].line, 4);
    refused(
      await api.put(base, { data: '[ctx]\nexten => 1,1,NoOp()\n;-- never closed\nexten => 2,1,NoOp()\n' }),
      400,
      /line 3.*block comment|block comment.*line 3|line 3/,
    );
    refused(await api.put(base, { data: 'static=yes\n[general]\n' }), 400, /line 1/);
    refused(await api.put(base, { data: 'x\0y' }), 400, /NUL/);
    refused(await api.put(base, {}), 400, /data/);
    refused(await api.put(base, { data: '[a]\n', name: 'other.conf' }), 400);
  });
});

test('configurations: null, { and a JSON document sent as text/plain are refused (400 naming line 1) and change nothing', async () => {
  const base = '/v1/admin/dialplan/configurations/extensions.conf';
  const json = JSON.stringify({ data: '[general]\nstatic=yes\n' }, null, 2);
  await unchanged('extensions.conf', async () => {
    for (const body of ['null', '{', json, `${json}\n`]) {
      const a = await api.put(base, body, { 'content-type': 'text/plain' });
      refused(a, 400, /^extensions\.conf line 1: No '=' \(equal sign\) in line 1/);
      assert.equal(a.body.result.code, 'bad_request');
      assert.equal(a.body.result.problems[0].line, 1);
    }
    refused(await api.put(base, { data: 'null' }), 400, /line 1: No '='/);
    refused(await api.put(base, { data: '[internal]\nexten => 1,1,NoOp()\noops\n' }), 400, /line 3: No '='/);
  });
});

test('sections: a name no REST path could address is refused on create (400 name); odd hand-written names stay readable', async () => {
  await unchanged('res_parking.conf', async () => {
    for (const name of [
      '../../etc/passwd',
      'a/b',
      '..',
      'x..y',
      ' lead',
      'trail ',
      'tab\tin',
      'del\u007f',
      'back\\slash',
      'x'.repeat(80),
    ]) {
      const a = await api.post('/v1/admin/park/cfg_parkinglots', { name, data: {} });
      refused(a, 400);
      assert.equal(a.body.result.code, 'invalid_field', `${JSON.stringify(name)}: ${a.text}`);
      assert.equal(a.body.result.field, 'name');
    }
  });
  // a hand-written section with an odd name is still listed and readable, and the file keeps it untouched
  const odd = `${FILES['queues.conf']}\n[ odd name ]\nstrategy = ringall\n`;
  writeFileSync(path.join(etc, 'queues.conf'), odd);
  const list = await api.get('/v1/admin/queue/cfg_queues');
  assert.ok(
    list.body.result.list.some((s: any) => s.name === ' odd name '),
    list.text,
  );
  const one = await api.get(`/v1/admin/queue/cfg_queues/${encodeURIComponent(' odd name ')}`);
  assert.equal(one.status, 200, one.text);
  const ok = await api.post('/v1/admin/queue/cfg_queues', { name: 'fine-name_1.2@x', data: { strategy: 'ringall' } });
  assert.equal(ok.status, 200, ok.text);
  assert.ok(text('queues.conf').startsWith(odd), 'the odd section is untouched');
  writeFileSync(path.join(etc, 'queues.conf'), FILES['queues.conf']!);
});

test('configurations: a stale If-Match is 412 and writes nothing; the current ETag is accepted', async () => {
  const base = '/v1/admin/queue/configurations/queues.conf';
  const { headers } = await api.get(base);
  const etag = headers.get('etag')!;
  writeFileSync(path.join(etc, 'queues.conf'), `${FILES['queues.conf']}; hand edit meanwhile\n`);
  await unchanged('queues.conf', async () => {
    refused(await api.put(base, { data: '[general]\n' }, { 'if-match': etag }), 412, /changed/);
    refused(await api.put(base, { data: '[general]\n' }, { 'if-match': 'W/"abc"' }), 412);
  });
  const now = (await api.get(base)).headers.get('etag')!;
  const a = await api.put(base, { data: `${text('queues.conf')}; ok\n` }, { 'if-match': now });
  assert.equal(a.status, 200, a.text);
  writeFileSync(path.join(etc, 'queues.conf'), FILES['queues.conf']!);
});

test('configurations: DELETE removes a backup; the current file, other files and non-backups are refused', async () => {
  const base = '/v1/admin/park/configurations';
  const put = await api.put(`${base}/res_parking.conf`, { data: `${FILES['res_parking.conf']}; v2\n` });
  const backup = put.body.result.backup as string;
  await unchanged('res_parking.conf', async () => {
    refused(await api.del(`${base}/res_parking.conf`), 400, /current file/);
  });
  assert.ok(existsSync(path.join(etc, 'res_parking.conf')));
  refused(await api.del(`${base}/queues.conf.2020-01-01T00:00:00.000Z`), 404);
  refused(await api.del(`${base}/res_parking.conf.2020-01-01T00:00:00.000Z`), 404, /not found/);
  refused(await api.put(`${base}/${backup}`, { data: '[x]\n' }), 400, /backup/);
  const del = await api.del(`${base}/${backup}`);
  assert.equal(del.status, 200, del.text);
  assert.equal(del.body.result, undefined);
  assert.ok(!existsSync(path.join(backups, backup)));
  refused(await api.get(`${base}/${backup}`), 404);
  writeFileSync(path.join(etc, 'res_parking.conf'), FILES['res_parking.conf']!);
});

test('configurations: names in URLs reach only the managed file and its backups', async () => {
  const base = '/v1/admin/dialplan/configurations';
  await unchanged('extensions.conf', async () => {
    for (const bad of [
      '..%2Fsecret.conf',
      '..%2F..%2Fetc%2Fpasswd',
      '%2Fetc%2Fpasswd',
      '%2E%2E%2Fsecret.conf',
      'extensions.conf%2F..',
      '..',
      '%5C..%5Csecret.conf',
      'a%00b',
    ]) {
      for (const m of ['GET', 'PUT', 'DELETE'] as const) {
        const a = await api.call(m, `${base}/${bad}`, m === 'PUT' ? { data: 'pwned\n' } : undefined);
        assert.ok(a.status === 400 || a.status === 404, `${m} ${bad}: ${a.status} ${a.text}`);
      }
    }
    // plain names that are not this endpoint's file: 404, never read
    for (const other of ['secret.conf', 'queues.conf', 'pjsip.conf', 'asterisk.conf', '.extensions.conf.tmp', 'C:extensions.conf']) {
      refused(await api.get(`${base}/${other}`), 404);
      refused(await api.put(`${base}/${other}`, { data: '[x]\n' }), 404);
    }
    // a path that leaves the route: the URL is normalised to another path, which does not exist
    refused(await api.get(`${base}/../../../secret.conf`), 404);
  });
  assert.ok(!existsSync(path.join(etc, 'secret.conf')));
  assert.ok(!existsSync(path.join(dir, 'pwned')));
});

test('configurations: the body limit (413) applies and writes nothing', async () => {
  await unchanged('extensions.conf', async () => {
    refused(await api.put('/v1/admin/dialplan/configurations/extensions.conf', { data: `[x]\n${'; pad\n'.repeat(20000)}` }), 413);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// sections: dialplan

test('sdps: list and detail in the spec\'s array form; "> " marks =>', async () => {
  const list = await api.get('/v1/admin/dialplan/sdps');
  assert.equal(list.status, 200, list.text);
  assert.equal(list.headers.get('etag'), etagOf(onDisk('extensions.conf')));
  const byName = (n: string) => list.body.result.list.filter((s: any) => s.name === n);
  assert.deepEqual(byName('internal')[0], {
    name: 'internal',
    data: [{ exten: '> 100,1,NoOp(desk 100)' }, { same: '> n,Dial(PJSIP/100,20)' }, { same: '> n,Hangup()' }, { include: '> parking' }],
  });
  assert.deepEqual(byName('general')[0], { name: 'general', data: [{ static: 'yes' }, { writeprotect: 'no' }] });
  // a repeated name is listed with its index
  assert.deepEqual(byName('twice'), [
    { name: 'twice', index: 0, data: [{ exten: '> 1,1,NoOp(first)' }] },
    { name: 'twice', index: 1, data: [{ exten: '> 2,1,NoOp(second)' }] },
  ]);
  // what the short form cannot say exactly is written out
  assert.deepEqual(byName('odd')[0].data, [
    { key: 'setvar', op: '=', value: '>not an op' },
    { key: 'setvar', op: '+=', value: 'more' },
  ]);
  const one = await api.get('/v1/admin/dialplan/sdps/parking');
  assert.deepEqual(one.body.result, { name: 'parking', data: [{ exten: '> 700,1,Park()' }] });
  assert.equal(one.headers.get('etag'), etagOf(onDisk('extensions.conf')));
  assert.deepEqual((await api.get('/v1/admin/dialplan/sdps/twice')).body.result.data, [{ exten: '> 1,1,NoOp(first)' }]);
  assert.deepEqual((await api.get('/v1/admin/dialplan/sdps/twice?index=1')).body.result, {
    name: 'twice',
    index: 1,
    data: [{ exten: '> 2,1,NoOp(second)' }],
  });
  refused(await api.get('/v1/admin/dialplan/sdps/twice?index=2'), 404);
  refused(await api.get('/v1/admin/dialplan/sdps/twice?index=-1'), 400);
  refused(await api.get('/v1/admin/dialplan/sdps/nope'), 404);
});

test('sdps: POST creates, PUT replaces, DELETE removes; hand-written comments and other lines stay byte for byte', async () => {
  const before = text('extensions.conf');
  const created = await api.post('/v1/admin/dialplan/sdps', {
    name: 'gw-new',
    data: [{ exten: '> _X.,1,NoOp(x)' }, { same: '> n,Hangup()' }],
  });
  assert.equal(created.status, 200, created.text);
  assert.deepEqual(created.body.result.data, [{ exten: '> _X.,1,NoOp(x)' }, { same: '> n,Hangup()' }]);
  assert.equal(created.body.result.reload.status, 'pending');
  assert.equal(created.headers.get('etag'), etagOf(onDisk('extensions.conf')));
  assert.ok(text('extensions.conf').startsWith(before), 'a new context is appended; nothing before it moves');
  assert.match(text('extensions.conf'), /\n\n\[gw-new\]\nexten => _X\.,1,NoOp\(x\)\nsame => n,Hangup\(\)\n$/);
  refused(await api.post('/v1/admin/dialplan/sdps', { name: 'gw-new', data: [] }), 409, /already exists/);

  const put = await api.put('/v1/admin/dialplan/sdps/internal', {
    data: [
      { exten: '> 100,1,NoOp(desk 100)' },
      { same: '> n,Dial(PJSIP/100,30)' },
      { same: '> n,Hangup()' },
      { include: '> parking' },
      { include: '> gw-new' },
    ],
  });
  assert.equal(put.status, 200, put.text);
  const t = text('extensions.conf');
  assert.match(
    t,
    /exten => 100,1,NoOp\(desk 100\) ; front desk\n same => n,Dial\(PJSIP\/100,30\)\n same => n,Hangup\(\)\n;-- an old extension, disabled by hand\nexten => 999,1,NoOp\(disabled\)\n--;\ninclude => parking\ninclude => gw-new\n/,
  );
  assert.ok(t.startsWith('; extensions.conf: hand-written by the admin, keep me\n; (this comment must survive every edit)\n'));
  assert.match(t, /TRUNK = PJSIP\/trunk ; the carrier/);
  assert.match(t, /; ---- internal phones ----\n\[internal\]/);

  const del = await api.del('/v1/admin/dialplan/sdps/gw-new');
  assert.equal(del.status, 200, del.text);
  assert.equal(del.body.result.reload.status, 'pending');
  assert.doesNotMatch(text('extensions.conf'), /gw-new\]/);
  refused(await api.get('/v1/admin/dialplan/sdps/gw-new'), 404);
  refused(await api.del('/v1/admin/dialplan/sdps/gw-new'), 404);
  // restore [internal] and check the whole file is back to the original bytes
  await api.put('/v1/admin/dialplan/sdps/internal', {
    data: [{ exten: '> 100,1,NoOp(desk 100)' }, { same: '> n,Dial(PJSIP/100,20)' }, { same: '> n,Hangup()' }, { include: '> parking' }],
  });
  // only the blank line the POST put before [gw-new] is left over
  assert.equal(text('extensions.conf'), `${FILES['extensions.conf']}\n`);
  writeFileSync(path.join(etc, 'extensions.conf'), FILES['extensions.conf']!);
});

test('sdps: repeated context names need ?index= to be written', async () => {
  await unchanged('extensions.conf', async () => {
    refused(await api.put('/v1/admin/dialplan/sdps/twice', { data: [{ exten: '> 1,1,NoOp(x)' }] }), 409, /index/);
    refused(await api.del('/v1/admin/dialplan/sdps/twice'), 409, /index/);
    refused(await api.put('/v1/admin/dialplan/sdps/twice?index=1', { index: 0, data: [] }), 400);
  });
  const a = await api.put('/v1/admin/dialplan/sdps/twice?index=1', { data: [{ exten: '> 2,1,NoOp(changed)' }] });
  assert.equal(a.status, 200, a.text);
  assert.equal(a.body.result.index, 1);
  assert.match(text('extensions.conf'), /\[twice\]\nexten => 1,1,NoOp\(first\)\n\n\[twice\]\nexten => 2,1,NoOp\(changed\)\n/);
  writeFileSync(path.join(etc, 'extensions.conf'), FILES['extensions.conf']!);
});

test('sdps: GET then PUT of the same data changes no byte, explicit {key, op, value} items included', async () => {
  const file = 'extensions.conf';
  for (const name of ['internal', 'general', 'globals', 'odd', 'parking']) {
    const got = (await api.get(`/v1/admin/dialplan/sdps/${name}`)).body.result;
    await unchanged(file, async () => {
      const a = await api.put(`/v1/admin/dialplan/sdps/${name}`, got);
      assert.equal(a.status, 200, a.text);
      assert.equal(a.body.result.backup, null);
      assert.equal(a.body.result.reload.status, 'none');
    });
  }
});

test('sdps: CR/LF in values, keys and names, and [ ] in names, are 400 and write nothing', async () => {
  await unchanged('extensions.conf', async () => {
    const bad: unknown[] = [
      { name: 'ctx', data: [{ exten: '> 1,1,NoOp()\n[evil]' }] },
      { name: 'ctx', data: [{ exten: '> 1,1,NoOp()\r' }] },
      { name: 'ctx', data: [{ 'ex\nten': '> 1,1,NoOp()' }] },
      { name: 'ctx', data: [{ key: 'exten\r', op: '=>', value: '1' }] },
      { name: 'c\ntx', data: [] },
      { name: 'c\rtx', data: [] },
      { name: 'a]b', data: [] },
      { name: '[ab', data: [] },
      { name: 'ctx', data: [{ exten: '> 1', same: '> n' }] },
      { name: 'ctx', data: [{ key: 'x', op: '=<', value: '1' }] },
      { name: 'ctx', data: [{ x: ['nested'] }] },
      { name: 'ctx', data: 'exten => 1' },
      { name: 'ctx', data: [], templates: ['no-such-template'] },
      { name: 'ctx', data: [], bogus: 1 },
    ];
    for (const b of bad) refused(await api.post('/v1/admin/dialplan/sdps', b), 400);
    refused(await api.put('/v1/admin/dialplan/sdps/internal', { data: [{ exten: '> 1,1,NoOp()\nexten => 2,1,NoOp()' }] }), 400, /CR, LF/);
    refused(await api.put('/v1/admin/dialplan/sdps/internal', { data: { exten: 'x\r\ny' } }), 400);
    refused(await api.put('/v1/admin/dialplan/sdps/internal', {}), 400, /data/);
    refused(await api.put('/v1/admin/dialplan/sdps/internal', { name: 'renamed', data: [] }), 400, /renam/);
    for (const url of ['%5Binternal%5D', 'int%5Dernal', 'inter%0Anal', 'inter%0Dnal']) {
      refused(await api.get(`/v1/admin/dialplan/sdps/${url}`), 400);
      refused(await api.put(`/v1/admin/dialplan/sdps/${url}`, { data: [] }), 400);
      refused(await api.del(`/v1/admin/dialplan/sdps/${url}`), 400);
    }
    refused(await api.get('/v1/admin/dialplan/sdps/internal?form=xml'), 400);
  });
});

test('sdps: stale If-Match is 412 for POST, PUT and DELETE; without If-Match the edit applies to the file as it is now', async () => {
  const file = 'extensions.conf';
  const etag = (await api.get('/v1/admin/dialplan/sdps/parking')).headers.get('etag')!;
  // an admin edits the file by hand after our GET
  const handEdited = FILES[file]!.replace('[parking]\n', '[parking]\n; hand edit after the GET\n');
  writeFileSync(path.join(etc, file), handEdited);
  await unchanged(file, async () => {
    refused(await api.put('/v1/admin/dialplan/sdps/parking', { data: [] }, { 'if-match': etag }), 412, /changed/);
    refused(await api.del('/v1/admin/dialplan/sdps/parking', undefined, { 'if-match': etag }), 412);
    refused(await api.post('/v1/admin/dialplan/sdps', { name: 'x', data: [] }, { 'if-match': etag }), 412);
  });
  const a = await api.put('/v1/admin/dialplan/sdps/parking', { data: [{ exten: '> 700,1,Park(default)' }] });
  assert.equal(a.status, 200, a.text);
  assert.equal(text(file), handEdited.replace('exten => 700,1,Park()', 'exten => 700,1,Park(default)'), 'the hand edit is kept');
  // the ETag of the answer is good for the next write
  const b = await api.put(
    '/v1/admin/dialplan/sdps/parking',
    { data: [{ exten: '> 700,1,Park()' }] },
    { 'if-match': a.headers.get('etag')! },
  );
  assert.equal(b.status, 200, b.text);
  writeFileSync(path.join(etc, file), FILES[file]!);
});

test('sdialplans: managers see and edit contexts, never [general] or [globals]', async () => {
  const list = await manager.get('/v1/manager/sdialplans');
  assert.equal(list.status, 200, list.text);
  const names = list.body.result.list.map((s: any) => s.name);
  assert.ok(names.includes('internal'));
  assert.ok(!names.includes('general') && !names.includes('globals'));
  await unchanged('extensions.conf', async () => {
    for (const n of ['general', 'globals', 'GLOBALS']) {
      refused(await manager.get(`/v1/manager/sdialplans/${n}`), 404);
      refused(await manager.put(`/v1/manager/sdialplans/${n}`, { data: [{ static: 'no' }] }), 404);
      refused(await manager.del(`/v1/manager/sdialplans/${n}`), 404);
      refused(await manager.post('/v1/manager/sdialplans', { name: n, data: [] }), 403);
    }
    // a manager is not an admin
    refused(await manager.get('/v1/admin/dialplan/sdps'), 403);
    refused(await manager.get('/v1/admin/dialplan/configurations'), 403);
  });
  const c = await manager.post('/v1/manager/sdialplans', { name: 'mgr-ctx', data: [{ exten: '> 1,1,NoOp(mgr)' }] });
  assert.equal(c.status, 200, c.text);
  assert.deepEqual((await manager.get('/v1/manager/sdialplans/mgr-ctx')).body.result, {
    name: 'mgr-ctx',
    data: [{ exten: '> 1,1,NoOp(mgr)' }],
  });
  assert.equal((await manager.del('/v1/manager/sdialplans/mgr-ctx')).status, 200);
  assert.equal(text('extensions.conf'), `${FILES['extensions.conf']}\n`);
  writeFileSync(path.join(etc, 'extensions.conf'), FILES['extensions.conf']!);
});

// ---------------------------------------------------------------------------------------------------------------
// sections: parking lots (object form) and queues (array form)

test('cfg_parkinglots: object form; a lot that repeats a key is shown in the array form and an object write is 409', async () => {
  const list = await api.get('/v1/admin/park/cfg_parkinglots');
  assert.equal(list.status, 200, list.text);
  assert.deepEqual(list.body.result.list, [
    { name: 'general', data: { parkeddynamic: 'no' } },
    { name: 'default', data: { parkext: '700', parkpos: '701-720', context: 'parkedcalls' } },
    { name: 'multi', data: [{ parkpos: '> 801-810' }, { parkpos: '> 811-820' }] },
  ]);
  assert.deepEqual((await api.get('/v1/admin/park/cfg_parkinglots/default?form=array')).body.result.data, [
    { parkext: '> 700' },
    { parkpos: '> 701-720' },
    { context: '> parkedcalls' },
  ]);
  await unchanged('res_parking.conf', async () => {
    refused(await api.put('/v1/admin/park/cfg_parkinglots/multi', { data: { parkpos: '801-820' } }), 409, /array form/);
    refused(await api.put('/v1/admin/park/cfg_parkinglots/default', { data: { parkpos: '701-720\n[x]' } }), 400);
  });
  // the array form may edit it, and keeps both lines' layout
  const arr = await api.put('/v1/admin/park/cfg_parkinglots/multi', { data: [{ parkpos: '> 801-805' }, { parkpos: '> 811-820' }] });
  assert.equal(arr.status, 200, arr.text);
  assert.match(text('res_parking.conf'), /parkpos => 801-805\nparkpos => 811-820 ; repeated on purpose\n/);

  const made = await api.post('/v1/admin/park/cfg_parkinglots', {
    name: 'gwlot2',
    data: { parkpos: '900-910', context: 'parked-gw2', parkingtime: 30 },
  });
  assert.equal(made.status, 200, made.text);
  assert.deepEqual(made.body.result.data, { parkpos: '900-910', context: 'parked-gw2', parkingtime: '30' });
  const upd = await api.put('/v1/admin/park/cfg_parkinglots/default', {
    data: { parkext: '700', parkpos: '701-730', context: 'parkedcalls', findslot: 'next' },
  });
  assert.equal(upd.status, 200, upd.text);
  assert.deepEqual(upd.body.result.data, { parkext: '700', parkpos: '701-730', context: 'parkedcalls', findslot: 'next' });
  const t = text('res_parking.conf');
  assert.match(t, /parkpos => 701-730\ncontext => parkedcalls ; where parked calls live\nfindslot = next\n/);
  assert.ok(t.startsWith('; res_parking.conf: hand-written by the admin, keep me\n'));
  assert.match(t, /; the main lot\n\[default\]/);
  // a PUT that leaves a key out removes that line
  await api.put('/v1/admin/park/cfg_parkinglots/gwlot2', { data: { parkpos: '900-910' } });
  assert.deepEqual((await api.get('/v1/admin/park/cfg_parkinglots/gwlot2')).body.result, { name: 'gwlot2', data: { parkpos: '900-910' } });
  assert.equal((await api.del('/v1/admin/park/cfg_parkinglots/gwlot2')).status, 200);
  writeFileSync(path.join(etc, 'res_parking.conf'), FILES['res_parking.conf']!);
});

test('cfg_queues: array form keeps every member => line; an object write to it is 409', async () => {
  const one = await api.get('/v1/admin/queue/cfg_queues/sales');
  assert.deepEqual(one.body.result, {
    name: 'sales',
    data: [{ strategy: 'ringall' }, { member: '> PJSIP/100,0,Alice' }, { member: '> PJSIP/101,0,Bob' }],
  });
  await unchanged('queues.conf', async () => {
    refused(
      await api.put('/v1/admin/queue/cfg_queues/sales', { data: { strategy: 'leastrecent', member: 'PJSIP/100' } }),
      409,
      /array form/,
    );
  });
  // the object form is fine where no key repeats
  assert.equal((await api.put('/v1/admin/queue/cfg_queues/general', { data: { persistentmembers: 'no' } })).status, 200);
  const a = await api.put('/v1/admin/queue/cfg_queues/sales', {
    data: [
      { strategy: 'leastrecent' },
      { member: '> PJSIP/100,0,Alice' },
      { member: '> PJSIP/101,0,Bob' },
      { member: '> PJSIP/102,0,Carol' },
    ],
  });
  assert.equal(a.status, 200, a.text);
  assert.equal(
    text('queues.conf'),
    FILES['queues.conf']!.replace('persistentmembers = yes', 'persistentmembers = no')
      .replace('strategy = ringall ; everyone', 'strategy = leastrecent ; everyone')
      .replace('member => PJSIP/101,0,Bob\n', 'member => PJSIP/101,0,Bob\nmember => PJSIP/102,0,Carol\n'),
  );
  const q = await api.post('/v1/admin/queue/cfg_queues', {
    name: 'support',
    data: [{ strategy: 'ringall' }, { member: '> PJSIP/200' }, { member: '> PJSIP/201' }],
  });
  assert.equal(q.status, 200, q.text);
  assert.match(text('queues.conf'), /\n\[support\]\nstrategy = ringall\nmember => PJSIP\/200\nmember => PJSIP\/201\n$/);
  writeFileSync(path.join(etc, 'queues.conf'), FILES['queues.conf']!);
});

test('templates: POST can create a template and a section using it; PUT cannot change them', async () => {
  const t = await api.post('/v1/admin/queue/cfg_queues', { name: 'qtmpl', is_template: true, data: [{ strategy: 'ringall' }] });
  assert.equal(t.status, 200, t.text);
  assert.equal(t.body.result.is_template, true);
  const q = await api.post('/v1/admin/queue/cfg_queues', { name: 'q1', templates: ['qtmpl'], data: [{ timeout: '15' }] });
  assert.equal(q.status, 200, q.text);
  assert.deepEqual(q.body.result.templates, ['qtmpl']);
  assert.match(text('queues.conf'), /\[qtmpl\]\(!\)\nstrategy = ringall\n\n\[q1\]\(qtmpl\)\ntimeout = 15\n$/);
  await unchanged('queues.conf', async () => {
    refused(await api.put('/v1/admin/queue/cfg_queues/q1', { templates: [], data: [] }), 400, /templates/);
  });
  // sending back what GET gave is fine
  const got = (await api.get('/v1/admin/queue/cfg_queues/q1')).body.result;
  assert.equal((await api.put('/v1/admin/queue/cfg_queues/q1', got)).status, 200);
  writeFileSync(path.join(etc, 'queues.conf'), FILES['queues.conf']!);
});

test('a missing file: section routes answer 404; PUT of the whole file creates it', async () => {
  rmSync(path.join(etc, 'queues.conf'));
  try {
    refused(await api.get('/v1/admin/queue/cfg_queues'), 404);
    refused(await api.post('/v1/admin/queue/cfg_queues', { name: 'x', data: [] }), 404);
    const list = await api.get('/v1/admin/queue/configurations');
    assert.equal(list.status, 200);
    assert.ok(!list.body.result.list.some((x: any) => x.name === 'queues.conf'));
    refused(await api.put('/v1/admin/queue/configurations/queues.conf', { data: '[general]\n' }, { 'if-match': '"abc"' }), 412);
    const a = await api.put('/v1/admin/queue/configurations/queues.conf', { data: FILES['queues.conf'] });
    assert.equal(a.status, 200, a.text);
    assert.equal(a.body.result.reload.status, 'pending');
  } finally {
    writeFileSync(path.join(etc, 'queues.conf'), FILES['queues.conf']!);
  }
});

test('object form: a key named __proto__ is an ordinary key', async () => {
  const a = await api.post('/v1/admin/park/cfg_parkinglots', '{"name": "protolot", "data": {"__proto__": "x", "parkpos": "950-951"}}');
  assert.equal(a.status, 200, a.text);
  assert.match(text('res_parking.conf'), /\[protolot\]\n__proto__ = x\nparkpos = 950-951\n$/);
  const got = await api.get('/v1/admin/park/cfg_parkinglots/protolot');
  assert.match(got.text, /"data":\{"__proto__":"x","parkpos":"950-951"\}/);
  writeFileSync(path.join(etc, 'res_parking.conf'), FILES['res_parking.conf']!);
});

// ---------------------------------------------------------------------------------------------------------------
// the contract

test("the document: each plugin's routes carry its tag and name its file; both PUT bodies and If-Match are described", async () => {
  const doc = (await api.get('/v1/openapi.json')) as unknown as { body: any };
  const paths = doc.body.paths;
  const op = (p: string, m: string) => paths[p][m];
  assert.deepEqual(op('/v1/admin/park/cfg_parkinglots', 'get').tags, ['park']);
  assert.equal(op('/v1/admin/park/cfg_parkinglots', 'get').summary, 'All parking lots in res_parking.conf');
  assert.deepEqual(op('/v1/admin/queue/cfg_queues/{name}', 'put').tags, ['queue']);
  assert.equal(op('/v1/manager/sdialplans', 'post').summary, 'Create a context in extensions.conf');
  assert.equal(op('/v1/admin/pjsip/configurations/{name}', 'put').summary, 'Replace pjsip.conf');
  assert.deepEqual(op('/v1/admin/pjsip/configurations/{name}', 'put').tags, ['pjsip']);
  const put = op('/v1/admin/dialplan/configurations/{name}', 'put');
  assert.deepEqual(Object.keys(put.requestBody.content).sort(), ['application/json', 'text/plain']);
  assert.match(put.description, /If-Match/);
  assert.match(put.description, /ETag/);
  for (const s of ['200', '400', '404', '412', '413']) assert.ok(put.responses[s], `PUT documents ${s}`);
  const sections = op('/v1/admin/dialplan/sdps/{name}', 'put');
  assert.deepEqual(sections.parameters.map((p: any) => `${p.in}:${p.name}`).sort(), [
    'path:name',
    'query:dry_run',
    'query:form',
    'query:index',
    'query:reload',
  ]);
  // a write's answer is what was written, or on ?dry_run=true the diff (ConfigDryRun); 422 when Asterisk refuses it
  for (const o of [put, sections, op('/v1/admin/dialplan/sdps', 'post'), op('/v1/admin/dialplan/sdps/{name}', 'delete')]) {
    assert.match(JSON.stringify(o.responses['200']), /#\/components\/schemas\/ConfigDryRun"/);
    assert.ok(o.responses['422'], 'documents 422');
    assert.ok(o.parameters.some((p: any) => p.in === 'query' && p.name === 'dry_run'));
  }
  assert.deepEqual(Object.keys(doc.body.components.schemas.ConfigDryRun.properties).sort(), ['diff', 'dry_run', 'name', 'reload']);
  assert.match(sections.description, /If-Match/);
  assert.ok(doc.body.components.schemas.ConfigSection);
  assert.ok(doc.body.components.schemas.ConfigEntryInput);
});

test('every answer above was checked against the document', async () => {
  const checker = await api.contract();
  assert.ok(checker, 'the app serves its OpenAPI document');
  assert.ok(checker.checked > 100, `checked ${checker.checked} answers`);
});
