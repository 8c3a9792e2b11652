// Safe config changes without Asterisk (issue 12): the unified diff of a dry run, ?dry_run=true on every config
// route (nothing written: bytes, mtime, backups, reloads), the check after a reload with its rollback (422
// reload_rejected, the file byte-identical), ?reload=later with POST /admin/config/apply (one reload per module),
// and the asterisk.reload_timeout_s bound. A fake AMI plays Asterisk: on a reload it reads the file and "loads" the
// objects in it, refusing an endpoint with an option it does not know, as res_pjsip does.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AmiNotConnectedError } from '../../core/ami/errors.ts';
import type { AmiMessage } from '../../core/ami/message.ts';
import { ConfigFiles, changedObjects, registerConfigApplyRoute } from '../../core/config-files.ts';
import type { GatewayConfig } from '../../core/config.ts';
import { parseConfig, unifiedDiff } from '../../config-store/index.ts';
import { testLogger } from '../support/log.ts';
import { mountConfigRoutes, routeApp } from '../support/app.ts';
import type { client } from '../support/http.ts';

let dir: string;
let etc: string;
let backups: string;
let api: ReturnType<typeof client>;
let files: ConfigFiles;

const ENDPOINT_OPTIONS = new Set(['type', 'context', 'aors', 'auth', 'transport', 'allow', 'disallow']);

/** The objects "Asterisk" has loaded, by list action, from the files as they were at the last reload of each. */
const loaded: Record<string, Set<string>> = { PJSIPShowEndpoints: new Set(), Parkinglots: new Set(), QueueStatus: new Set() };

const ami = {
  connected: true,
  calls: [] as string[],
  /** While set, a reload never answers (the reload_timeout_s test). */
  hang: false,
  load(module: string): void {
    const read = (f: string) => parseConfig(readFileSync(path.join(etc, f), 'utf8'), f).sections();
    if (module === 'res_pjsip.so') {
      loaded.PJSIPShowEndpoints = new Set(
        read('pjsip.conf')
          .filter((s) => s.entries.some((e) => e.key === 'type' && e.value === 'endpoint'))
          .filter((s) => s.entries.every((e) => ENDPOINT_OPTIONS.has(e.key)))
          .map((s) => s.name),
      );
    }
    if (module === 'res_parking.so')
      loaded.Parkinglots = new Set(
        read('res_parking.conf')
          .map((s) => s.name)
          .filter((n) => n !== 'general'),
      );
    if (module === 'app_queue.so')
      loaded.QueueStatus = new Set(
        read('queues.conf')
          .map((s) => s.name)
          .filter((n) => n !== 'general'),
      );
  },
  async action(name: string, headers: Record<string, string> = {}): Promise<AmiMessage> {
    if (!this.connected) throw new AmiNotConnectedError();
    this.calls.push(`${name} ${headers.Module ?? ''}`.trim());
    if (this.hang) return new Promise<never>(() => {});
    if (name === 'ModuleLoad') this.load(headers.Module!);
    return { fields: { Response: 'Success', Message: 'Module reloaded.' } };
  },
  async command(cmd: string): Promise<string[]> {
    this.calls.push(`Command ${cmd}`);
    if (this.hang) return new Promise<never>(() => {});
    return ['Dialplan reloaded.'];
  },
  async list(name: string) {
    this.calls.push(`list ${name}`);
    const names = [...(loaded[name] ?? [])];
    const events =
      name === 'PJSIPShowEndpoints'
        ? names.map((n) => ({ fields: { Event: 'EndpointList', ObjectName: n } }))
        : name === 'Parkinglots'
          ? names.map((n) => ({ fields: { Event: 'Parkinglot', Name: n } }))
          : names.map((n) => ({ fields: { Event: 'QueueParams', Queue: n } }));
    return { response: { fields: { Response: 'Success' } }, events, complete: undefined, seq: 0 };
  },
};

