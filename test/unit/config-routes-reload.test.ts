// The reload half of a config write, with a fake AMI behind the real ConfigFiles: done (with Asterisk's message),
// failed (with Asterisk's message: rolled back, 422), pending while AMI is down and made after reconnect; which reload each file gets.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigFiles } from '../../core/config-files.ts';
import type { GatewayConfig } from '../../core/config.ts';
import { registerConfigFileRoutes, registerConfigSectionRoutes } from '../../core/config-routes/routes.ts';
import { HttpApp } from '../../core/http/app.ts';
import { testLogger } from '../support/log.ts';
import { AmiError, AmiNotConnectedError } from '../../core/ami/errors.ts';
import type { AmiMessage } from '../../core/ami/message.ts';
import { mountConfigRoutes, routeApp } from '../support/app.ts';
import { client } from '../support/http.ts';

let dir: string;
let etc: string;
let api: ReturnType<typeof client>;
let files: ConfigFiles;
let http: HttpApp;

/** A fake AMI: records what it was asked; `fail` makes the next action answer Response: Error. */
const ami = {
  connected: false,
  calls: [] as string[],
  fail: null as string | null,
  async action(name: string, headers: Record<string, unknown> = {}): Promise<AmiMessage> {
    if (!this.connected) throw new AmiNotConnectedError();
    this.calls.push(`${name} ${JSON.stringify(headers)}`);
    if (this.fail) {
      const msg = this.fail;
      this.fail = null;
      throw new AmiError(msg, { fields: { Response: 'Error', Message: msg } } as unknown as AmiMessage);
    }
    return { fields: { Response: 'Success', Message: 'Module reloaded.' } } as unknown as AmiMessage;
  },
  async command(cmd: string): Promise<string[]> {
    if (!this.connected) throw new AmiNotConnectedError();
    this.calls.push(`Command ${cmd}`);
    return ['Dialplan reloaded.'];
  },
};

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'gw-cfgreload-'));
  etc = path.join(dir, 'etc');
  mkdirSync(etc);
  writeFileSync(path.join(etc, 'extensions.conf'), '; keep me\n[ctx]\nexten => 1,1,NoOp()\n');
  writeFileSync(path.join(etc, 'pjsip.conf'), '; keep me\n[t]\ntype = transport\n');
  writeFileSync(path.join(etc, 'queues.conf'), '; keep me\n[q]\nstrategy = ringall\n');
  writeFileSync(path.join(etc, 'res_parking.conf'), '; keep me\n[default]\nparkpos => 701-720\n');
  writeFileSync(path.join(etc, 'other.conf'), '; keep me\n[a]\nb = c\n');
  const config = { asterisk: { config_dir: etc }, data_dir: path.join(dir, 'data'), backups: { retention: 5 } } as GatewayConfig;
  files = new ConfigFiles(config, ami as never, testLogger('test'));
  // the app serves its document, so the answers below are checked against it
  ({ http, api } = await routeApp({
    plugins: ['dialplan', 'pjsip', 'park', 'queue', 'other'],
    mount: (app) => {
      mountConfigRoutes(app, { configFiles: files });
      // a file that needs no reload
      const other = { router: app.router('other'), configFiles: files };
      registerConfigSectionRoutes(other, { file: 'other.conf', base: '/admin/other/sections', tag: 'other', form: 'object' });
      registerConfigFileRoutes(other, { file: 'other.conf', base: '/admin/other/configurations', tag: 'other' });
    },
  }));
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('each file gets its reload: dialplan reload, res_pjsip, app_queue, res_parking', async () => {
  ami.connected = true;
  ami.calls = [];
  const a = await api.post('/v1/admin/dialplan/sdps', { name: 'c2', data: [{ exten: '> 2,1,NoOp()' }] });
  assert.equal(a.status, 200, a.text);
  assert.deepEqual(a.body.result.reload, { status: 'done', message: 'Dialplan reloaded.' });
  const b = await api.put('/v1/admin/pjsip/configurations/pjsip.conf', { data: '; keep me\n[t]\ntype = transport\nprotocol = udp\n' });
  assert.deepEqual(b.body.result.reload, { status: 'done', message: 'Module reloaded.' });
  const c = await api.put('/v1/admin/queue/cfg_queues/q', { data: [{ strategy: 'leastrecent' }] });
  assert.deepEqual(c.body.result.reload, { status: 'done', message: 'Module reloaded.' });
  const d = await api.put('/v1/admin/park/cfg_parkinglots/default', { data: { parkpos: '701-730' } });
  assert.deepEqual(d.body.result.reload, { status: 'done', message: 'Module reloaded.' });
  assert.deepEqual(ami.calls, [
    'Command dialplan reload',
    'ModuleLoad {"Module":"res_pjsip.so","LoadType":"reload"}',
    'ModuleLoad {"Module":"app_queue.so","LoadType":"reload"}',
    'ModuleLoad {"Module":"res_parking.so","LoadType":"reload"}',
  ]);
  // a file with no reload: status none
  const e = await api.put('/v1/admin/other/sections/a', { data: { b: 'd' } });
  assert.equal(e.status, 200, e.text);
  assert.equal(e.body.result.reload.status, 'none');
  assert.equal(ami.calls.length, 4);
});

