// PATCH on the section routes (core/config-routes/, section-form.ts patchEntries) without Asterisk: only the keys
// given change, null removes, an array replaces the lines of a repeated key in place; every other byte stays. Each
// answer is checked against the served OpenAPI document (test/support/http.ts).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AmiNotConnectedError } from '../../core/ami/errors.ts';
import { parseConfig } from '../../core/config.ts';
import { ConfigFiles } from '../../core/config-files.ts';
import { patchEntries } from '../../core/config-routes/section-form.ts';
import { mountConfigRoutes, routeApp } from '../support/app.ts';
import type { client } from '../support/http.ts';
import { testLogger } from '../support/log.ts';

let dir: string;
let etc: string;
let api: ReturnType<typeof client>;
const failures: unknown[] = [];

const QUEUES = `; queues.conf: hand-written, keep me
[general]
persistentmembers = yes

[sales]
strategy = ringall ; everyone at once
; the team
member => PJSIP/100,0,Alice
member => PJSIP/101,0,Bob ; Bob works mornings
member => PJSIP/102,0,Carol
timeout = 15

[support]
strategy = linear
`;
const PARKING = `[general]
parkeddynamic = no

; the main lot
[default]
parkext => 700
parkpos => 701-720 ; twenty spaces
context => parkedcalls
`;
const DIALPLAN = `[internal]
exten => 100,1,NoOp(desk) ; front desk
 same => n,Hangup()

[twice]
exten => 1,1,NoOp(first)

[twice]
exten => 2,1,NoOp(second)
`;

const file = (name: string) => readFileSync(path.join(etc, name), 'utf8');
const lines = (s: string) => s.split('\n');
/** The lines of `b` that differ from `a` (same length), as [index, before, after]. */
function changedLines(a: string, b: string): [number, string, string][] {
  const x = lines(a);
  const y = lines(b);
  assert.equal(y.length, x.length, `same number of lines:\n${b}`);
  return x.flatMap((l, i) => (l === y[i] ? [] : [[i, l, y[i]!] as [number, string, string]]));
}

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'gw-cfgpatch-'));
  etc = path.join(dir, 'etc');
  mkdirSync(etc);
  mkdirSync(path.join(dir, 'data'));
  writeFileSync(path.join(etc, 'queues.conf'), QUEUES);
  writeFileSync(path.join(etc, 'res_parking.conf'), PARKING);
  writeFileSync(path.join(etc, 'extensions.conf'), DIALPLAN);
  const cfg = parseConfig(
    `ami: {host: 127.0.0.1, port: 1, username: u, secret: s}\ndata_dir: ${path.join(dir, 'data')}\nasterisk: {config_dir: ${etc}}\n`,
    path.join(dir, 'gateway.yaml'),
    [],
  );
  const down = async (): Promise<never> => {
    throw new AmiNotConnectedError();
  };
  const files = new ConfigFiles(cfg, { connected: false, action: down, command: down }, testLogger('test'));
  ({ api } = await routeApp({
    plugins: ['dialplan', 'park', 'queue'],
    tokens: { t: { userUuid: 'a', roles: new Set(['admin']) } },
    bodyLimitBytes: 65536,
    logError: (e) => failures.push(e),
    mount: (http) => mountConfigRoutes(http, { configFiles: files }, ['dialplan', 'park', 'queue']),
  }));
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
  assert.deepEqual(failures, [], 'no request failed inside the gateway (500)');
});

test('patchEntries: set in place, null removes, arrays pair with the lines of a repeated key, new keys go last', () => {
  const old = [
    { key: 'a', op: '=' as const, value: '1' },
    { key: 'm', op: '=>' as const, value: 'x' },
    { key: 'm', op: '=>' as const, value: 'y' },
    { key: 'b', op: '=' as const, value: '2' },
  ];
  assert.deepEqual(patchEntries(old, { a: '9' }), [
    { key: 'a', value: '9' },
    { key: 'm', op: '=>', value: 'x' },
    { key: 'm', op: '=>', value: 'y' },
    { key: 'b', op: '=', value: '2' },
  ]);
  assert.deepEqual(patchEntries(old, { b: null, c: '3' }), [
    { key: 'a', op: '=', value: '1' },
    { key: 'm', op: '=>', value: 'x' },
    { key: 'm', op: '=>', value: 'y' },
    { key: 'c', value: '3' },
  ]);
  // three values for two lines: the third goes after the key's last line; "> z" asks for =>
  assert.deepEqual(patchEntries(old, { m: ['x', 'Y', '> z'] }), [
    { key: 'a', op: '=', value: '1' },
    { key: 'm', value: 'x' },
    { key: 'm', value: 'Y' },
    { key: 'm', op: '=>', value: ' z' },
    { key: 'b', op: '=', value: '2' },
  ]);
  assert.equal((patchEntries(old, { m: ['only'] }) as unknown[]).length, 3);
  assert.equal((patchEntries(old, { m: [] }) as unknown[]).length, 2);
  assert.deepEqual(patchEntries(old, { m: 'one' }), { repeats: 'm' });
});

test('PATCH one key of a queue with three member => lines and a comment: exactly that line changes', async () => {
  const before = file('queues.conf');
  const a = await api.patch('/v1/admin/queue/cfg_queues/sales', { data: { strategy: 'leastrecent' } });
  assert.equal(a.status, 200, a.text);
  const after = file('queues.conf');
  assert.deepEqual(changedLines(before, after), [
    [5, 'strategy = ringall ; everyone at once', 'strategy = leastrecent ; everyone at once'],
  ]);
  assert.deepEqual(a.body.result.data, [
    { strategy: 'leastrecent' },
    { member: '> PJSIP/100,0,Alice' },
    { member: '> PJSIP/101,0,Bob' },
    { member: '> PJSIP/102,0,Carol' },
    { timeout: '15' },
  ]);
  assert.match(a.body.result.backup, /^queues\.conf\./);
  assert.equal(a.body.result.reload.status, 'pending');
});