const FILES: Record<string, string> = {
  'extensions.conf': '; keep me\n[ctx]\nexten => 1,1,NoOp() ; one\n same => n,Hangup()\n',
  'pjsip.conf': '; keep me\n[6001]\ntype = endpoint\ncontext = ctx\n\n[broken]\ntype = endpoint\nhand_typo = yes\n',
  'queues.conf': '; keep me\n[general]\npersistentmembers = yes\n\n[sales]\nstrategy = ringall\n',
  'res_parking.conf': '; keep me\n[general]\n\n[default]\nparkpos => 701-720\n',
};

const file = (f: string) => path.join(etc, f);
const snapshot = (f: string) => ({ bytes: readFileSync(file(f)), mtime: statSync(file(f)).mtimeMs });
const backupCount = () => (existsSync(backups) ? readdirSync(backups).length : 0);

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'gw-cfgsafe-'));
  etc = path.join(dir, 'etc');
  backups = path.join(dir, 'data', 'backups');
  mkdirSync(etc);
  for (const [n, t] of Object.entries(FILES)) writeFileSync(file(n), t);
  for (const m of ['res_pjsip.so', 'res_parking.so', 'app_queue.so']) ami.load(m);
  const config = {
    asterisk: { config_dir: etc, reload_timeout_s: 1 },
    data_dir: path.join(dir, 'data'),
    backups: { retention: 50 },
  } as GatewayConfig;
  files = new ConfigFiles(config, ami as never, testLogger('test'));
  ({ api } = await routeApp({
    plugins: ['dialplan', 'pjsip', 'park', 'queue', 'core'],
    mount: (http) => {
      mountConfigRoutes(http, { configFiles: files });
      registerConfigApplyRoute(http.router('core'), files);
    },
  }));
});
after(() => rmSync(dir, { recursive: true, force: true }));

// ---------------------------------------------------------------------------------------------------------------
// the diff

/** Applies a unified diff to `before` (strictly: every context and removed line must match). */
function applyPatch(before: string, diff: string): string {
  if (diff === '') return before;
  const a = before.match(/[^\n]*\n|[^\n]+$/g) ?? [];
  const lines = diff.split('\n');
  assert.match(lines[0]!, /^--- /);
  assert.match(lines[1]!, /^\+\+\+ /);
  const out: string[] = [];
  let ai = 0;
  let i = 2;
  while (i < lines.length && lines[i] !== '') {
    const m = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@$/.exec(lines[i]!);
    assert.ok(m, `hunk header: ${lines[i]}`);
    const aStart = Number(m[1]);
    const aLen = m[2] === undefined ? 1 : Number(m[2]);
    const from = aLen === 0 ? aStart : aStart - 1;
    while (ai < from) out.push(a[ai++]!);
    i++;
    while (i < lines.length && /^[ +\\-]/.test(lines[i]!)) {
      const l = lines[i]!;
      const noEol = lines[i + 1]?.startsWith('\\ No newline') === true;
      const textOf = l.slice(1) + (noEol ? '' : '\n');
      if (l[0] === ' ' || l[0] === '-') {
        assert.equal(a[ai], textOf, `line ${ai + 1} as the diff says`);
        ai++;
        if (l[0] === ' ') out.push(textOf);
      } else if (l[0] === '+') out.push(textOf);
      i += noEol ? 2 : 1;
    }
  }
  while (ai < a.length) out.push(a[ai++]!);
  return out.join('');
}

