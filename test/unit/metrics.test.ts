// /metrics without Asterisk: a gateway with metrics enabled (AMI pointed at a closed port) counts requests by route
// template, never the path asked for; the listener is its own port with its token; the API port has no /metrics;
// config writes and reload outcomes, store writes; gateway.yaml's metrics block and its refusals.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { AmiNotConnectedError, AmiTimeoutError } from '../../core/ami/errors.ts';
import type { AmiMessage } from '../../core/ami/message.ts';
import { ConfigFileError, parseConfig, type GatewayConfig } from '../../core/config.ts';
import { ConfigFiles } from '../../core/config-files.ts';
import type { Gateway } from '../../core/gateway.ts';
import { createLogger } from '../../core/log.ts';
import { Metrics } from '../../core/metrics/metrics.ts';
import { configIn, gatewayIn, type TempGateway, tempGateway } from '../support/gateway.ts';
import { client } from '../support/http.ts';
import { series, value } from '../support/metrics.ts';

const TOKEN = 'unit-metrics-token-7f3a9c1e';
const ADMIN_PW = 'adm1n pass w0rd';
const AMI_SECRET = 'ami-s3cret-value';

let gateway: TempGateway;
let dir: string;
let gw: Gateway;
let api: ReturnType<typeof client>;
let metricsUrl: string;

const KNOWN = ['core', 'users'];
const yaml = (d: string, extra: string) => `ami: {host: 127.0.0.1, port: 1, username: u, secret: ${AMI_SECRET}}
data_dir: ${d}
asterisk: {config_dir: ${d}}
http: {host: 127.0.0.1, port: 0}
auth: {bootstrap_admin: {username: admin, password: '${ADMIN_PW}'}}
plugins: [core, users]
${extra}`;
const config = (extra: string) => configIn(dir, yaml(dir, extra), KNOWN);

const scrape = (headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` }) => fetch(metricsUrl, { headers });
const metricsText = async () => {
  const r = await scrape();
  assert.equal(r.status, 200);
  return r.text();
};

before(async () => {
  gateway = await tempGateway({
    prefix: 'gw-metrics',
    yaml: (d) => yaml(d, `metrics: {enabled: true, port: 0, token: ${TOKEN}}`),
    known: KNOWN,
    logger: createLogger('test', 'silent'),
    start: true,
  });
  ({ gw, dir } = gateway);
  api = client((req) => fetch(req), gateway.base);
  metricsUrl = `http://127.0.0.1:${gw.metricsPort}/metrics`;
});
after(() => gateway?.close());

