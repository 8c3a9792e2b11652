// client/events.ts against a gateway on a real socket: it starts from a snapshot, gets every event once in order,
// resumes after a lost connection without a gap or a duplicate, starts over from the snapshot on gateway.resync, and
// stops for good (no reconnect loop) when the token ends or the gateway refuses the stream, saying why.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import WebSocket from 'ws';
import { type EventFrame, type EventStream, type EventStreamOptions, type StreamEnd, eventStream } from '../../client/events.ts';
import type { Gateway } from '../../core/gateway.ts';
import { event } from '../../core/contract/events.ts';
import { line, obj } from '../../core/contract/schema.ts';
import { events } from '../../plugins/core/schemas.ts';
import { type TempGateway, tempGateway } from '../support/gateway.ts';
import { client } from '../support/http.ts';

let gateway: TempGateway;
let gw: Gateway;
let token: string;

before(async () => {
  gateway = await tempGateway({
    prefix: 'gw-stream',
    // a replay buffer of 5 events, so a test can outrun it; a heartbeat every second
    yaml: (d) =>
      `http: {port: 0}\nami: {port: 1, username: u, secret: s}\ndata_dir: ${d}\nauth: {bootstrap_admin: {username: a, password: b}}\nplugins: [core, users]\nwebsocket: {replay_buffer_events: 5, heartbeat_s: 1}\n`,
    known: ['core', 'users'],
    start: true,
  });
  gw = gateway.gw;
  token = await client((r) => fetch(r), gateway.base).login('a', 'b');
});
after(() => gateway?.close());

