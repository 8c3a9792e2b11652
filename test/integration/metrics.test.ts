// /metrics against the real Asterisk 22: a gateway with metrics on a free port (with a token), its AMI link through a
// loopback proxy the test can cut. After a login, GETs of channels, a config write with its reload, an originated
// call and a WebSocket, the exposition shows exactly those requests under their route templates, AMI connected, the
// reload's outcome, the socket; cutting the AMI link counts one reconnect. No secret and no id appears in the text;
// without the token it is 401; the API port answers 404 for /metrics.
//
// Run: flock /tmp/asterisk-test.lock node --import tsx --test --test-concurrency=1 test/integration/metrics.test.ts
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import WebSocket from 'ws';
import { DEFAULT_AMI_PORT } from '../asterisk/testbed.ts';
import { ADMIN, skipReason, startBed, type Bed } from '../support/bed.ts';
import { eventually } from '../support/http.ts';
import { series, value } from '../support/metrics.ts';

const skip = skipReason() ?? false;
const T = { timeout: 90_000, skip };
const TOKEN = 'integration-metrics-token-5b8e21';
const REQS = 'asterisk_gateway_http_requests_total';
let bed: Bed;
let metricsUrl: string;

/** A loopback TCP proxy to Asterisk's AMI whose open connections the test can cut (the gateway then reconnects). */
class CuttableProxy {
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  port = 0;
  constructor(upstream: number) {
    this.server = net.createServer((down) => {
      const up = net.createConnection({ host: '127.0.0.1', port: upstream });
      for (const [a, b] of [
        [down, up],
        [up, down],
      ] as const) {
        this.sockets.add(a);
        a.on('error', () => {});
        a.on('close', () => {
          this.sockets.delete(a);
          b.destroy();
        });
        a.pipe(b);
      }
    });
  }
  async start(): Promise<void> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as net.AddressInfo).port;
  }
  cut(): void {
    for (const s of this.sockets) s.destroy();
  }
  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
let proxy: CuttableProxy;

/** GET /metrics with this bearer token, or with no Authorization header. */
const scrape = (token: string | undefined) => fetch(metricsUrl, { headers: token ? { authorization: `Bearer ${token}` } : {} });
async function metricsText(): Promise<string> {
  const r = await scrape(TOKEN);
  assert.equal(r.status, 200);
  return r.text();
}

before(
  async () => {
    if (skip) return;
    proxy = new CuttableProxy(DEFAULT_AMI_PORT);
    await proxy.start();
    bed = await startBed({
      plugins: ['core', 'dialplan'],
      ami: { port: proxy.port },
      metrics: { enabled: true, host: '127.0.0.1', port: 0, token: TOKEN },
    });
    metricsUrl = `http://127.0.0.1:${bed.gateway.metricsPort}/metrics`;
  },
  { timeout: 120_000 },
);
after(async () => {
  await bed?.close();
  await proxy?.close();
});