test('requests are counted by route template, method and status; raw paths never appear', async () => {
  const before = await metricsText();
  const CHANNELS = '/admin/core/channels/{id}';
  const CONTACT = '/admin/user/contacts/{uuid}';
  const c0 = value(before, 'asterisk_gateway_http_requests_total', { route: CHANNELS, method: 'GET', status: '503' });
  const d0 = value(before, 'asterisk_gateway_http_requests_total', { route: CONTACT, method: 'GET', status: '404' });
  const u0 = value(before, 'asterisk_gateway_http_requests_total', { route: 'unmatched', method: 'GET', status: '404' });
  const a0 = value(before, 'asterisk_gateway_http_requests_total', { route: CHANNELS, method: 'GET', status: '401' });

  await api.login('admin', ADMIN_PW);
  // a live route while AMI is down: 503, twice, under /v1 and without
  assert.equal((await api.get('/v1/admin/core/channels/raw-channel-id-4711')).status, 503);
  assert.equal((await api.get('/admin/core/channels/raw-channel-id-4712')).status, 503);
  assert.equal((await api.get('/v1/admin/user/contacts/raw-contact-uuid-0815')).status, 404);
  assert.equal((await api.get('/v1/no/such/raw-path-segment')).status, 404);
  api.setToken(undefined);
  assert.equal((await api.get('/v1/admin/core/channels/raw-channel-id-4713')).status, 401);

  const after = await metricsText();
  assert.equal(value(after, 'asterisk_gateway_http_requests_total', { route: CHANNELS, method: 'GET', status: '503' }) - c0, 2);
  assert.equal(value(after, 'asterisk_gateway_http_requests_total', { route: CHANNELS, method: 'GET', status: '401' }) - a0, 1);
  assert.equal(value(after, 'asterisk_gateway_http_requests_total', { route: CONTACT, method: 'GET', status: '404' }) - d0, 1);
  assert.equal(value(after, 'asterisk_gateway_http_requests_total', { route: 'unmatched', method: 'GET', status: '404' }) - u0, 1);
  assert.equal(value(after, 'asterisk_gateway_http_requests_total', { route: '/admin/login', method: 'POST', status: '200' }), 1);
  // the histogram saw the same requests
  assert.equal(
    value(after, 'asterisk_gateway_http_request_duration_seconds_count', { route: CHANNELS, method: 'GET' }) -
      value(before, 'asterisk_gateway_http_request_duration_seconds_count', { route: CHANNELS, method: 'GET' }),
    3,
  );
  assert.ok(value(after, 'asterisk_gateway_http_request_duration_seconds_bucket', { route: CHANNELS, method: 'GET', le: '+Inf' }) >= 3);
  // every route label is a declared template or `unmatched`
  const templates = new Set(gw.http.routes.map((r) => r.route.path.replace(/:([A-Za-z_]\w*)(\{.*\})?/g, '{$1}')));
  for (const s of series(after, 'asterisk_gateway_http_requests_total')) {
    assert.ok(s.labels.route === 'unmatched' || templates.has(s.labels.route!), `route label ${s.labels.route}`);
  }
  for (const raw of ['raw-channel-id', 'raw-contact-uuid', 'raw-path-segment', 'no/such', ADMIN_PW, AMI_SECRET, TOKEN, 'admin"']) {
    assert.ok(!after.includes(raw), `the metrics text holds no ${raw}`);
  }
});

test('AMI down: connected 0; process and WebSocket series are there; store writes are timed', async () => {
  const before = await metricsText();
  const users = gw.store.collection<{ uuid: string; tm_create: string; tm_update: string; x: number }>('metrics_test');
  await users.insert({ x: 1 });
  await users.insert({ x: 2 });
  const text = await metricsText();
  assert.equal(value(text, 'asterisk_gateway_ami_connected'), 0);
  assert.equal(value(text, 'asterisk_gateway_websocket_connections'), 0);
  assert.equal(value(text, 'asterisk_gateway_websocket_dropped_total', { reason: 'slow' }), 0);
  assert.equal(value(text, 'asterisk_gateway_websocket_dropped_total', { reason: 'dead' }), 0);
  assert.equal(
    value(text, 'asterisk_gateway_store_write_duration_seconds_count', { outcome: 'ok' }) -
      value(before, 'asterisk_gateway_store_write_duration_seconds_count', { outcome: 'ok' }),
    2,
  );
  for (const name of [
    'process_cpu_user_seconds_total',
    'process_resident_memory_bytes',
    'process_start_time_seconds',
    'nodejs_eventloop_lag_seconds',
  ]) {
    assert.equal(series(text, name).length, 1, `${name} is exposed`);
  }
  assert.ok(value(text, 'process_resident_memory_bytes') > 0);
});