test('unifiedDiff: diff -u form (hunks, context 3, ranges, no newline at end), and it applies back exactly', () => {
  assert.equal(unifiedDiff('a\n', 'a\n', 'f'), '');
  assert.equal(unifiedDiff('a\nb\nc\n', 'a\nB\nc\n', 'f'), '--- a/f\n+++ b/f\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n');
  assert.equal(unifiedDiff(null, 'x\n', 'f'), '--- /dev/null\n+++ b/f\n@@ -0,0 +1 @@\n+x\n');
  assert.equal(unifiedDiff('x\n', '', 'f'), '--- a/f\n+++ b/f\n@@ -1 +0,0 @@\n-x\n');
  assert.equal(unifiedDiff('a\nb', 'a\nb\n', 'f'), '--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+b\n');
  const long = Array.from({ length: 13 }, (_, i) => `${i + 1}\n`).join('');
  const two = long.replace('3\n', 'X\n').replace('11\n', 'Y\n');
  // 7 unchanged lines between two changes: two hunks (diff joins them at 6 or fewer)
  assert.equal(
    unifiedDiff(long, two, 'f'),
    '--- a/f\n+++ b/f\n@@ -1,6 +1,6 @@\n 1\n 2\n-3\n+X\n 4\n 5\n 6\n@@ -8,6 +8,6 @@\n 8\n 9\n 10\n-11\n+Y\n 12\n 13\n',
  );
  assert.equal(unifiedDiff(long, long.replace('3\n', 'X\n').replace('10\n', 'Y\n'), 'f').match(/^@@/gm)!.length, 1);
  const far = Array.from({ length: 30 }, (_, i) => `${i + 1}\n`).join('');
  const d = unifiedDiff(far, far.replace('2\n', 'two\n').replace('28\n', 'x\n'), 'f');
  assert.equal(d.match(/^@@/gm)!.length, 2, d);
  // random texts: the diff always takes `before` to `after`
  let seed = 7;
  const r = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const pick = () => ['k=v\n', '[s]\n', '; c\n', '\n', 'exten => 1,1,NoOp()\n', 'x\r\n', 'last'][Math.floor(r() * 7)]!;
  for (let n = 0; n < 300; n++) {
    const x = Array.from({ length: Math.floor(r() * 20) }, pick).join('');
    const y = Array.from({ length: Math.floor(r() * 20) }, pick).join('');
    const fix = (t: string) => t.replace(/last(?!$)/g, 'last\n');
    assert.equal(applyPatch(fix(x), unifiedDiff(fix(x), fix(y), 'f')), fix(y), `case ${n}`);
  }
});

// ---------------------------------------------------------------------------------------------------------------
// dry run

