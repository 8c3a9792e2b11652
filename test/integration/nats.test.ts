// The nats plugin against a real nats-server (JetStream) and the real Asterisk 22: events into one stream from two
// gateways, in order per PBX, through a broker restart; gateway.resync past the buffer bound; fleet queries by
// request/reply; a durable consumer catching up.
// Run: flock /tmp/asterisk-test.lock node --import tsx --test --test-concurrency=1 test/integration/nats.test.ts
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { startFakeAmi, type FakeAmi } from '../../bench/support/fake-ami.ts';
import type { Gateway } from '../../core/gateway.ts';
import { BUILTIN_PLUGINS } from '../../core/plugins/builtin.ts';
import { TESTBED } from '../asterisk/testbed.ts';
import { ADMIN, skipReason, startBed, type Bed } from '../support/bed.ts';
import { gatewayIn } from '../support/gateway.ts';
import { client, eventually } from '../support/http.ts';
import { testLogger } from '../support/log.ts';
import { value } from '../support/metrics.ts';
import { NatsServer, natsSkipReason } from '../support/nats.ts';
import { noteSecret } from '../support/secrets.ts';

const skip = skipReason() ?? natsSkipReason() ?? false;
const T = { timeout: 120_000, skip };
const STREAM = 'FLEET';
let nats: NatsServer;
let bed: Bed;
let nc: NatsConnection;

// The fleet keys, as an operator makes them (openssl rand -hex 32); the gateways get only their SHA-256.
const FLEET_KEY = randomBytes(32).toString('hex');
const WALLBOARD_KEY = randomBytes(32).toString('hex');
noteSecret(FLEET_KEY);
noteSecret(WALLBOARD_KEY);
const sha256 = (k: string) => createHash('sha256').update(k).digest('hex');
const FLEET_KEYS = [
  { name: 'central', sha256: sha256(FLEET_KEY), role: 'admin' },
  { name: 'wallboard', sha256: sha256(WALLBOARD_KEY), role: 'user' },
];

interface Frame {
  type: string;
  seq: number;
  run: string;
  timestamp: string;
  data: any;
}

/** A gateway fed by a fake AMI (events the test writes), with the core and nats plugins. */
interface FakeGw {
  gw: Gateway;
  ami: FakeAmi;
  api: ReturnType<typeof client>;
  dir: string;
  n: number;
  /** write `count` Newchannel events to its AMI */
  channels(count: number): void;
  close(): Promise<void>;
}
const fakes: FakeGw[] = [];