test("a failed reload is rolled back: 422 reload_rejected with Asterisk's message, the file byte-identical, reloaded again", async () => {
  ami.connected = true;
  ami.calls = [];
  const file = path.join(etc, 'queues.conf');
  const before = readFileSync(file);
  ami.fail = 'Could not reload module app_queue.so';
  const a = await api.put('/v1/admin/queue/cfg_queues/q', { data: [{ strategy: 'ringall' }, { weight: '2' }] });
  assert.equal(a.status, 422, a.text);
  assert.equal(a.body.result.code, 'reload_rejected');
  assert.deepEqual(a.body.result.errors, ['Asterisk refused the reload of queues.conf: Could not reload module app_queue.so']);
  assert.deepEqual(a.body.result.reload, { status: 'failed', message: 'Could not reload module app_queue.so' });
  assert.deepEqual(a.body.result.reload_after_restore, { status: 'done', message: 'Module reloaded.' });
  assert.ok(readFileSync(file).equals(before), 'queues.conf is byte-identical to before the request');
  // the write, then the reload of the restored file
  assert.deepEqual(ami.calls, [
    'ModuleLoad {"Module":"app_queue.so","LoadType":"reload"}',
    'ModuleLoad {"Module":"app_queue.so","LoadType":"reload"}',
  ]);
});

test('AMI down: the reload is pending, and made once AMI is back', async () => {
  ami.connected = false;
  ami.calls = [];
  const a = await api.del('/v1/admin/dialplan/sdps/c2');
  assert.equal(a.status, 200, a.text);
  assert.equal(a.body.result.reload.status, 'pending');
  const b = await api.put('/v1/admin/park/cfg_parkinglots/default', { data: { parkpos: '701-720' } });
  assert.equal(b.body.result.reload.status, 'pending');
  assert.deepEqual(ami.calls, []);
  ami.connected = true;
  await files.flushPendingReloads();
  assert.deepEqual(ami.calls.sort(), ['Command dialplan reload', 'ModuleLoad {"Module":"res_parking.so","LoadType":"reload"}']);
  ami.calls = [];
  await files.flushPendingReloads();
  assert.deepEqual(ami.calls, [], 'made once');
});

test('a write that changes nothing makes no reload', async () => {
  ami.connected = true;
  ami.calls = [];
  const got = (await api.get('/v1/admin/queue/cfg_queues/q')).body.result;
  const a = await api.put('/v1/admin/queue/cfg_queues/q', got);
  assert.equal(a.status, 200, a.text);
  assert.equal(a.body.result.backup, null);
  assert.equal(a.body.result.reload.status, 'none');
  assert.deepEqual(ami.calls, []);
});

test('routes need a token; a bad spec fails at registration', async () => {
  const anon = client(http.fetch);
  assert.equal((await anon.get('/v1/admin/dialplan/sdps')).status, 401);
  assert.equal((await anon.put('/v1/admin/dialplan/configurations/extensions.conf', { data: '' })).status, 401);
  const other = new HttpApp({ bodyLimitBytes: 1024, auth: { resolve: () => undefined }, liveness: () => null, logError: () => {} });
  assert.throws(
    () =>
      registerConfigFileRoutes(
        { router: other.router('x'), configFiles: files },
        { file: '../passwd', base: '/admin/x/configurations', tag: 'x' },
      ),
    /\.\./,
  );
});

test('the answers above were checked against the document', async () => {
  const checker = await api.contract();
  assert.ok(checker && checker.checked >= 10, `checked ${checker?.checked} answers`);
});