test('dry_run=true on every config route: the diff and the reload it would make; no byte, mtime, backup or reload', async () => {
  ami.calls = [];
  const cases: [string, () => Promise<{ status: number; body: any; text: string }>, RegExp][] = [
    [
      'extensions.conf',
      () => api.put('/v1/admin/dialplan/configurations/extensions.conf?dry_run=true', { data: `${FILES['extensions.conf']}[new]\n` }),
      /\+\[new\]\n/,
    ],
    [
      'extensions.conf',
      () =>
        api.put('/v1/admin/dialplan/configurations/extensions.conf?dry_run=1', `${FILES['extensions.conf']}; more\n`, {
          'content-type': 'text/plain',
        }),
      /\+; more\n/,
    ],
    [
      'extensions.conf',
      () => api.post('/v1/admin/dialplan/sdps?dry_run=true', { name: 'c9', data: [{ exten: '> 9,1,NoOp()' }] }),
      /\+\[c9\]\n\+exten => 9,1,NoOp\(\)\n/,
    ],
    [
      'extensions.conf',
      () => api.put('/v1/admin/dialplan/sdps/ctx?dry_run=true', { data: [{ exten: '> 1,1,NoOp() ' }] }),
      /- same => n,Hangup\(\)\n/,
    ],
    ['extensions.conf', () => api.del('/v1/admin/dialplan/sdps/ctx?dry_run=true'), /-\[ctx\]\n/],
    [
      'queues.conf',
      () => api.put('/v1/admin/queue/cfg_queues/sales?dry_run=true', { data: [{ strategy: 'leastrecent' }] }),
      /-strategy = ringall\n\+strategy = leastrecent\n/,
    ],
    [
      'res_parking.conf',
      () => api.post('/v1/admin/park/cfg_parkinglots?dry_run=true', { name: 'lot2', data: { parkpos: '801-802' } }),
      /\+\[lot2\]/,
    ],
    [
      'pjsip.conf',
      () =>
        api.put('/v1/admin/pjsip/configurations/pjsip.conf?dry_run=true', { data: `${FILES['pjsip.conf']}\n[6002]\ntype = endpoint\n` }),
      /\+\[6002\]/,
    ],
  ];
  const reloads: Record<string, string> = {
    'extensions.conf': 'dialplan reload',
    'queues.conf': 'module reload app_queue.so',
    'res_parking.conf': 'module reload res_parking.so',
    'pjsip.conf': 'module reload res_pjsip.so',
  };
  const nBackups = backupCount();
  for (const [f, call, want] of cases) {
    const was = snapshot(f);
    const a = await call();
    assert.equal(a.status, 200, a.text);
    assert.equal(a.body.result.dry_run, true);
    assert.equal(a.body.result.name, f);
    assert.equal(a.body.result.reload, reloads[f]);
    assert.match(a.body.result.diff, new RegExp(`^--- a/${f.replace('.', '\\.')}\\n\\+\\+\\+ b/`));
    assert.match(a.body.result.diff, want);
    // the diff is exactly the change: applied to the file it gives the text the write would make
    assert.ok(applyPatch(was.bytes.toString('utf8'), a.body.result.diff).length > 0);
    const now = snapshot(f);
    assert.ok(now.bytes.equals(was.bytes), `${f} unchanged`);
    assert.equal(now.mtime, was.mtime, `${f} mtime unchanged`);
  }
  assert.equal(backupCount(), nBackups, 'no backup');
  assert.deepEqual(ami.calls, [], 'no reload, no check');
  // the whole-file dry run's diff applied to the file is the text sent
  const next = `${FILES['queues.conf']}[support]\nstrategy = rrmemory\n`;
  const d = await api.put('/v1/admin/queue/configurations/queues.conf?dry_run=true', { data: next });
  assert.equal(applyPatch(readFileSync(file('queues.conf'), 'utf8'), d.body.result.diff), next);
  // nothing to change: empty diff, no reload
  const same = await api.put('/v1/admin/queue/configurations/queues.conf?dry_run=true', { data: FILES['queues.conf'] });
  assert.deepEqual(same.body.result, { dry_run: true, name: 'queues.conf', diff: '', reload: null });
});

test('dry_run=true is checked like the real write: refusals are the same and write nothing', async () => {
  const was = snapshot('extensions.conf');
  const a = await api.put('/v1/admin/dialplan/configurations/extensions.conf?dry_run=true', 'null', { 'content-type': 'text/plain' });
  assert.equal(a.status, 400, a.text);
  assert.match(a.body.result.message, /line 1: No '='/);
  const b = await api.post('/v1/admin/dialplan/sdps?dry_run=true', { name: 'ctx', data: [] });
  assert.equal(b.status, 409, b.text);
  const c = await api.put('/v1/admin/dialplan/sdps/ctx?dry_run=true', { data: [] }, { 'if-match': '"stale"' });
  assert.equal(c.status, 412, c.text);
  const d = await api.put('/v1/admin/dialplan/sdps/ctx?dry_run=maybe', { data: [] });
  assert.equal(d.status, 400, d.text);
  assert.equal(d.body.result.field, 'dry_run');
  assert.ok(snapshot('extensions.conf').bytes.equals(was.bytes));
});

// ---------------------------------------------------------------------------------------------------------------
// check and rollback