async function fakeGateway(pbxId: string, nats: Record<string, unknown>, metrics = false): Promise<FakeGw> {
  const ami = await startFakeAmi();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gw-nats-'));
  const gw = await gatewayIn(
    dir,
    {
      http: { host: '127.0.0.1', port: 0 },
      ami: { host: '127.0.0.1', port: ami.port, username: 'fake', secret: 'fake', reconnect_max_ms: 1000 },
      asterisk: { config_dir: dir },
      data_dir: dir,
      auth: { token_ttl_s: 3600, bootstrap_admin: ADMIN },
      plugins: ['core', 'nats'],
      nats: { pbx_id: pbxId, stream: STREAM, publish_timeout_ms: 1000, fleet_keys: FLEET_KEYS, ...nats },
      ...(metrics ? { metrics: { enabled: true, port: 0 } } : {}),
    },
    BUILTIN_PLUGINS.map((p) => p.name),
    { logger: testLogger(pbxId) },
  );
  await gw.start();
  await ami.loggedIn;
  await eventually(() => gw.status().plugins.every((p) => p.live), 15000, `${pbxId} live`);
  const api = client((req) => gw.http.fetch(req));
  await api.login(ADMIN.username, ADMIN.password);
  const f: FakeGw = {
    gw,
    ami,
    api,
    dir,
    n: 0,
    channels(count) {
      let out = '';
      for (let k = 0; k < count; k++) {
        const i = ++f.n;
        const id = `1700000000.${i}`;
        out +=
          `Event: Newchannel\r\nPrivilege: call,all\r\nChannel: PJSIP/agent-${i}\r\nChannelState: 6\r\nChannelStateDesc: Up\r\n` +
          `CallerIDNum: ${1000 + i}\r\nCallerIDName: Caller ${i}\r\nConnectedLineNum: <unknown>\r\nConnectedLineName: <unknown>\r\n` +
          `Language: en\r\nAccountCode: \r\nContext: fleet\r\nExten: ${2000 + i}\r\nPriority: 1\r\nUniqueid: ${id}\r\nLinkedid: ${id}\r\n\r\n`;
      }
      ami.send(out);
    },
    async close() {
      await gw.stop().catch(() => {});
      await ami.close().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
  fakes.push(f);
  return f;
}

/**
 * Every message of the stream whose subject starts with `prefix` (a fresh ordered consumer over the whole stream:
 * nats-server 2.9 takes only filters within the stream's subjects, asterisk.*.<event prefix>.>), in stream order.
 */
async function readStream(prefix: string): Promise<{ subject: string; pbx: string | undefined; frame: Frame }[]> {
  const js = jetstream(nc);
  const c = await js.consumers.get(STREAM);
  const out: { subject: string; pbx: string | undefined; frame: Frame }[] = [];
  for (;;) {
    const batch = await c.fetch({ max_messages: 2000, expires: 1000 });
    let got = 0;
    for await (const m of batch) {
      got++;
      if (m.subject.startsWith(prefix)) out.push({ subject: m.subject, pbx: m.headers?.get('Pbx-Id'), frame: m.json<Frame>() });
    }
    if (got === 0) break;
  }
  return out;
}

/** The events (not gateway.resync) of one run, checked to have contiguous seq; returns their seqs. */
function contiguous(frames: Frame[], run: string): number[] {
  const seqs = frames.filter((f) => f.run === run && f.type !== 'gateway.resync').map((f) => f.seq);
  for (let i = 1; i < seqs.length; i++) assert.equal(seqs[i], seqs[i - 1]! + 1, `seq after ${seqs[i - 1]} is ${seqs[i]}`);
  return seqs;
}

/**
 * All answers to a request within `ms` (a wildcard subject may reach several gateways), with the client's
 * requestMany; anything that is not a gateway's envelope (a JetStream PubAck) fails the test.
 */
async function requestAll(subject: string, payload: unknown, ms = 1500, conn = nc): Promise<{ pbx: string | undefined; body: any }[]> {
  const answers: { pbx: string | undefined; body: any }[] = [];
  for await (const m of await conn.requestMany(subject, JSON.stringify(payload), { strategy: 'timer', maxWait: ms })) {
    const body = m.json<any>();
    assert.equal(typeof body.statuscode, 'number', `not an envelope: ${m.string()}`);
    answers.push({ pbx: m.headers?.get('Pbx-Id'), body });
  }
  return answers;
}

before(async () => {
  if (skip) return;
  nats = await NatsServer.start();
  bed = await startBed({
    plugins: ['core', 'nats'],
    nats: { servers: [nats.url], pbx_id: 'pbx-real', stream: STREAM, publish_timeout_ms: 1000, fleet_keys: FLEET_KEYS },
  });
  nc = await connect({ servers: nats.url, maxReconnectAttempts: -1, reconnectTimeWait: 200 });
  await eventually(async () => (await bed.api.get('/v1/status')).body.result.nats?.connected === true, 15000, 'nats linked');
});

after(async () => {
  for (const f of fakes) await f.close();
  await nc?.close().catch(() => {});
  await bed?.close();
  await nats?.close();
});

test('a gateway on the real Asterisk publishes every event to JetStream, in order, equal to its WebSocket stream', T, async () => {
  const ws = new WebSocket(`${bed.base.replace('http', 'ws')}/v1/ws?authtoken=${bed.api.token}&topics=core.`);
  const seen: Frame[] = [];
  ws.on('message', (d) => seen.push(JSON.parse(String(d))));
  await new Promise((r, j) => ws.once('open', r).once('error', j));
  try {
    for (let i = 0; i < 3; i++) await bed.originate(`Local/${4710 + i}@${TESTBED.contexts.wait}`);
    // all six channels (two per Local call) known before the hangup: six updates could come from two calls alone
    const channels = () => new Set(seen.filter((f) => f.type === 'core.channel.updated').map((f) => f.data.unique_id as string));
    await eventually(() => channels().size >= 6, 20000, 'the six channels of the three calls on the socket');
    await bed.gateway.ami.action('Hangup', { Channel: '/^Local\\//' });
    await eventually(() => seen.filter((f) => f.type === 'core.channel.hangup').length >= 6, 20000, 'six hangups on the socket');
    const events = seen.filter((f) => typeof f.seq === 'number' && f.type.startsWith('core.'));
    const last = events.at(-1)!.seq;
    await eventually(async () => (await bed.api.get('/v1/status')).body.result.nats.buffered === 0, 15000, 'flushed');
    const stream = await readStream('asterisk.pbx-real.');
    assert.ok(stream.every((m) => m.pbx === 'pbx-real' && m.subject === `asterisk.pbx-real.${m.frame.type}`));
    const frames = stream.map((m) => m.frame);
    contiguous(frames, bed.gateway.bus.runId);
    const same = frames.filter((f) => f.type !== 'gateway.resync' && f.seq >= events[0]!.seq && f.seq <= last);
    assert.deepEqual(same, events, 'the JetStream frames are the WebSocket frames of the same period');
    const st = (await bed.api.get('/v1/status')).body.result.nats;
    assert.equal(st.connected, true);
    assert.equal(st.dropped, 0);
    assert.ok(st.published >= frames.length, `published ${st.published}, in the stream ${frames.length}`);
  } finally {
    ws.close();
  }
});

test('a second gateway (another pbx_id) publishes into the same stream; a consumer sees both, in order per PBX', T, async () => {
  const fake = await fakeGateway('pbx-fake', { servers: [nats.url] }, true);
  fake.channels(200);
  await eventually(() => fake.gw.bus.seq >= 200, 15000, '200 events on the fake bus');
  await eventually(() => fake.gw.status().nats?.buffered === 0 && (fake.gw.status().nats?.published ?? 0) >= 200, 15000, 'fake flushed');
  const all = await readStream('asterisk.');
  const pbxs = new Set(all.map((m) => m.pbx));
  assert.deepEqual([...pbxs].sort(), ['pbx-fake', 'pbx-real']);
  assert.ok(
    contiguous(
      all.filter((m) => m.pbx === 'pbx-real').map((m) => m.frame),
      bed.gateway.bus.runId,
    ).length > 0,
  );
  const fakeSeqs = contiguous(
    all.filter((m) => m.pbx === 'pbx-fake').map((m) => m.frame),
    fake.gw.bus.runId,
  );
  assert.deepEqual(
    fakeSeqs,
    Array.from({ length: fake.gw.bus.seq }, (_, i) => i + 1),
  );
  const metrics = await (await fetch(`http://127.0.0.1:${fake.gw.metricsPort}/metrics`)).text();
  assert.equal(value(metrics, 'asterisk_gateway_nats_connected'), 1);
  assert.equal(value(metrics, 'asterisk_gateway_nats_events_total', { outcome: 'published' }), fake.gw.status().nats!.published);
  assert.equal(value(metrics, 'asterisk_gateway_nats_events_total', { outcome: 'dropped' }), 0);
});

test('fleet queries: a request to asterisk.* reaches both gateways; the answers are the REST ones; no credential: 401', T, async () => {
  const fake = fakes[0]!;
  // one wildcard request, each gateway's own credential: the gateway that knows it answers 200, the other 401
  for (const [token, yes, no] of [
    [bed.api.token, 'pbx-real', 'pbx-fake'],
    [fake.api.token, 'pbx-fake', 'pbx-real'],
  ] as const) {
    const answers = await requestAll('asterisk.*.api.status', { authtoken: token });
    assert.deepEqual(answers.map((a) => a.pbx).sort(), ['pbx-fake', 'pbx-real']);
    const ok = answers.find((a) => a.pbx === yes)!.body;
    assert.equal(ok.statuscode, 200);
    assert.equal(ok.result.nats.connected, true);
    assert.equal(answers.find((a) => a.pbx === no)!.body.statuscode, 401);
  }
  // a request to one PBX: only that gateway answers (the others see it on asterisk.*.api.> and leave it)
  const one = await requestAll('asterisk.pbx-fake.api.status', { authtoken: fake.api.token }, 800);
  assert.deepEqual(
    one.map((a) => [a.pbx, a.body.statuscode]),
    [['pbx-fake', 200]],
  );
  // the stream never takes in a request (it would answer a PubAck, which requestAll refuses)
  const info = await (await jetstreamManager(nc)).streams.info(STREAM);
  assert.ok(!info.config.subjects.some((x) => x === 'asterisk.>' || x.startsWith('asterisk.*.api')), info.config.subjects.join(' '));
  // the same envelope as the REST GET, query included
  const rest = await bed.api.get('/v1/admin/core/channels');
  const [ch] = await requestAll('asterisk.pbx-real.api.admin.core.channels', { authtoken: bed.api.token, query: {} }, 800);
  assert.equal(ch!.body.statuscode, 200);
  assert.deepEqual(ch!.body.result, rest.body.result);
  const restBad = await bed.api.get('/v1/admin/core/channels?limit=nope');
  const [bad] = await requestAll('asterisk.pbx-real.api.admin.core.channels', { authtoken: bed.api.token, query: { limit: 'nope' } }, 800);
  assert.equal(bad!.body.statuscode, restBad.status);
  // no credential, a wrong one, another method
  for (const payload of [{}, { authtoken: 'not-a-token' }]) {
    const [a] = await requestAll('asterisk.pbx-real.api.admin.core.channels', payload, 800);
    assert.equal(a!.body.statuscode, 401);
    assert.equal(a!.body.result.code, 'unauthorized');
  }
  const [post] = await requestAll('asterisk.pbx-real.api.admin.core.channels', { authtoken: bed.api.token, method: 'POST' }, 800);
  assert.equal(post!.body.statuscode, 405);
  assert.equal(post!.body.result.code, 'method_not_allowed');
});

test('the fleet key: one key answers on every gateway, with its role; a wrong key is refused', T, async () => {
  const fake = fakes[0]!;
  // an admin fleet key, one wildcard request: both gateways answer their channel list, as their REST GET does
  const answers = await requestAll('asterisk.*.api.admin.core.channels', { authtoken: FLEET_KEY, query: {} });
  assert.deepEqual(answers.map((a) => a.pbx).sort(), ['pbx-fake', 'pbx-real']);
  for (const a of answers) assert.equal(a.body.statuscode, 200, JSON.stringify(a.body).slice(0, 300));
  const restFake = await fake.api.get('/v1/admin/core/channels');
  const ids = (r: { list: { unique_id: string }[] }) => r.list.map((c) => c.unique_id).sort();
  assert.deepEqual(ids(answers.find((a) => a.pbx === 'pbx-fake')!.body.result), ids(restFake.body.result));
  assert.ok(answers.find((a) => a.pbx === 'pbx-fake')!.body.result.list.length >= 200, 'the fake PBX has its channels');
  // a key that is not listed (and the listed hash itself, which is not the key): 401 from every gateway
  for (const wrong of [randomBytes(32).toString('hex'), FLEET_KEYS[0]!.sha256]) {
    const refused = await requestAll('asterisk.*.api.status', { authtoken: wrong });
    assert.deepEqual(refused.map((a) => [a.pbx, a.body.statuscode, a.body.result.code]).sort(), [
      ['pbx-fake', 401, 'unauthorized'],
      ['pbx-real', 401, 'unauthorized'],
    ]);
  }
  // a user-role fleet key: an admin path is 403 everywhere, a path for any user is answered
  const denied = await requestAll('asterisk.*.api.admin.core.channels', { authtoken: WALLBOARD_KEY });
  assert.deepEqual(denied.map((a) => [a.pbx, a.body.statuscode, a.body.result.code]).sort(), [
    ['pbx-fake', 403, 'forbidden'],
    ['pbx-real', 403, 'forbidden'],
  ]);
  const status = await requestAll('asterisk.*.api.status', { authtoken: WALLBOARD_KEY });
  assert.deepEqual(
    status.map((a) => a.body.statuscode),
    [200, 200],
  );
  // the key is not a REST credential: only its hash is on the gateway, and only the nats plugin checks it
  const rest = await fetch(`${bed.base}/v1/status`, { headers: { authorization: `Bearer ${FLEET_KEY}` } });
  assert.equal(rest.status, 200, '/status is public');
  const restAdmin = await fetch(`${bed.base}/v1/admin/core/channels`, { headers: { authorization: `Bearer ${FLEET_KEY}` } });
  assert.equal(restAdmin.status, 401);
});

test('a stream made by the operator with asterisk.> is narrowed: requests never get a PubAck', T, async () => {
  const other = await NatsServer.start();
  const oc = await connect({ servers: other.url });
  try {
    const jsm = await jetstreamManager(oc);
    await jsm.streams.add({ name: STREAM, subjects: ['asterisk.>'] });
    // what the gateway prevents: the stream takes in the request and its PubAck comes back as an "answer"
    const ack = (await oc.request('asterisk.*.api.status', '{}', { timeout: 2000 })).json<any>();
    assert.equal(ack.stream, STREAM, 'a PubAck');
    const gw = await fakeGateway('pbx-narrow', { servers: [other.url] });
    await eventually(
      () => (gw.gw.status().nats?.published ?? 0) >= 1 && gw.gw.status().nats?.buffered === 0,
      15000,
      'the first resync stored',
    );
    const info = await jsm.streams.info(STREAM);
    assert.deepEqual(info.config.subjects.sort(), ['asterisk.*.core.>', 'asterisk.*.gateway.>']);
    const answers = await requestAll('asterisk.*.api.status', { authtoken: FLEET_KEY }, 800, oc);
    assert.deepEqual(
      answers.map((a) => [a.pbx, a.body.statuscode]),
      [['pbx-narrow', 200]],
    );
    await gw.close();
    fakes.splice(fakes.indexOf(gw), 1);
  } finally {
    await oc.close();
    await other.close();
  }
});

/**
 * After churn: wait until the gateway's bus is quiet (the AMI bytes written last may still be read after the churn
 * stops) and every event is out to the broker; then its last seq is the count to compare the stream with.
 */
async function quietAndFlushed(fake: FakeGw, what: string): Promise<number> {
  let seen = -1;
  await eventually(
    () => {
      const quiet = fake.gw.bus.seq === seen;
      seen = fake.gw.bus.seq;
      return quiet && fake.gw.status().nats?.connected === true && fake.gw.status().nats?.buffered === 0;
    },
    30000,
    what,
  );
  return fake.gw.bus.seq;
}

/**
 * Channel churn on the first fake gateway (`perTick` channels every `everyMs`) while the broker goes through `outage`;
 * once the bus is quiet and the link flushed: nothing dropped, and the stream's frames and their seqs (contiguous:
 * in order, no gap, no duplicate).
 */
async function churnThrough(perTick: number, everyMs: number, outage: () => Promise<unknown>, what: string) {
  const fake = fakes[0]!;
  const from = fake.gw.bus.seq;
  const churn = setInterval(() => fake.channels(perTick), everyMs);
  try {
    await new Promise((r) => setTimeout(r, 300));
    await outage();
    await new Promise((r) => setTimeout(r, 300));
  } finally {
    clearInterval(churn);
  }
  const to = await quietAndFlushed(fake, what);
  assert.equal(fake.gw.status().nats!.dropped, 0);
  const frames = (await readStream('asterisk.pbx-fake.')).map((m) => m.frame);
  return { from, to, frames, seqs: contiguous(frames, fake.gw.bus.runId) };
}

test('the broker restarted mid-churn: no event is lost within the buffer bound', T, async () => {
  const { from, to, frames, seqs } = await churnThrough(20, 20, () => nats.restart(1500), 'flushed after the restart');
  assert.ok(to - from > 200, `churned ${to - from} events`);
  assert.deepEqual(
    seqs,
    Array.from({ length: to }, (_, i) => i + 1),
    'every event, once, in order',
  );
  assert.equal(frames.filter((f) => f.type === 'gateway.resync').length, 1, 'only the resync of the first AMI connect');
});

test('the broker killed mid-churn with a full publish window: every event stored once, in order', T, async () => {
  // ~5000 events/s: publishes are in flight when it dies
  const { from, to, seqs } = await churnThrough(50, 10, () => nats.restart(500, 'kill'), 'flushed after the crash');
  assert.ok(to - from > 1000, `churned ${to - from} events`);
  assert.deepEqual([seqs.length, seqs[0], seqs.at(-1)], [to, 1, to], 'every event, once, in order');
});

test('past buffer_max_events the overflow is dropped, counted, and consumers get gateway.resync', T, async () => {
  const tiny = await fakeGateway('pbx-tiny', { servers: [nats.url], buffer_max_events: 5 });
  await eventually(() => tiny.gw.status().nats?.buffered === 0 && tiny.gw.status().nats!.connected, 15000, 'tiny linked');
  await nats.stop();
  await eventually(() => tiny.gw.status().nats?.connected === false, 15000, 'tiny sees the link down');
  tiny.channels(20);
  await eventually(() => tiny.gw.bus.seq >= 20, 10000, 'twenty events on the tiny bus');
  const held = tiny.gw.status().nats!;
  assert.ok(held.published >= 1, 'the resync of the AMI connect was published before');
  assert.equal(held.buffered, 5);
  assert.equal(held.dropped, 15);
  await nats.restart();
  await eventually(() => tiny.gw.status().nats?.buffered === 0 && tiny.gw.status().nats!.connected, 30000, 'tiny flushed');
  tiny.channels(1);
  await eventually(() => tiny.gw.status().nats?.published === held.published + 5 + 1 + 1, 15000, 'the event after the gap');
  assert.equal(tiny.gw.status().nats!.dropped, 15);
  const frames = (await readStream('asterisk.pbx-tiny.')).map((m) => m.frame);
  const types = frames.map((f) => f.type);
  const i = types.lastIndexOf('gateway.resync');
  assert.match(frames[i]!.data.reason, /15 event\(s\) did not fit/);
  // before it: the five that fitted, in order; after it: the event written once the link was back
  assert.deepEqual(
    frames.slice(i - 5, i).map((f) => f.seq),
    [1, 2, 3, 4, 5],
  );
  assert.deepEqual(
    frames.slice(i + 1).map((f) => f.seq),
    [21],
  );
});

test('a durable consumer that was offline catches up from the stream', T, async () => {
  const fake = fakes[0]!;
  const jsm = await jetstreamManager(nc);
  await jsm.consumers.add(STREAM, {
    durable_name: 'dashboard',
    ack_policy: AckPolicy.Explicit,
    filter_subject: 'asterisk.pbx-fake.core.>',
  });
  const js = jetstream(nc);
  const take = async (n: number): Promise<Frame[]> => {
    const c = await js.consumers.get(STREAM, 'dashboard');
    const out: Frame[] = [];
    while (out.length < n) {
      const batch = await c.fetch({ max_messages: n - out.length, expires: 2000 });
      let got = 0;
      for await (const m of batch) {
        got++;
        out.push(m.json<Frame>());
        m.ack();
      }
      if (got === 0) break;
    }
    return out;
  };
  const before = (await readStream('asterisk.pbx-fake.core.')).length;
  const first = await take(before);
  assert.equal(first.length, before);
  // the dashboard goes away; the PBX goes on
  fake.channels(50);
  await eventually(() => fake.gw.status().nats?.buffered === 0 && fake.gw.bus.seq === first.at(-1)!.seq + 50, 15000, '50 more');
  const rest = await take(50);
  assert.deepEqual(
    rest.map((f) => f.seq),
    Array.from({ length: 50 }, (_, k) => first.at(-1)!.seq + 1 + k),
  );
  await jsm.consumers.delete(STREAM, 'dashboard');
});