const until = async (what: string, cond: () => boolean) => {
  for (let i = 0; i < 300 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(cond(), `timed out waiting for ${what}`);
};

const device = (n: number) => gw.bus.publish(events.deviceStateUpdated, { device: `PJSIP/${n}`, state: 'INUSE', tm_update: 'now' });

/** A stream whose every callback is recorded, with the `ws` sockets it opened (to cut one as a network would). */
function recorded(opts: Partial<EventStreamOptions> = {}) {
  const log = { snapshots: 0, events: [] as EventFrame[], resyncs: [] as string[], ends: [] as StreamEnd[], opened: 0 };
  const sockets: WebSocket[] = [];
  class Recording extends WebSocket {
    constructor(url: string) {
      super(url);
      sockets.push(this);
    }
  }
  const stream: EventStream = eventStream({
    baseUrl: gateway.base,
    token,
    topics: ['core.device_state.'],
    WebSocket: Recording as unknown as EventStreamOptions['WebSocket'],
    retryMs: { first: 200, max: 200 },
    onSnapshot: () => log.snapshots++,
    onEvent: (e) => log.events.push(e),
    onResync: (reason) => log.resyncs.push(reason),
    onStatus: (s) => {
      if (s.connected) log.opened++;
    },
    onEnd: (why) => log.ends.push(why),
    ...opts,
  });
  return { log, stream, sockets, devices: () => log.events.map((e) => (e.type === 'core.device_state.updated' ? e.data.device : e.type)) }; // typed by the frame's type
}

test('snapshot, then every event once; a cut connection resumes with exactly the missed events', async () => {
  const s = recorded();
  try {
    await until('the snapshot', () => s.log.snapshots === 1);
    device(1);
    device(2);
    await until('two events', () => s.log.events.length === 2);
    // the network drops the connection: the client reconnects with ?resume= after 200 ms
    s.sockets.at(-1)!.terminate();
    device(3);
    device(4);
    await until('the resumed events', () => s.log.events.length === 4);
    device(5);
    await until('the live event after the resume', () => s.log.events.length === 5);
    assert.deepEqual(s.devices(), ['PJSIP/1', 'PJSIP/2', 'PJSIP/3', 'PJSIP/4', 'PJSIP/5']);
    const seqs = s.log.events.map((e) => e.seq);
    assert.deepEqual(
      seqs.map((q) => q - seqs[0]!),
      [0, 1, 2, 3, 4],
      'contiguous: nothing missed, nothing twice',
    );
    assert.equal(s.log.snapshots, 1, 'a resume replays, it does not start over');
    assert.equal(s.log.opened, 2);
    assert.deepEqual(s.stream.position(), { run: gw.bus.runId, seq: gw.bus.seq });
  } finally {
    s.stream.close();
  }
});

test('missed more than the buffer holds, or Asterisk reconnected: gateway.resync and the snapshot again', async () => {
  const s = recorded();
  try {
    await until('the snapshot', () => s.log.snapshots === 1);
    s.sockets.at(-1)!.terminate();
    for (let i = 10; i < 17; i++) device(i); // 7 events: 5 are kept
    await until('the second snapshot', () => s.log.snapshots === 2);
    assert.deepEqual(s.log.resyncs, ['the events after the resume point are no longer kept']);
    assert.deepEqual(s.log.events, [], 'what was missed comes as the snapshot, not as events');
    (gw as unknown as { ws: { resyncAll(reason: string): void } }).ws.resyncAll('test: Asterisk reconnected');
    await until('the third snapshot', () => s.log.snapshots === 3);
    assert.equal(s.log.resyncs[1], 'test: Asterisk reconnected');
    device(20);
    await until('the event after it', () => s.log.events.length === 1);
    assert.deepEqual(s.devices(), ['PJSIP/20']);
  } finally {
    s.stream.close();
  }
});

/** A TCP relay to the gateway whose latest connection can be silenced: nothing passes either way, nothing closes. */
async function relay(): Promise<{ base: string; silence(): void; close(): void }> {
  const pairs: [net.Socket, net.Socket][] = [];
  const server = net.createServer((down) => {
    const up = net.connect(gateway.port, '127.0.0.1');
    for (const s of [down, up]) s.on('error', () => {});
    down.pipe(up);
    up.pipe(down);
    pairs.push([down, up]);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    base: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    silence() {
      const [down, up] = pairs.at(-1)!;
      down.unpipe(up);
      up.unpipe(down);
      down.pause();
      up.pause();
    },
    close() {
      for (const p of pairs) for (const s of p) s.destroy();
      server.close();
    },
  };
}

test('a link that goes silent is given up after two heartbeats and resumed; heartbeats move the resume point', async () => {
  const link = await relay();
  const s = recorded({ baseUrl: link.base });
  try {
    await until('the snapshot', () => s.log.snapshots === 1);
    // events on a topic the stream does not follow: the next heartbeat's seq becomes its resume point
    const elsewhere = event('core.channel.updated', 'test', obj({ id: line() }), { like: '/admin/core/channels' });
    gw.bus.publish(elsewhere, { id: 'x' });
    const busSeq = gw.bus.seq;
    await until('a heartbeat past the other topic', () => (s.stream.position()?.seq ?? 0) >= busSeq);
    device(30);
    await until('the event', () => s.log.events.length === 1);
    // the link goes silent: nothing passes any more (no frames, no pings, no close), as over a dead network
    link.silence();
    device(31);
    device(32);
    await new Promise((r) => setTimeout(r, 3500)); // two heartbeats and a second, then the watchdog's check
    await until('the reconnect and the missed events', () => s.log.events.length === 3);
    assert.deepEqual(s.devices(), ['PJSIP/30', 'PJSIP/31', 'PJSIP/32']);
    assert.equal(s.log.snapshots, 1, 'resumed, not started over');
    assert.equal(s.sockets.length, 2);
  } finally {
    s.stream.close();
    link.close();
  }
});

test('the token ends: the stream ends with 4001 and does not reconnect', async () => {
  const own = await client((r) => fetch(r), gateway.base).login('a', 'b');
  const s = recorded({ token: own });
  try {
    await until('the snapshot', () => s.log.snapshots === 1);
    const out = await fetch(`${gateway.base}/v1/admin/login?authtoken=${own}`, { method: 'DELETE' });
    assert.equal(out.status, 200, await out.text());
    await until('the end', () => s.log.ends.length === 1);
    assert.equal(s.log.ends[0]!.code, 4001);
    assert.match(s.log.ends[0]!.message, /token ended/);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(s.sockets.length, 1, 'no reconnect after the end');
  } finally {
    s.stream.close();
  }
});

test("a refused stream (unknown topic, wrong token) ends at once with the gateway's reason", async () => {
  const typo = recorded({ topics: ['core.device_stat.'] });
  const wrong = recorded({ token: 'not-a-token' });
  try {
    await until('both ends', () => typo.log.ends.length === 1 && wrong.log.ends.length === 1);
    assert.equal(typo.log.ends[0]!.code, 404);
    assert.match(typo.log.ends[0]!.message, /"core\.device_stat\." matches no event this gateway publishes/);
    assert.equal(wrong.log.ends[0]!.code, 401);
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual([typo.sockets.length, wrong.sockets.length], [1, 1], 'no reconnect loop');
  } finally {
    typo.stream.close();
    wrong.stream.close();
  }
});
