// The WebSocket endpoint over a real socket: a token is required, bus events are pushed, topics filter them, a socket
// receives only what its user may GET, and it is closed when its token ends or its user loses a permission.
import Ajv2020 from 'ajv/dist/2020.js';
import { SOCKET_MESSAGES } from '../../core/contract/asyncapi.ts';
import { event } from '../../core/contract/events.ts';
import { line, obj } from '../../core/contract/schema.ts';
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import WebSocket from 'ws';
import type { Gateway } from '../../core/gateway.ts';
import { MAX_SUBSCRIPTIONS, WS_CLOSE, WS_MAX_CLIENT_MESSAGE } from '../../core/ws/ws.ts';
import { gatewayIn, type TempGateway, tempGateway } from '../support/gateway.ts';
import { client } from '../support/http.ts';

let gateway: TempGateway;
let dir: string;
let gw: Gateway;
let base: string;
let token: string;

before(async () => {
  gateway = await tempGateway({
    prefix: 'gw-ws',
    yaml: (d) =>
      `http: {port: 0}\nami: {port: 1, username: u, secret: s}\ndata_dir: ${d}\nauth: {bootstrap_admin: {username: a, password: b}}\nplugins: [core, users]\n`,
    known: ['core', 'users'],
    start: true,
  });
  ({ gw, dir } = gateway);
  base = `127.0.0.1:${gateway.port}`;
  token = await client((r) => fetch(r), `http://${base}`).login('a', 'b');
});
after(() => gateway?.close());

/** A WebSocket to the gateway (at `b`, host:port; the shared one by default) that keeps every frame. */
/** Every frame of the socket's own (hello, ack, error, snapshot, gateway.resync) any test here received. */
const socketFrames: any[] = [];
const SOCKET_TYPES = new Set(SOCKET_MESSAGES.map((m) => m.type));

function open(query: string, b = base): Promise<{ ws: WebSocket; messages: any[] }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://${b}/v1/ws${query}`);
    const messages: any[] = [];
    ws.on('message', (d) => {
      const frame = JSON.parse(String(d));
      messages.push(frame);
      if (SOCKET_TYPES.has(frame.type)) socketFrames.push(frame);
    });
    ws.once('open', () => resolve({ ws, messages }));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

const until = async (cond: () => boolean) => {
  for (let i = 0; i < 100 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
};

test('no or a wrong token: the upgrade is refused with 401', async () => {
  await assert.rejects(open(''), /HTTP 401/);
  await assert.rejects(open('?authtoken=nope'), /HTTP 401/);
});

test('bus events are pushed as JSON; topics filter by prefix', async () => {
  const all = await open(`?authtoken=${token}`);
  const deviceOnly = await open(`?authtoken=${token}&topics=core.device_state.`);
  await until(() => all.messages.length >= 1 && deviceOnly.messages.length >= 1);
  assert.equal(all.messages[0].type, 'hello');
  const payload = obj({ unique_id: line() });
  gw.bus.publish(event('core.channel.updated', 'test', payload, { like: '/admin/core/channels' }), { unique_id: '1.1' });
  gw.bus.publish(event('core.device_state.updated', 'test', payload, { like: '/device_states' }), { unique_id: '1.2' });
  await until(() => all.messages.length >= 3 && deviceOnly.messages.length >= 2);
  assert.deepEqual(
    all.messages.slice(1).map((m) => m.type),
    ['core.channel.updated', 'core.device_state.updated'],
  );
  assert.deepEqual(
    deviceOnly.messages.slice(1).map((m) => [m.type, m.data.unique_id]),
    [['core.device_state.updated', '1.2']],
  );
  assert.match(all.messages[1].timestamp, /Z$/);
  all.ws.close();
  deviceOnly.ws.close();
});

// ---- permissions: a socket receives only what its user may GET ----

const payload = obj({ id: line() });
const adminEvent = event('core.channel.updated', 'admin only', payload, { like: '/admin/core/channels' });
const managerEvent = event('users.test.manager', 'managers', payload, { like: '/manager/users' });
const anyoneEvent = event('core.device_state.updated', 'anyone', payload, { like: '/device_states' });
const membersEvent = event('chat.message.created', 'members', payload, { members: "the room's members" });

async function userWith(username: string, permission: string): Promise<{ uuid: string; token: string }> {
  const admin = client((r) => fetch(r), `http://${base}`);
  admin.setToken(token);
  const created = await admin.post('/v1/admin/user/users', { username, password: 'pw', permissions: [{ permission }] });
  assert.equal(created.status, 200, created.text);
  const c = client((r) => fetch(r), `http://${base}`);
  return { uuid: created.body.result.uuid, token: await c.login(username, 'pw', 'me') };
}

function closed(ws: WebSocket): Promise<{ code: number; reason: string; ms: number }> {
  const t0 = Date.now();
  return new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: String(reason), ms: Date.now() - t0 })));
}