test('an endpoint res_pjsip refuses is rolled back (whole file and section route): 422, file byte-identical, earlier endpoints listed', async () => {
  for (const write of [
    () =>
      api.put('/v1/admin/pjsip/configurations/pjsip.conf', {
        data: `${readFileSync(file('pjsip.conf'), 'utf8')}\n[6009]\ntype = endpoint\nbogus_option = yes\n`,
      }),
  ]) {
    ami.calls = [];
    const before = readFileSync(file('pjsip.conf'));
    const a = await write();
    assert.equal(a.status, 422, a.text);
    assert.equal(a.body.result.code, 'reload_rejected');
    assert.match(a.body.result.errors[0], /endpoint "6009" was written to pjsip\.conf, but after the reload Asterisk does not list it/);
    assert.match(a.body.result.restored, /^pjsip\.conf\./);
    assert.equal(a.body.result.reload_after_restore.status, 'done');
    assert.ok(readFileSync(file('pjsip.conf')).equals(before), 'pjsip.conf byte-identical to before');
    assert.deepEqual(ami.calls, ['ModuleLoad res_pjsip.so', 'list PJSIPShowEndpoints', 'ModuleLoad res_pjsip.so']);
    assert.ok(loaded.PJSIPShowEndpoints!.has('6001'), 'the earlier endpoint is listed after the restore');
  }
  // an endpoint Asterisk takes passes; the hand-written [broken] one (refused before the write) does not block it
  const ok = await api.put('/v1/admin/pjsip/configurations/pjsip.conf', {
    data: `${readFileSync(file('pjsip.conf'), 'utf8')}\n[6010]\ntype = endpoint\ncontext = ctx\n`,
  });
  assert.equal(ok.status, 200, ok.text);
  assert.equal(ok.body.result.reload.status, 'done');
  assert.ok(loaded.PJSIPShowEndpoints!.has('6010'));
});

test('a queue or lot written through the section routes that Asterisk does not list is rolled back', async () => {
  const before = readFileSync(file('queues.conf'));
  const real = ami.load;
  ami.load = function (m: string) {
    real.call(this, m);
    loaded.QueueStatus!.delete('support'); // Asterisk refuses this queue
  };
  try {
    const a = await api.post('/v1/admin/queue/cfg_queues', { name: 'support', data: [{ strategy: 'ringall' }] });
    assert.equal(a.status, 422, a.text);
    assert.match(a.body.result.errors[0], /queue "support"/);
    assert.ok(readFileSync(file('queues.conf')).equals(before));
  } finally {
    ami.load = real;
  }
  const b = await api.post('/v1/admin/queue/cfg_queues', { name: 'support', data: [{ strategy: 'ringall' }] });
  assert.equal(b.status, 200, b.text);
});

test('rollback of a write that created the file removes it; a rollback never undoes a later write (412)', async () => {
  const original = readFileSync(file('pjsip.conf'));
  rmSync(file('pjsip.conf'));
  try {
    const a = await api.put('/v1/admin/pjsip/configurations/pjsip.conf', { data: '[6100]\ntype = endpoint\nbogus_option = yes\n' });
    assert.equal(a.status, 422, a.text);
    assert.equal(a.body.result.restored, null);
    assert.match(a.body.result.message, /no pjsip\.conf \(the write created it; it was removed\)/);
    assert.equal(existsSync(file('pjsip.conf')), false, 'the file the write created is gone');
  } finally {
    writeFileSync(file('pjsip.conf'), original);
  }
  // restore() only undoes the write it was given: once the file changed again it refuses and changes nothing
  const w1 = await files.store.replace('queues.conf', `${readFileSync(file('queues.conf'), 'utf8')}; one\n`);
  const w2 = await files.store.replace('queues.conf', `${readFileSync(file('queues.conf'), 'utf8')}; two\n`);
  const now = readFileSync(file('queues.conf'));
  await assert.rejects(files.store.restore('queues.conf', w1.backup!, w1.etag), (e: Error & { status?: number }) => e.status === 412);
  assert.ok(readFileSync(file('queues.conf')).equals(now));
  // undoing the last write puts its backup back byte for byte
  const back = await files.store.restore('queues.conf', w2.backup!, w2.etag);
  assert.ok(readFileSync(file('queues.conf')).equals(readFileSync(path.join(backups, w2.backup!))));
  assert.equal(back!.etag, w1.etag);
});