test('the listener: 401 without or with a wrong token, 404 elsewhere, 405 for POST; the API port has no /metrics', async () => {
  for (const headers of [
    {} as Record<string, string>,
    { authorization: `Bearer ${TOKEN}x` },
    { authorization: `Basic ${TOKEN}` },
    { authorization: 'Bearer ' },
  ]) {
    const r = await scrape(headers);
    assert.equal(r.status, 401, JSON.stringify(headers));
    assert.equal(r.headers.get('www-authenticate'), 'Bearer');
    assert.ok(!(await r.text()).includes('asterisk_gateway'));
  }
  const ok = await scrape({ authorization: `bearer ${TOKEN}` });
  assert.equal(ok.status, 200);
  assert.match(ok.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  assert.equal((await fetch(metricsUrl.replace('/metrics', '/other'), { headers: { authorization: `Bearer ${TOKEN}` } })).status, 404);
  assert.equal((await fetch(metricsUrl, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } })).status, 405);
  // the API port: 404 for /metrics, with or without /v1, and with the token
  api.setToken(TOKEN);
  for (const p of ['/metrics', '/v1/metrics']) assert.equal((await api.get(p)).status, 404, p);
});

test('metrics off (the default): no listener, nothing counted', async () => {
  const gw2 = await gatewayIn(dir, yaml(dir, ''), KNOWN, { logger: createLogger('test', 'silent') });
  try {
    assert.equal(gw2.config.metrics.enabled, false);
    assert.equal(gw2.metrics, undefined);
    assert.equal(gw2.metricsPort, null);
  } finally {
    await gw2.stop();
  }
});

test('config writes and reload outcomes are counted by file and outcome', async () => {
  const etc = path.join(dir, 'etc');
  mkdirSync(etc, { recursive: true });
  writeFileSync(path.join(etc, 'extensions.conf'), '[ctx]\nexten => 1,1,NoOp()\n');
  writeFileSync(path.join(etc, 'pjsip.conf'), '[t]\ntype = transport\n');
  const ami = {
    connected: true,
    timeout: false,
    async action(): Promise<AmiMessage> {
      if (!this.connected) throw new AmiNotConnectedError();
      if (this.timeout) throw new AmiTimeoutError('ModuleLoad', 'x1', 10);
      return { fields: { Response: 'Success', Message: 'Module reloaded.' } } as unknown as AmiMessage;
    },
    async command(): Promise<string[]> {
      return ['Dialplan reloaded.'];
    },
  };
  const metrics = new Metrics({ processMetrics: false });
  const cfg = { asterisk: { config_dir: etc }, data_dir: path.join(dir, 'cfgdata'), backups: { retention: 5 } } as GatewayConfig;
  const files = new ConfigFiles(cfg, ami as never, createLogger('test', 'silent'), metrics);

  await files.store.update('extensions.conf', (doc) => doc.setValue('ctx', 'exten', '2,1,NoOp()', { sectionIndex: 0 }));
  await files.store.update('extensions.conf', () => {}); // nothing changed
  await assert.rejects(files.store.update('extensions.conf', () => {}, { ifMatch: '"stale"' }));
  await assert.rejects(files.store.replace('pjsip.conf', '[broken\n'));
  await files.store.replace('pjsip.conf', '[t]\ntype = transport\nprotocol = udp\n');
  // a new file: written, though there was nothing to back up
  assert.equal((await files.store.replace('queues.conf', '[q]\nstrategy = ringall\n')).backup, null);
  await files.store.replace('queues.conf', '[q]\nstrategy = ringall\n'); // the same text again
  assert.equal((await files.reload('extensions.conf')).status, 'done');
  assert.equal((await files.reload('pjsip.conf')).status, 'done');
  ami.connected = false;
  assert.equal((await files.reload('pjsip.conf')).status, 'pending');
  ami.connected = true;
  ami.timeout = true;
  await assert.rejects(files.reload('pjsip.conf'), AmiTimeoutError);
  assert.equal((await files.reload('other.conf')).status, 'none');

  const text = (await metrics.expose()).text;
  const w = (file: string, outcome: string) => value(text, 'asterisk_gateway_config_writes_total', { file, outcome });
  assert.deepEqual(
    [w('extensions.conf', 'written'), w('extensions.conf', 'unchanged'), w('extensions.conf', 'refused'), w('pjsip.conf', 'refused')],
    [1, 1, 1, 1],
  );
  assert.equal(w('pjsip.conf', 'written'), 1);
  assert.deepEqual([w('queues.conf', 'written'), w('queues.conf', 'unchanged')], [1, 1]);
  const r = (file: string, outcome: string) => value(text, 'asterisk_gateway_config_reloads_total', { file, outcome });
  assert.deepEqual(
    [
      r('extensions.conf', 'done'),
      r('pjsip.conf', 'done'),
      r('pjsip.conf', 'pending'),
      r('pjsip.conf', 'timeout'),
      r('other.conf', 'none'),
    ],
    [1, 1, 1, 1, 1],
  );
  assert.equal(series(text, 'process_cpu_user_seconds_total').length, 0, 'processMetrics: false leaves them out');
});