test('each socket gets only the events its user may GET: admin, manager, plain user, room members', async () => {
  const plain = await userWith('ws-plain', 'user');
  const manager = await userWith('ws-manager', 'manager');
  const sockets = {
    admin: await open(`?authtoken=${token}`),
    manager: await open(`?authtoken=${manager.token}`),
    plain: await open(`?authtoken=${plain.token}`),
  };
  await until(() => Object.values(sockets).every((s) => s.messages.length >= 1));
  gw.bus.publish(adminEvent, { id: 'a' });
  gw.bus.publish(managerEvent, { id: 'm' });
  gw.bus.publish(anyoneEvent, { id: 'x' });
  gw.bus.publish(membersEvent, { id: 'c' }, [plain.uuid]);
  gw.bus.publish(anyoneEvent, { id: 'end' });
  await until(() => Object.values(sockets).every((s) => s.messages.some((m) => m.data?.id === 'end')));
  const got = (s: { messages: any[] }) => s.messages.slice(1).map((m) => m.data.id);
  assert.deepEqual(got(sockets.admin), ['a', 'm', 'x', 'end'], 'an admin may GET everything but is no room member');
  assert.deepEqual(got(sockets.manager), ['m', 'x', 'end']);
  assert.deepEqual(got(sockets.plain), ['x', 'c', 'end']);
  for (const s of Object.values(sockets)) s.ws.close();
});

test('logout closes the socket with 4001 within a second; so does deleting the user', async () => {
  const u = await userWith('ws-logout', 'user');
  const s = await open(`?authtoken=${u.token}`);
  const done = closed(s.ws);
  const logout = await fetch(`http://${base}/v1/me/login?authtoken=${u.token}`, { method: 'DELETE' });
  assert.equal(logout.status, 200);
  const c = await done;
  assert.equal(c.code, 4001);
  assert.match(c.reason, /token ended/);
  assert.ok(c.ms < 1500, `closed after ${c.ms} ms`);

  const d = await userWith('ws-deleted', 'user');
  const s2 = await open(`?authtoken=${d.token}`);
  const done2 = closed(s2.ws);
  const del = await fetch(`http://${base}/v1/admin/user/users/${d.uuid}?authtoken=${token}`, { method: 'DELETE' });
  assert.equal(del.status, 200);
  assert.equal((await done2).code, 4001);
});