test('changedObjects: only objects a write adds or changes are checked (templates and [general] never)', () => {
  const before = '[t](!)\ntype = endpoint\n[a](t)\n[b]\ntype = endpoint\nx = 1\n';
  assert.deepEqual(changedObjects('pjsip.conf', before, before), []);
  assert.deepEqual(changedObjects('pjsip.conf', before, `${before}[c](t)\n`), ['c'], 'type from the template');
  assert.deepEqual(changedObjects('pjsip.conf', before, before.replace('x = 1', 'x = 2')), ['b']);
  assert.deepEqual(changedObjects('pjsip.conf', null, '[a]\ntype = aor\n'), []);
  assert.deepEqual(changedObjects('queues.conf', '[general]\n', '[general]\na = 1\n[q]\n'), ['q']);
  assert.deepEqual(changedObjects('res_parking.conf', '', '[general]\n[lot](!)\n[l2]\n'), ['l2']);
  assert.deepEqual(changedObjects('extensions.conf', '', '[x]\n'), []);
});

test('a reload unanswered within asterisk.reload_timeout_s is 504 asterisk_timeout, not left processing', async () => {
  ami.hang = true;
  try {
    const t0 = performance.now();
    const a = await api.put('/v1/admin/dialplan/sdps/ctx', { data: [{ exten: '> 1,1,NoOp(timeout)' }] });
    const ms = performance.now() - t0;
    assert.equal(a.status, 504, a.text);
    assert.equal(a.body.result.code, 'asterisk_timeout');
    assert.match(a.body.result.message, /reload_timeout_s \(1 s\)/);
    assert.ok(ms >= 900 && ms < 3000, `answered in ${Math.round(ms)} ms`);
  } finally {
    ami.hang = false;
  }
});

// ---------------------------------------------------------------------------------------------------------------
// batch

test('reload=later: three writes, no reload; status lists them; one apply reloads each module once', async () => {
  ami.calls = [];
  const a = await api.put('/v1/admin/queue/cfg_queues/sales?reload=later', { data: [{ strategy: 'leastrecent' }] });
  assert.equal(a.status, 200, a.text);
  assert.equal(a.body.result.reload.status, 'later');
  const b = await api.post('/v1/admin/queue/cfg_queues?reload=later', { name: 'billing', data: [{ strategy: 'ringall' }] });
  assert.equal(b.body.result.reload.status, 'later');
  const c = await api.post('/v1/admin/park/cfg_parkinglots?reload=later', { name: 'lot9', data: { parkpos: '901-909' } });
  assert.equal(c.body.result.reload.status, 'later');
  assert.match(readFileSync(file('queues.conf'), 'utf8'), /\[billing\]/, 'written');
  assert.deepEqual(ami.calls, [], 'no reload yet');
  assert.deepEqual(
    files.unappliedFiles().map((u) => [u.name, u.module]),
    [
      ['queues.conf', 'module reload app_queue.so'],
      ['res_parking.conf', 'module reload res_parking.so'],
    ],
  );
  const applied = await api.post('/v1/admin/config/apply', {});
  assert.equal(applied.status, 200, applied.text);
  assert.deepEqual(applied.body.result.list, [
    { module: 'module reload app_queue.so', files: ['queues.conf'], reload: { status: 'done', message: 'Module reloaded.' } },
    { module: 'module reload res_parking.so', files: ['res_parking.conf'], reload: { status: 'done', message: 'Module reloaded.' } },
  ]);
  assert.deepEqual(ami.calls, ['ModuleLoad app_queue.so', 'ModuleLoad res_parking.so'], 'one reload per module');
  assert.deepEqual(files.unappliedFiles(), []);
  assert.ok(loaded.QueueStatus!.has('billing') && loaded.Parkinglots!.has('lot9'));
  // nothing left: apply makes no reload
  ami.calls = [];
  assert.deepEqual((await api.post('/v1/admin/config/apply', {})).body.result.list, []);
  assert.deepEqual(ami.calls, []);
});