test('PATCH a repeated key as an array: the lines are replaced in place and in order, comments stay', async () => {
  const before = file('queues.conf');
  const a = await api.patch('/v1/admin/queue/cfg_queues/sales', {
    data: { member: ['> PJSIP/100,0,Alice', '> PJSIP/101,5,Bob', '> PJSIP/102,0,Carol'] },
  });
  assert.equal(a.status, 200, a.text);
  assert.deepEqual(changedLines(before, file('queues.conf')), [
    [8, 'member => PJSIP/101,0,Bob ; Bob works mornings', 'member => PJSIP/101,5,Bob ; Bob works mornings'],
  ]);
  // a plain value for a key that repeats is 409 and writes nothing
  const bytes = file('queues.conf');
  const c = await api.patch('/v1/admin/queue/cfg_queues/sales', { data: { member: 'PJSIP/1' } });
  assert.equal(c.status, 409, c.text);
  assert.match(c.body.result.message, /"member" more than once.*array/);
  assert.equal(file('queues.conf'), bytes);
  // one more member: it goes after the last member line; without ">" it keeps the key's => (as the others)
  const d = await api.patch('/v1/admin/queue/cfg_queues/sales', {
    data: { member: ['PJSIP/100,0,Alice', 'PJSIP/101,5,Bob', 'PJSIP/102,0,Carol', 'PJSIP/103,0,Dave'] },
  });
  assert.equal(d.status, 200, d.text);
  assert.equal(
    file('queues.conf'),
    bytes.replace('member => PJSIP/102,0,Carol\n', 'member => PJSIP/102,0,Carol\nmember => PJSIP/103,0,Dave\n'),
  );
  // fewer values: the lines left over go
  const e = await api.patch('/v1/admin/queue/cfg_queues/sales', { data: { member: ['PJSIP/100,0,Alice'] } });
  assert.equal(e.status, 200, e.text);
  assert.doesNotMatch(file('queues.conf'), /Bob|Carol|Dave/);
  assert.match(file('queues.conf'), /; the team\nmember => PJSIP\/100,0,Alice\ntimeout = 15\n/);
});

test('PATCH null removes a key, a new key goes after the last entry; other sections keep their bytes', async () => {
  const a = await api.patch('/v1/admin/queue/cfg_queues/sales', { data: { timeout: null, wrapuptime: 5 } });
  assert.equal(a.status, 200, a.text);
  const q = file('queues.conf');
  assert.doesNotMatch(q, /timeout/);
  assert.match(q, /member => PJSIP\/100,0,Alice\nwrapuptime = 5\n\n\[support\]\nstrategy = linear\n$/);
  assert.ok(q.startsWith('; queues.conf: hand-written, keep me\n[general]\npersistentmembers = yes\n'));
});

test('PATCH on an object-form section keeps the op of the line it rewrites, and its comment', async () => {
  const before = file('res_parking.conf');
  const a = await api.patch('/v1/admin/park/cfg_parkinglots/default', { data: { parkpos: '701-730' } });
  assert.equal(a.status, 200, a.text);
  assert.deepEqual(changedLines(before, file('res_parking.conf')), [
    [6, 'parkpos => 701-720 ; twenty spaces', 'parkpos => 701-730 ; twenty spaces'],
  ]);
  assert.deepEqual(a.body.result.data, { parkext: '700', parkpos: '701-730', context: 'parkedcalls' });
  // the same patch again changes nothing: no backup, no reload
  const same = await api.patch('/v1/admin/park/cfg_parkinglots/default', { data: { parkpos: '701-730' } });
  assert.equal(same.status, 200);
  assert.equal(same.body.result.backup, null);
  assert.equal(same.body.result.reload.status, 'none');
});

test('PATCH refusals write nothing: unknown section 404, repeated name without ?index= 409, bad bodies 400', async () => {
  const dp = file('extensions.conf');
  const r404 = await api.patch('/v1/admin/dialplan/sdps/nope', { data: { a: '1' } });
  assert.equal(r404.status, 404, r404.text);
  const r409 = await api.patch('/v1/admin/dialplan/sdps/twice', { data: { exten: ['2,1,NoOp(x)'] } });
  assert.equal(r409.status, 409, r409.text);
  for (const data of [{ 'a=b': '1' }, { a: 'x\ny' }, { a: { b: 1 } }, { a: [null] }, []]) {
    const r = await api.patch('/v1/admin/dialplan/sdps/internal', { data });
    assert.equal(r.status, 400, `${JSON.stringify(data)}: ${r.text}`);
  }
  assert.equal(file('extensions.conf'), dp);
  const ok = await api.patch('/v1/admin/dialplan/sdps/twice?index=1', { data: { exten: ['> 2,1,NoOp(changed)'] } });
  assert.equal(ok.status, 200, ok.text);
  assert.equal(file('extensions.conf'), dp.replace('exten => 2,1,NoOp(second)', 'exten => 2,1,NoOp(changed)'));
});

test('405 answers list PATCH in Allow; every answer above was checked against the document', async () => {
  const r = await api.post('/v1/admin/queue/cfg_queues/sales', {});
  assert.equal(r.status, 405);
  assert.match(r.headers.get('allow') ?? '', /PATCH/);
  const checker = await api.contract();
  assert.ok(checker && checker.checked > 8, `checked ${checker?.checked} answers`);
  assert.ok(existsSync(path.join(dir, 'data', 'backups')) && readdirSync(path.join(dir, 'data', 'backups')).length > 0);
});