test('requests by template, AMI, a config write and its reload, a WebSocket; no secret or id in the text', T, async () => {
  const before = await metricsText();
  assert.equal(value(before, 'asterisk_gateway_ami_connected'), 1);
  assert.equal(value(before, 'asterisk_gateway_ami_reconnects_total'), 0);
  // the bed logged in once (a successful login also is an AMI-free POST)
  assert.equal(value(before, REQS, { route: '/admin/login', method: 'POST', status: '200' }), 1);

  await bed.api.login(ADMIN.username, ADMIN.password);
  for (let i = 0; i < 3; i++) assert.equal((await bed.api.get('/v1/admin/core/channels')).status, 200);

  // a call: its channel's detail is read by its unique id, which must not become a label
  const id = await bed.originate('Local/4242@gw-test-wait');
  await eventually(async () => (await bed.api.get(`/v1/admin/core/channels/${id}`)).status === 200, 15000, 'channel visible');
  const detailOk = (text: string) => value(text, REQS, { route: '/admin/core/channels/{id}', method: 'GET', status: '200' });

  // a config write with its reload
  const ctx = 'gw-metrics-ctx';
  const w = await bed.api.post('/v1/admin/dialplan/sdps', { name: ctx, data: [{ exten: '> _X.,1,NoOp(metrics)' }] });
  assert.equal(w.status, 200, w.text);
  assert.equal(w.body.result.reload.status, 'done');

  // a WebSocket
  const ws = new WebSocket(`${bed.base.replace('http', 'ws')}/v1/ws?authtoken=${bed.api.token}`);
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });

  const after = await metricsText();
  const delta = (name: string, labels: Record<string, string> = {}) => value(after, name, labels) - value(before, name, labels);
  assert.equal(delta(REQS, { route: '/admin/login', method: 'POST', status: '200' }), 1);
  assert.equal(delta(REQS, { route: '/admin/core/channels', method: 'GET', status: '200' }), 3);
  assert.ok(detailOk(after) >= 1, 'the detail GET is counted under its template');
  assert.equal(delta(REQS, { route: '/admin/dialplan/sdps', method: 'POST', status: '200' }), 1);
  assert.equal(delta('asterisk_gateway_http_request_duration_seconds_count', { route: '/admin/core/channels', method: 'GET' }), 3);
  assert.equal(delta('asterisk_gateway_config_writes_total', { file: 'extensions.conf', outcome: 'written' }), 1);
  assert.equal(delta('asterisk_gateway_config_reloads_total', { file: 'extensions.conf', outcome: 'done' }), 1);
  // the reload is a Command action; the call an Originate; each timed once
  assert.equal(delta('asterisk_gateway_ami_action_duration_seconds_count', { action: 'Command', outcome: 'success' }), 1);
  assert.equal(delta('asterisk_gateway_ami_action_duration_seconds_count', { action: 'Originate', outcome: 'success' }), 1);
  assert.ok(delta('asterisk_gateway_ami_events_total', { event: 'Newchannel' }) >= 2, 'the Local call made two Newchannel events');
  assert.equal(value(after, 'asterisk_gateway_ami_connected'), 1);
  assert.equal(value(after, 'asterisk_gateway_websocket_connections'), 1);
  assert.equal(series(after, 'process_cpu_user_seconds_total').length, 1);

  // every label value is one of a bounded set: no id, context name, username, secret or token anywhere
  for (const secret of [id, ctx, bed.asterisk.amiSecret, ADMIN.password, TOKEN, bed.api.token!, bed.asterisk.amiUser]) {
    assert.ok(!after.includes(secret), `the metrics text holds no ${secret.slice(0, 6)}…`);
  }
  for (const s of series(after, REQS)) assert.ok(s.labels.route === 'unmatched' || !/\/v1\//.test(s.labels.route!), s.labels.route);

  ws.close();
  await eventually(async () => value(await metricsText(), 'asterisk_gateway_websocket_connections') === 0, 5000, 'socket gone');
  assert.equal((await bed.api.del(`/v1/admin/dialplan/sdps/${ctx}`)).status, 200);
  await bed.gateway.ami.action('Hangup', { Channel: `/^Local\\/4242@gw-test-wait/` }).catch(() => {});
});

test('cutting the AMI link: one reconnect counted, connected 1 again', T, async () => {
  proxy.cut();
  await eventually(async () => value(await metricsText(), 'asterisk_gateway_ami_reconnects_total') === 1, 20000, 'reconnected');
  const text = await metricsText();
  assert.equal(value(text, 'asterisk_gateway_ami_connected'), 1);
  assert.ok(value(text, 'asterisk_gateway_ami_action_duration_seconds_count', { action: 'Login', outcome: 'success' }) >= 2);
});

test('the token is required; the API port has no /metrics', T, async () => {
  for (const token of [undefined, 'wrong-token-wrong-token', `${TOKEN}x`, TOKEN.slice(0, -1)]) {
    const r = await scrape(token);
    assert.equal(r.status, 401, String(token));
    assert.doesNotMatch(await r.text(), /asterisk_gateway/);
  }
  for (const p of ['/metrics', '/v1/metrics']) {
    const r = await fetch(`${bed.base}${p}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(r.status, 404, p);
    assert.doesNotMatch(await r.text(), /asterisk_gateway/);
  }
});