test('several Metrics in one process do not share counters', async () => {
  const a = new Metrics({ processMetrics: false });
  const b = new Metrics({ processMetrics: false });
  a.httpRequest('/status', 'GET', 200, 0.001);
  a.amiEvent('Newchannel');
  const ta = (await a.expose()).text;
  const tb = (await b.expose()).text;
  assert.equal(value(ta, 'asterisk_gateway_http_requests_total', { route: '/status', method: 'GET', status: '200' }), 1);
  assert.equal(value(tb, 'asterisk_gateway_http_requests_total', { route: '/status', method: 'GET', status: '200' }), 0);
  assert.equal(value(ta, 'asterisk_gateway_ami_events_total', { event: 'Newchannel' }), 1);
  // an unknown method is one label, not the method asked for
  a.httpRequest('unmatched', 'BREW', 404, 0.001);
  assert.equal(
    value((await a.expose()).text, 'asterisk_gateway_http_requests_total', { route: 'unmatched', method: 'other', status: '404' }),
    1,
  );
});

test('gateway.yaml metrics: defaults, and refusals of a public listener without a token, a short token, the API port', () => {
  const c = config('');
  assert.deepEqual(c.metrics, { enabled: false, host: '127.0.0.1', port: 9464 });
  assert.equal(config("metrics: {enabled: 'true'}").metrics.enabled, true);
  assert.equal(config('metrics: {enabled: true, host: 0.0.0.0, token: 0123456789abcdef}').metrics.token, '0123456789abcdef');
  for (const host of ['127.0.0.1', '127.1.2.3', '::1', 'localhost']) {
    assert.equal(config(`metrics: {enabled: true, host: '${host}'}`).metrics.host, host);
  }
  const refused = (extra: string, re: RegExp) =>
    assert.throws(
      () => config(extra),
      (e: unknown) => e instanceof ConfigFileError && re.test(e.message) && !e.message.includes('\n'),
      extra,
    );
  refused(
    'metrics: {enabled: true, host: 0.0.0.0}',
    /^gateway\.yaml: metrics\.token: is required when metrics\.host \(0\.0\.0\.0\) is not a loopback address$/,
  );
  refused("metrics: {enabled: true, host: '::'}", /metrics\.token: is required/);
  refused('metrics: {enabled: true, host: 10.0.0.5}', /metrics\.token: is required/);
  refused('metrics: {enabled: true, token: short}', /metrics\.token: must be at least 16 characters/);
  refused('metrics: {enabled: yes}', /metrics\.enabled: must be true or false/);
  refused('metrics: {enabled: true, path: /m}', /metrics\.path: unknown key/);
  assert.throws(
    () =>
      parseConfig(
        `ami: {username: u, secret: s}\nhttp: {port: 9000}\nmetrics: {enabled: true, port: 9000}`,
        path.join(dir, 'gateway.yaml'),
        [],
      ),
    /metrics\.port: must not be the API port/,
  );
  // disabled, a public host without a token is no problem: nothing listens
  assert.equal(config('metrics: {host: 0.0.0.0}').metrics.enabled, false);
});