test('a user who loses a permission is closed with 4003 and must log in again', async () => {
  const m = await userWith('ws-demoted', 'manager');
  const s = await open(`?authtoken=${m.token}`);
  const done = closed(s.ws);
  const put = await fetch(`http://${base}/v1/admin/user/users/${m.uuid}?authtoken=${token}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ permissions: [{ permission: 'user' }] }),
  });
  assert.equal(put.status, 200, await put.text());
  const c = await done;
  assert.equal(c.code, 4003);
  assert.match(c.reason, /permissions changed/);
  const status = (await (await fetch(`http://${base}/v1/status`)).json()) as { result: { websocket: { connected: number } } };
  assert.equal(typeof status.result.websocket.connected, 'number');
});

// ---- protocol: seq, subscribe, snapshot, resume, backpressure ----

const thing = event('core.channel.updated', 'test', obj({ unique_id: line(), queue_name: line() }), { like: '/admin/core/channels' });

test('every event frame carries seq (monotonic) and the run; subscribe/unsubscribe are acked, bad messages answered', async () => {
  const s = await open(`?authtoken=${token}&topics=core.device_state.`);
  await until(() => s.messages.length >= 1);
  const hello = s.messages[0];
  assert.equal(hello.type, 'hello');
  assert.match(hello.run, /^[0-9a-f-]{36}$/);
  s.ws.send(JSON.stringify({ type: 'subscribe', topic: 'core.channel.', filter: { unique_id: 'sales' } }));
  s.ws.send(JSON.stringify({ type: 'subscribe', topic: 'x', colour: 'red' }));
  s.ws.send('{"type":');
  s.ws.send(JSON.stringify({ type: 'unsubscribe', topic: 'never.' }));
  await until(() => s.messages.length >= 5);
  assert.deepEqual(
    s.messages.slice(1, 5).map((m) => [m.type, m.request ?? m.code]),
    [
      ['ack', 'subscribe'],
      ['error', 'unknown_field'],
      ['error', 'malformed_json'],
      ['error', 'not_found'],
    ],
  );
  for (const q of ['sales', 'support', 'sales']) gw.bus.publish(thing, { unique_id: q, queue_name: q });
  await until(() => s.messages.filter((m) => m.type === 'core.channel.updated').length >= 2);
  const evs = s.messages.filter((m) => m.type === 'core.channel.updated');
  assert.deepEqual(
    evs.map((m) => m.data.queue_name),
    ['sales', 'sales'],
    'the filter narrows to one object',
  );
  assert.equal(evs[1].seq, evs[0].seq + 2, 'seq counts every event of the run, monotonic');
  assert.equal(evs[0].run, hello.run);
  s.ws.send(JSON.stringify({ type: 'unsubscribe', topic: 'core.channel.' }));
  await until(() => s.messages.some((m) => m.type === 'ack' && m.request === 'unsubscribe'));
  s.ws.close();
});

test('a topic or filter that could never match is refused, in the query and in-band, naming what was wrong', async () => {
  const plain = await userWith('ws-topics', 'user');
  const refused = async (query: string) => {
    const r = await fetch(`http://${base}/v1/ws${query}`);
    const body = (await r.json()) as { statuscode: number; result: { code: string; message: string } };
    return [r.status, body.statuscode, body.result.code, body.result.message] as const;
  };
  const [status, code, name, message] = await refused(`?authtoken=${token}&topics=core.,queue.`);
  assert.deepEqual([status, code, name], [404, 404, 'not_found'], 'queue is not enabled here: a typo or a missing plugin');
  assert.match(message, /^topic: "queue\." matches no event this gateway publishes \(event types start with core\., users\.;/);
  const asPlain = await refused(`?authtoken=${plain.token}&topics=core.channel.`);
  assert.deepEqual(asPlain.slice(0, 3), [403, 403, 'forbidden']);
  assert.match(asPlain[3], /"core\.channel\.": its events go to administrators only, who may GET \/v1\/admin\/core\/channels/);
  await assert.rejects(open(`?authtoken=${token}&topics=core.chanel.`), /HTTP 404/);
  // a WebSocket client gets the same envelope as the answer to its upgrade
  const upgradeAnswer = await new Promise<{ status: number; body: any }>((resolve, reject) => {
    const ws = new WebSocket(`ws://${base}/v1/ws?authtoken=${plain.token}&topics=core.channel.`);
    ws.once('unexpected-response', (_req, res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
    });
    ws.once('error', reject);
  });
  assert.equal(upgradeAnswer.status, 403);
  assert.deepEqual([upgradeAnswer.body.statuscode, upgradeAnswer.body.result.code], [403, 'forbidden']);
  assert.match(upgradeAnswer.body.result.message, /its events go to administrators only/);

  // a plain user may take core. (device states are for anyone) but not core.channel. in-band
  const s = await open(`?authtoken=${plain.token}&topics=core.`);
  await until(() => s.messages.length >= 1);
  const ask = (m: object) => s.ws.send(JSON.stringify({ type: 'subscribe', ...m }));
  ask({ topic: 'core.channel.' });
  ask({ topic: 'park.' });
  ask({ topic: 'core.device_state.', filter: { devise: 'PJSIP/1001' } });
  ask({ topic: 'core.device_state.', filter: { device: 1001 } });
  ask({ topic: 'core.device_state.', filter: { device: 'PJSIP/1001' } });
  await until(() => s.messages.length >= 6);
  const answers = s.messages.slice(1, 6);
  assert.deepEqual(
    answers.map((m) => [m.type, m.code ?? m.request]),
    [
      ['error', 'forbidden'],
      ['error', 'not_found'],
      ['error', 'invalid_field'],
      ['error', 'invalid_field'],
      ['ack', 'subscribe'],
    ],
  );
  assert.match(
    answers[2].message,
    /^filter\.devise: no event under "core\.device_state\." has this field \(they have: device, state, tm_update\)/,
  );
  assert.match(answers[3].message, /^filter\.device: is string in these events, not number: it would match nothing/);
  // a refused subscribe changed nothing: the socket still gets core. events it may receive, and only those
  gw.bus.publish(anyoneEvent, { id: 'still' });
  gw.bus.publish(adminEvent, { id: 'never' });
  gw.bus.publish(anyoneEvent, { id: 'end' });
  await until(() => s.messages.some((m) => m.data?.id === 'end'));
  assert.deepEqual(
    s.messages.filter((m) => m.data?.id).map((m) => m.data.id),
    ['still', 'end'],
  );
  s.ws.close();
});

test('a socket holds at most 64 subscriptions, and a client message over 64 KiB closes it with 1009', async () => {
  // every prefix of a declared type is a valid topic: c, co, cor, core, core., core.c, ...
  const types = ['core.channel.updated', 'core.device_state.updated', 'core.originate.answered', 'core.transfer.progress'];
  const prefixes = [...new Set(types.flatMap((t) => Array.from({ length: t.length }, (_, i) => t.slice(0, i + 1))))];
  assert.ok(prefixes.length > MAX_SUBSCRIPTIONS);
  const tooMany = prefixes.slice(0, MAX_SUBSCRIPTIONS + 1).join(',');
  const r = await fetch(`http://${base}/v1/ws?authtoken=${token}&topics=${encodeURIComponent(tooMany)}`);
  assert.equal(r.status, 400);
  assert.match(((await r.json()) as any).result.message, /^topics: at most 64 topics/);

  const s = await open(`?authtoken=${token}`);
  await until(() => s.messages.length >= 1);
  for (const topic of prefixes.slice(0, MAX_SUBSCRIPTIONS + 1)) s.ws.send(JSON.stringify({ type: 'subscribe', topic }));
  s.ws.send(JSON.stringify({ type: 'subscribe', topic: prefixes[0] })); // already held: replaced, not added
  await until(() => s.messages.length >= MAX_SUBSCRIPTIONS + 3);
  const answers = s.messages.slice(1).map((m) => m.type);
  assert.deepEqual(answers.slice(0, MAX_SUBSCRIPTIONS), Array(MAX_SUBSCRIPTIONS).fill('ack'));
  assert.equal(answers[MAX_SUBSCRIPTIONS], 'error');
  assert.match(s.messages[MAX_SUBSCRIPTIONS + 1].message, /at most 64 subscriptions/);
  assert.equal(answers[MAX_SUBSCRIPTIONS + 1], 'ack');

  const done = closed(s.ws);
  s.ws.send(JSON.stringify({ type: 'subscribe', topic: 'core.'.padEnd(WS_MAX_CLIENT_MESSAGE + 10, ' ') }));
  const c = await done;
  assert.equal(c.code, 1009, 'message too big');
  const status = await fetch(`http://${base}/v1/status`);
  assert.equal(status.status, 200, 'the gateway goes on');
});

test('unsubscribing the last topic leaves the socket with nothing, not with every event', async () => {
  const s = await open(`?authtoken=${token}`);
  await until(() => s.messages.length >= 1);
  gw.bus.publish(anyoneEvent, { id: 'before' }); // no topic named yet: everything the user may receive
  s.ws.send(JSON.stringify({ type: 'subscribe', topic: 'core.device_state.' }));
  await until(() => s.messages.some((m) => m.type === 'ack'));
  gw.bus.publish(adminEvent, { id: 'not-named' });
  gw.bus.publish(anyoneEvent, { id: 'named' });
  s.ws.send(JSON.stringify({ type: 'unsubscribe', topic: 'core.device_state.' }));
  await until(() => s.messages.filter((m) => m.type === 'ack').length >= 2);
  gw.bus.publish(adminEvent, { id: 'after-admin' });
  gw.bus.publish(anyoneEvent, { id: 'after-any' });
  s.ws.send(JSON.stringify({ type: 'subscribe', topic: 'core.channel.' }));
  await until(() => s.messages.filter((m) => m.type === 'ack').length >= 3);
  gw.bus.publish(adminEvent, { id: 'again' });
  await until(() => s.messages.some((m) => m.data?.id === 'again'));
  assert.deepEqual(
    s.messages.filter((m) => m.data?.id).map((m) => m.data.id),
    ['before', 'named', 'again'],
  );
  s.ws.close();
});

test('resume replays exactly the missed events; a resume point no longer kept gets gateway.resync and a snapshot', async () => {
  const steady = await open(`?authtoken=${token}&topics=core.channel.`);
  const dropped = await open(`?authtoken=${token}&topics=core.channel.`);
  await until(() => steady.messages.length >= 1 && dropped.messages.length >= 1);
  gw.bus.publish(thing, { unique_id: 'r1', queue_name: 'q' });
  await until(() => dropped.messages.some((m) => m.data?.unique_id === 'r1'));
  const last = dropped.messages.at(-1);
  dropped.ws.close();
  for (let i = 2; i <= 6; i++) gw.bus.publish(thing, { unique_id: `r${i}`, queue_name: 'q' });
  const resumed = await open(`?authtoken=${token}&topics=core.channel.&resume=${last.run}:${last.seq}`);
  await until(() => steady.messages.some((m) => m.data?.unique_id === 'r6') && resumed.messages.some((m) => m.data?.unique_id === 'r6'));
  gw.bus.publish(thing, { unique_id: 'r7', queue_name: 'q' });
  await until(() => resumed.messages.some((m) => m.data?.unique_id === 'r7') && steady.messages.some((m) => m.data?.unique_id === 'r7'));
  const ids = (msgs: any[], from: number) => msgs.filter((m) => m.type === 'core.channel.updated' && m.seq > from).map((m) => m.seq);
  assert.deepEqual(ids(resumed.messages, last.seq), ids(steady.messages, last.seq), 'no gap, no duplicate');
  assert.equal(ids(resumed.messages, last.seq).length, 6);

  // a point older than the replay buffer (or of another run): gateway.resync, then a snapshot
  const gone = await open(`?authtoken=${token}&resume=00000000-0000-0000-0000-000000000000:1`);
  await until(() => gone.messages.length >= 3);
  assert.deepEqual(
    gone.messages.slice(0, 3).map((m) => m.type),
    ['hello', 'gateway.resync', 'snapshot'],
  );
  assert.deepEqual(Object.keys(gone.messages[2].data).sort(), ['core.channel', 'core.device_state']);
  const bad = await open(`?authtoken=${token}&resume=nonsense`).catch((e: Error) => e);
  assert.match(String(bad), /HTTP 400/);
  for (const s of [steady, resumed, gone]) s.ws.close();
});

test('snapshot=true sends the current state first, as of a seq; the events after it follow', async () => {
  const s = await open(`?authtoken=${token}&topics=core.device_state.&snapshot=true`);
  await until(() => s.messages.length >= 2);
  assert.equal(s.messages[1].type, 'snapshot');
  assert.deepEqual(Object.keys(s.messages[1].data), ['core.device_state']);
  assert.ok(Array.isArray(s.messages[1].data['core.device_state']));
  const at = s.messages[1].seq;
  gw.bus.publish(event('core.device_state.updated', 't', obj({ device: line() }), { like: '/device_states' }), { device: 'PJSIP/1' });
  await until(() => s.messages.length >= 3);
  assert.equal(s.messages[2].seq, at + 1);
  s.ws.close();
});

test('after an AMI reconnect every socket gets gateway.resync and its snapshot; alike snapshots are encoded once', async () => {
  const alike = await Promise.all([1, 2, 3].map(() => open(`?authtoken=${token}&topics=core.`)));
  const other = await open(`?authtoken=${token}&topics=core.device_state.`);
  const all = [...alike, other];
  await until(() => all.every((s) => s.messages.length >= 1));
  const ws = (gw as unknown as { ws: { resyncAll(reason: string): void; snapshotsEncoded(): number } }).ws;
  const before = ws.snapshotsEncoded();
  ws.resyncAll('test: Asterisk reconnected');
  await until(() => all.every((s) => s.messages.length >= 3));
  for (const s of all) {
    assert.deepEqual(
      s.messages.slice(1).map((m) => m.type),
      ['gateway.resync', 'snapshot'],
    );
    assert.equal(s.messages[1].data.reason, 'test: Asterisk reconnected');
  }
  assert.deepEqual(Object.keys(alike[0]!.messages[2].data).sort(), ['core.channel', 'core.device_state']);
  assert.deepEqual(Object.keys(other.messages[2].data), ['core.device_state']);
  assert.equal(ws.snapshotsEncoded() - before, 2, 'one snapshot for the three alike sockets, one for the other');
  for (const s of all) s.ws.close();
});

test('a resume from before an AMI reconnect, or from it, gets gateway.resync and a snapshot, not a replay', async () => {
  const ws = (gw as unknown as { ws: { resyncAll(reason: string): void } }).ws;
  const ev = event('core.device_state.updated', 't', obj({ device: line() }), { like: '/device_states' });
  const away = await open(`?authtoken=${token}&topics=core.device_state.`);
  const stays = await open(`?authtoken=${token}&topics=core.device_state.`);
  gw.bus.publish(ev, { device: 'PJSIP/before' });
  await until(() => away.messages.length >= 2 && stays.messages.length >= 2);
  const left = away.messages.at(-1);
  away.ws.close();
  // Asterisk reconnects while it is away, with no event between its last one and the resync
  ws.resyncAll('test: Asterisk reconnected');
  await until(() => stays.messages.length >= 4);
  assert.deepEqual(
    stays.messages.slice(2, 4).map((m) => [m.type, m.seq]),
    [
      ['gateway.resync', left.seq],
      ['snapshot', left.seq],
    ],
  );
  gw.bus.publish(ev, { device: 'PJSIP/after' });
  await until(() => stays.messages.length >= 5);
  const after = stays.messages[4];
  assert.equal(after.seq, left.seq + 1);
  // the one that was away starts over: a replay from its resume point would be empty, and it missed the resync
  const back = await open(`?authtoken=${token}&topics=core.device_state.&resume=${left.run}:${left.seq}`);
  await until(() => back.messages.length >= 3);
  assert.deepEqual(
    back.messages.slice(1, 3).map((m) => m.type),
    ['gateway.resync', 'snapshot'],
  );
  assert.match(back.messages[1].data.reason, /read again from Asterisk since \(test: Asterisk reconnected\)/);
  // a resume point after the resync: the replay of what came after it
  gw.bus.publish(ev, { device: 'PJSIP/later' });
  const again = await open(`?authtoken=${token}&topics=core.device_state.&resume=${after.run}:${after.seq}`);
  await until(() => again.messages.length >= 2);
  assert.deepEqual(
    again.messages.slice(1).map((m) => [m.type, m.data.device]),
    [['core.device_state.updated', 'PJSIP/later']],
  );
  for (const s of [stays, back, again]) s.ws.close();
});

// ---- the bounds, each on a gateway of its own ----

/** A gateway of its own with these websocket settings (core plugin, AMI unreachable), and an admin token for it. */
async function ownGateway(name: string, websocket: string) {
  const own = await gatewayIn(
    dir,
    `http: {port: 0}\nami: {port: 1, username: u, secret: s}\ndata_dir: ${dir}/${name}\nauth: {bootstrap_admin: {username: a, password: b}}\nwebsocket: ${websocket}\nplugins: [core]\n`,
    ['core'],
    { file: `${name}.yaml` },
  );
  const port = (await own.start()).port;
  const b = `127.0.0.1:${port}`;
  const t = await client((r) => fetch(r), `http://${b}`).login('a', 'b');
  const status = async () => ((await (await fetch(`http://${b}/v1/status`)).json()) as any).result.websocket;
  return { gw: own, port, b, t, status };
}

/** A raw TCP client that completes the WebSocket upgrade and then does nothing: reads nothing, answers no ping. */
async function rawUpgrade(port: number, token: string): Promise<net.Socket> {
  const socket = net.connect(port, '127.0.0.1');
  socket.write(
    `GET /v1/ws?authtoken=${token} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
  );
  await new Promise((r) => socket.once('data', r));
  return socket;
}

/** `count` events of `bytes` bytes each, letting the sockets write after every `every`. */
async function flood(g: Gateway, count: number, bytes: number, every: number): Promise<void> {
  const big = 'x'.repeat(bytes);
  for (let i = 0; i < count; i++) {
    g.bus.publish(thing, { unique_id: String(i), queue_name: big });
    if (i % every === 0) await new Promise((r) => setImmediate(r));
  }
}

test('a client that never reads is closed with 1013 and counted; another client keeps receiving', async () => {
  const { gw: small, port, b, t, status } = await ownGateway('slow', '{max_buffered_bytes: 65536}'); // a 64 KB bound
  try {
    const reader = await open(`?authtoken=${t}`, b);
    const stalled = await rawUpgrade(port, t);
    stalled.pause();
    await flood(small, 400, 16 * 1024, 20);
    await until(() => reader.messages.length >= 401);
    assert.equal(reader.messages.length, 401, 'the reading client got hello and every event');
    const st = await status();
    assert.equal(st.dropped_slow, 1);
    assert.equal(st.connected, 1);
    stalled.destroy();
  } finally {
    await small.stop();
  }
});

test('a snapshot or a replay bigger than websocket.max_buffered_bytes arrives whole; the events after it follow', async () => {
  // a 4 KB bound; 200 channels make a ~60 KB snapshot, 100 events of 1 KB a ~110 KB replay
  const { gw: tight, b, t, status } = await ownGateway('tight', '{max_buffered_bytes: 4096}');
  try {
    for (let i = 0; i < 200; i++) {
      tight.plugins.dispatch(
        { fields: { Event: 'Newchannel', Uniqueid: `1.${i}`, Channel: `PJSIP/a-${i}`, ChannelState: '0', CallerIDName: 'n'.repeat(200) } },
        i + 1,
      );
    }
    const snap = await open(`?authtoken=${t}&topics=core.channel.&snapshot=true`, b);
    await until(() => snap.messages.length >= 2);
    assert.equal(snap.messages[1]?.type, 'snapshot');
    assert.equal(snap.messages[1].data['core.channel'].length, 200);
    assert.ok(JSON.stringify(snap.messages[1]).length > 40_000, 'the snapshot is far over the bound');
    const from = tight.bus.seq;
    await flood(tight, 100, 1024, 1000);
    const resumed = await open(`?authtoken=${t}&resume=${tight.bus.runId}:${from}`, b);
    await until(() => resumed.messages.length >= 101);
    assert.deepEqual(
      resumed.messages.slice(1).map((m) => m.seq),
      Array.from({ length: 100 }, (_, i) => from + 1 + i),
      'the whole replay',
    );
    // both stay open, and the next event reaches both
    tight.bus.publish(thing, { unique_id: 'after', queue_name: 'q' });
    await until(() => snap.messages.length >= 103 && resumed.messages.length >= 102);
    assert.equal(snap.messages.at(-1).data.unique_id, 'after');
    assert.equal(resumed.messages.at(-1).data.unique_id, 'after');
    const st = await status();
    assert.equal(st.dropped_slow, 0);
    assert.equal(st.connected, 2);
  } finally {
    await tight.stop();
  }
});

test('a client that stays behind for websocket.max_lag_s is closed with 1013 and counted, under the byte bound', async () => {
  // a byte bound it never reaches (256 MB) and a lag bound of 1 s
  const { gw: laggy, port, b, t, status } = await ownGateway('lag', '{max_buffered_bytes: 268435456, max_lag_s: 1}');
  try {
    const reader = await open(`?authtoken=${t}`, b);
    // the behind client stops reading while it is sent more than the kernel's buffers hold
    const behind = await rawUpgrade(port, t);
    behind.pause();
    await flood(laggy, 200, 64 * 1024, 10);
    await until(() => reader.messages.length >= 201);
    assert.equal(reader.messages.length, 201, 'the reading client got hello and every event');
    assert.equal((await status()).dropped_slow, 0, 'not dropped at once: 12.5 MB is far under the byte bound');
    // no more events: only the lag bound can drop it now, within about max_lag_s + one check
    const t0 = Date.now();
    while ((await status()).dropped_slow === 0 && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 100));
    const after = await status();
    assert.equal(after.dropped_slow, 1, 'dropped as too slow');
    assert.equal(after.connected, 1, 'the reading client stays');
    assert.ok(Date.now() - t0 >= 500, `dropped ${Date.now() - t0} ms after the last event: by the lag bound, not at once`);
    // what it was sent ends with the close frame: 1013 and the reason
    // (read until it comes: the gateway then waits for the client's own close frame, which this raw client never sends)
    const reason = Buffer.from(WS_CLOSE.lagging.reason);
    let all = Buffer.alloc(0);
    await new Promise<void>((resolve, reject) => {
      const timeout = setTimeout(() => reject(new Error(`no close frame in ${all.length} bytes`)), 10_000);
      behind.on('data', (d: Buffer) => {
        all = Buffer.concat([all, d]);
        if (all.subarray(-reason.length).equals(reason)) {
          clearTimeout(timeout);
          resolve();
        }
      });
      behind.resume();
    });
    const at = all.length - reason.length;
    assert.equal(all[at - 4], 0x88, 'a close frame (FIN + opcode 8)');
    assert.equal(all.readUInt16BE(at - 2), 1013);
    behind.destroy();
  } finally {
    await laggy.stop();
  }
});

test('a peer that does not answer pings is dropped after a heartbeat and counted', async () => {
  const { gw: quick, port, b, t, status } = await ownGateway('hb', '{heartbeat_s: 1}');
  try {
    await open(`?authtoken=${t}`, b);
    // it completes the upgrade, then never answers a ping (a dead peer behind a NAT looks like this)
    const dead = await rawUpgrade(port, t);
    await new Promise((r) => dead.once('close', r));
    const st = await status();
    assert.equal(st.dropped_dead, 1);
    assert.equal(st.connected, 1, 'the client that answers pings stays');
  } finally {
    await quick.stop();
  }
});

test('?heartbeat=true: a heartbeat frame at every ping carries the current seq, a resume point on a quiet topic', async () => {
  const { gw: own, b, t } = await ownGateway('ws-heartbeat', '{heartbeat_s: 1}');
  try {
    const r = await fetch(`http://${b}/v1/ws?authtoken=${t}&heartbeat=yes`);
    assert.equal(r.status, 400);
    assert.match(((await r.json()) as any).result.message, /^heartbeat: must be true or false/);
    const beating = await open(`?authtoken=${t}&heartbeat=true&topics=core.device_state.`, b);
    const plain = await open(`?authtoken=${t}&topics=core.device_state.`, b);
    await until(() => beating.messages.length >= 1 && plain.messages.length >= 1);
    assert.deepEqual(beating.messages[0].data, { topics: ['core.device_state.'], heartbeat_s: 1 });
    assert.deepEqual(plain.messages[0].data, { topics: ['core.device_state.'] });
    // events on another topic move the bus on; the next heartbeat says so
    own.bus.publish(adminEvent, { id: 'elsewhere' });
    own.bus.publish(adminEvent, { id: 'elsewhere too' });
    const after = own.bus.seq;
    for (let i = 0; i < 40 && !beating.messages.some((m) => m.type === 'heartbeat' && m.seq >= after); i++) {
      await new Promise((res) => setTimeout(res, 100));
    }
    const beat = beating.messages.find((m) => m.type === 'heartbeat' && m.seq >= after);
    assert.ok(beat, 'a heartbeat with the current seq within two intervals');
    assert.equal(beat.run, own.bus.runId);
    assert.equal(beat.seq, after);
    // resuming from it replays nothing and needs no resync
    const resumed = await open(`?authtoken=${t}&topics=core.device_state.&resume=${beat.run}:${beat.seq}`, b);
    own.bus.publish(anyoneEvent, { id: 'next' });
    await until(() => resumed.messages.some((m) => m.data?.id === 'next'));
    assert.deepEqual(
      resumed.messages.map((m) => m.type),
      ['hello', 'core.device_state.updated'],
    );
    assert.equal(
      plain.messages.some((m) => m.type === 'heartbeat'),
      false,
      'only sockets that ask get heartbeats',
    );
    for (const s of [beating, plain, resumed]) s.ws.close();
  } finally {
    await own.stop();
  }
});

// Last: the frames the tests above received, each against its schema in /v1/asyncapi.json (the event frames' payloads
// are checked where real events are published: every real-Asterisk bed validates each one on the bus).
test('every socket frame received above matches its message in /v1/asyncapi.json', async () => {
  const doc = (await (await fetch(`http://${base}/v1/asyncapi.json`)).json()) as any;
  const ajv = new Ajv2020({ strict: false, validateFormats: false });
  ajv.addSchema(doc, 'asyncapi');
  const seen = new Set(socketFrames.map((f) => f.type));
  assert.deepEqual([...seen].sort(), [...SOCKET_TYPES].sort(), 'the tests above saw every kind of socket frame');
  const problems: string[] = [];
  for (const frame of socketFrames) {
    const validate =
      ajv.getSchema(`asyncapi#/channels/events/messages/${frame.type}/payload`) ??
      ajv.compile({ $ref: `asyncapi#/channels/events/messages/${frame.type}/payload` });
    if (!validate(frame)) problems.push(`${JSON.stringify(frame).slice(0, 200)}: ${ajv.errorsText(validate.errors)}`);
  }
  assert.deepEqual(problems, []);
});
