// The core plugin and the gateway's AMI life cycle against a real Asterisk 22: channels, modules, systems,
// device states, bad input, and a kill -9 of Asterisk with automatic reconnect and resync.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { TESTBED } from '../asterisk/testbed.ts';
import { skipReason, startBed, type Bed } from '../support/bed.ts';
import WebSocket from 'ws';
import { client, eventually, getWithBody } from '../support/http.ts';

const skip = skipReason() ?? false;
const T = { timeout: 90_000, skip };
let bed: Bed;

before(
  async () => {
    if (!skip) bed = await startBed({ plugins: ['core', 'users'] });
  },
  { timeout: 90_000 },
);
after(
  async () => {
    await bed?.close();
  },
  { timeout: 60_000 },
);

async function originateWait(exten: string): Promise<void> {
  await bed.gateway.ami.action('Originate', {
    Channel: `Local/${exten}@${TESTBED.contexts.wait}`,
    Application: 'Wait',
    Data: '600',
    Async: 'true',
    CallerID: `"Jörg Test" <${exten}>`,
  });
}

/** A WebSocket to the bed's gateway that keeps every frame it receives. */
function openSocket(token: string, query = ''): Promise<{ ws: WebSocket; messages: any[] }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${bed.base.replace('http', 'ws')}/v1/ws?authtoken=${token}${query}`);
    const messages: any[] = [];
    ws.on('message', (d) => messages.push(JSON.parse(String(d))));
    ws.once('open', () => resolve({ ws, messages }));
    ws.once('error', reject);
  });
}

async function asteriskChannels(): Promise<string[]> {
  const r = await bed.gateway.ami.list('CoreShowChannels');
  return r.events
    .filter((e) => e.fields.Event === 'CoreShowChannel')
    .map((e) => e.fields.Uniqueid ?? '')
    .sort();
}

async function gatewayChannels(): Promise<any[]> {
  const a = await bed.api.get('/v1/admin/core/channels');
  assert.equal(a.status, 200, a.text);
  return a.body.result.list;
}

test('status reports the AMI connection, the Asterisk version and the plugins', T, async () => {
  const a = await bed.api.get('/v1/status');
  assert.equal(a.status, 200);
  assert.equal(a.body.result.ami.connected, true);
  assert.match(a.body.result.asterisk.version, /^22\./);
  assert.equal(typeof a.body.result.asterisk.uptime_s, 'number');
  assert.deepEqual(
    a.body.result.plugins.map((p: any) => [p.name, p.live]),
    [
      ['core', true],
      ['users', true],
    ],
  );
});

test('an originated call appears in channels with the spec fields, and DELETE hangs it up', T, async () => {
  await originateWait('4711');
  const mine = await eventually(
    async () => {
      const l = (await gatewayChannels()).filter((c) => c.channel.startsWith('Local/4711@gw-test-wait'));
      return l.length === 2 ? l : null;
    },
    10000,
    'both halves of the Local channel',
  );
  assert.equal(mine!.length, 2, 'both halves of the Local channel');
  const ch = mine!.find((c) => c.channel.endsWith(';2'))!;
  const types: Record<string, string> = {
    unique_id: 'string',
    linked_id: 'string',
    channel: 'string',
    channel_state: 'number',
    channel_state_desc: 'string',
    context: 'string',
    exten: 'string',
    priority: 'string',
    caller_id_name: 'string',
    caller_id_num: 'string',
    connected_line_name: 'string',
    connected_line_num: 'string',
    account_code: 'string',
    language: 'string',
    application: 'string',
    application_data: 'string',
    variables: 'object',
    tm_update: 'string',
    duration: 'number',
  };
  for (const [k, t] of Object.entries(types)) assert.equal(typeof ch[k], t, `${k} is ${t}`);
  assert.equal(ch.hangup_cause, null);
  await eventually(
    async () => {
      const c = (await bed.api.get(`/v1/admin/core/channels/${encodeURIComponent(ch.unique_id)}`)).body.result;
      return c.channel_state === 6 && c.channel_state_desc === 'Up' && c.application === 'Wait';
    },
    10000,
    'channel up in Wait',
  );
  const detail = (await bed.api.get(`/admin/core/channels/${ch.unique_id}`)).body.result;
  assert.equal(detail.context, 'gw-test-wait');
  assert.equal(detail.exten, '4711');
  // The gateway's view matches Asterisk's own list.
  const gwIds = (await gatewayChannels()).map((c) => c.unique_id).sort();
  assert.deepEqual(gwIds, await asteriskChannels());

  const del = await bed.api.del(`/v1/admin/core/channels/${ch.unique_id}`);
  assert.equal(del.status, 200, del.text);
  assert.equal(del.body.result, undefined, 'an acknowledgement has no result, as in the spec');
  await eventually(async () => (await gatewayChannels()).every((c) => !c.channel.startsWith('Local/4711@')), 10000, 'hung up');
  assert.deepEqual(await asteriskChannels(), []);
  const gone = await bed.api.get(`/v1/admin/core/channels/${ch.unique_id}`);
  assert.equal(gone.status, 404);
  assert.equal((await bed.api.del(`/v1/admin/core/channels/${ch.unique_id}`)).status, 404);
});

test('modules: list and detail; unload and load change the list; bad names are refused', T, async () => {
  const list = (await bed.api.get('/v1/admin/core/modules')).body.result.list;
  assert.ok(list.length > 100);
  const queue = list.find((m: any) => m.name === 'app_queue');
  assert.equal(queue.load, 'Running');
  assert.equal(typeof queue.size, 'number');
  assert.ok(queue.size > 10000, 'size is the module file size');
  assert.equal(typeof queue.tm_update, 'string');

  const name = 'app_milliwatt';
  assert.equal((await bed.api.get(`/v1/admin/core/modules/${name}`)).body.result.load, 'Running');
  assert.equal((await bed.api.del(`/v1/admin/core/modules/${name}`)).status, 200);
  await eventually(async () => (await bed.api.get(`/v1/admin/core/modules/${name}`)).body.result.load === 'Not Running', 10000, 'unloaded');
  assert.match(await bed.asterisk.cli(`module show like ${name}`), /0 modules loaded/);
  assert.equal((await bed.api.post(`/v1/admin/core/modules/${name}`)).status, 200);
  await eventually(async () => (await bed.api.get(`/v1/admin/core/modules/${name}`)).body.result.load === 'Running', 10000, 'loaded');
  assert.match(await bed.asterisk.cli(`module show like ${name}`), /1 modules loaded/);
  assert.equal((await bed.api.put(`/v1/admin/core/modules/app_queue`)).status, 200, 'reload');

  for (const bad of ['..%2F..%2Fetc%2Fpasswd', 'app_queue%0D%0AAction%3A%20Originate', '..']) {
    const a = await bed.api.post(`/v1/admin/core/modules/${bad}`);
    assert.ok(a.status === 400 || a.status === 404, `${bad}: ${a.status}`);
    assert.equal(a.body.statuscode, a.status);
  }
  assert.equal((await bed.api.post('/v1/admin/core/modules/..%2F..%2Fetc%2Fpasswd')).status, 400);
  assert.equal((await bed.api.post('/v1/admin/core/modules/app_queue%0D%0AAction%3A%20Originate')).status, 400);
  assert.equal((await bed.api.post('/v1/admin/core/modules/app_no_such_thing')).status, 404);
  assert.equal((await bed.api.get('/v1/admin/core/modules/app_no_such_thing')).status, 404);
  assert.equal((await bed.api.del('/v1/admin/core/modules/app_no_such_thing')).status, 404);
});

test('systems: one record filled from CoreSettings and CoreStatus', T, async () => {
  const list = (await bed.api.get('/v1/admin/core/systems')).body.result.list;
  assert.equal(list.length, 1);
  const s = (await bed.api.get(`/v1/admin/core/systems/${list[0].id}`)).body.result;
  const settings = await bed.gateway.ami.action('CoreSettings');
  assert.equal(s.ast_version, settings.fields.AsteriskVersion);
  assert.equal(s.ami_version, settings.fields.AMIversion);
  for (const k of ['current_calls', 'max_calls', 'max_file_handles', 'max_load_avg']) assert.equal(typeof s[k], 'number', k);
  // The spec types max_load_avg <real>: it is written with a decimal point even when whole (0.0), in list and detail,
  // which clients with a float type test rely on.
  for (const path of ['/v1/admin/core/systems', `/v1/admin/core/systems/${list[0].id}`]) {
    const text = (await bed.api.get(path)).text;
    assert.match(text, /"max_load_avg":-?\d+\.\d+[,}]/, `${path}: ${text}`);
  }
  for (const k of ['cdr_enabled', 'http_enabled', 'real_time_enabled', 'startup_date', 'startup_time', 'run_user', 'system_name']) {
    assert.equal(typeof s[k], 'string', k);
  }
  assert.match(s.startup_date, /^\d{4}-\d\d-\d\d$/);
  assert.equal((await bed.api.get('/v1/admin/core/systems/99')).status, 404);
});

test('device states: list, detail by body and by path, following DeviceStateChange', T, async () => {
  const list = (await bed.api.get('/v1/device_states')).body.result.list;
  assert.ok(list.length > 0);
  // Agent devices exist from agents.conf; the state comes from Asterisk.
  const agentAnswer = await getWithBody(bed.base, '/v1/device_states/', { device: 'Agent:2001' }, bed.api.token);
  assert.equal(agentAnswer.status, 200, agentAnswer.text);
  const agent = agentAnswer.body.result;
  assert.equal(agent.device, 'Agent:2001');
  assert.equal(agent.state, 'UNAVAILABLE');
  assert.equal(typeof agent.tm_update, 'string');
  const byPath = (await bed.api.get(`/v1/device_states/${encodeURIComponent('Agent:2001')}`)).body.result;
  assert.equal(byPath.state, 'UNAVAILABLE');
  // a call into the queue-member context makes its Local device busy and shows up live
  await originateWait('5150');
  const dev = await eventually(
    async () => {
      const l = (await bed.api.get('/v1/device_states')).body.result.list;
      return l.find((d: any) => d.device.startsWith('Local/5150@gw-test-wait') && d.state === 'INUSE');
    },
    10000,
    'Local device INUSE',
  );
  assert.ok(dev);
  await bed.gateway.ami.action('Hangup', { Channel: '/^Local\\/5150@/' }).catch(() => {});
  const ask = (b: unknown) => getWithBody(bed.base, '/v1/device_states/', b, bed.api.token);
  assert.equal((await ask({})).status, 400);
  assert.equal((await ask({ device: 5 })).status, 400);
  assert.equal((await ask('{"device": ')).status, 400);
  assert.equal((await ask({ device: 'No:such' })).status, 404);
});

test('kill -9 of Asterisk: live routes answer 503; after restart the gateway reconnects and matches Asterisk', T, async () => {
  await originateWait('7001');
  await eventually(
    async () => (await gatewayChannels()).filter((c) => c.channel.startsWith('Local/7001@')).length === 2,
    10000,
    'two channels',
  );
  const socket = await openSocket(bed.api.token!, '&topics=core.channel.');
  await bed.asterisk.kill9();
  const down = await eventually(
    async () => {
      const a = await bed.api.get('/v1/admin/core/channels');
      return a.status === 503 ? a : null;
    },
    10000,
    '503 while down',
  );
  assert.match(down!.body.result.message, /not connected/);
  assert.equal((await bed.api.get('/v1/status')).body.result.ami.connected, false);

  await bed.asterisk.restart();
  await eventually(async () => (await bed.api.get('/v1/admin/core/channels')).status === 200, 30000, 'reconnect');
  // The old calls died with Asterisk; the gateway must not present them, over REST nor over the socket: the socket
  // got gateway.resync and then the rebuilt state, which equals Asterisk's.
  assert.deepEqual(await gatewayChannels(), []);
  const resync = await eventually(() => socket.messages.findIndex((m) => m.type === 'gateway.resync') + 1, 10000, 'gateway.resync');
  const snap = socket.messages[resync];
  assert.equal(snap?.type, 'snapshot');
  assert.deepEqual(snap.data['core.channel'].map((c: any) => c.unique_id).sort(), await asteriskChannels());
  socket.ws.close();
  await originateWait('7002');
  await eventually(
    async () => {
      const gw = (await gatewayChannels()).map((c) => c.unique_id).sort();
      const ast = await asteriskChannels();
      return gw.length === 2 && JSON.stringify(gw) === JSON.stringify(ast);
    },
    10000,
    'gateway matches Asterisk after restart',
  );
  await bed.gateway.ami.action('Hangup', { Channel: '/^Local\\/7002@/' });
});

test("a call's events reach an administrator's socket, in order, and never a plain user's", T, async () => {
  const created = await bed.api.post('/v1/admin/user/users', {
    username: 'ws-int-plain',
    password: 'pw',
    permissions: [{ permission: 'user' }],
  });
  assert.equal(created.status, 200, created.text);
  const plainToken = await client((r) => fetch(r), bed.base).login('ws-int-plain', 'pw', 'me');
  const admin = await openSocket(bed.api.token!);
  const plain = await openSocket(plainToken);
  await eventually(() => admin.messages.length >= 1 && plain.messages.length >= 1, 5000, 'hello');
  const exten = '4711';
  await originateWait(exten);
  const ours = (m: any) => m.type?.startsWith('core.channel.') && m.data?.channel?.startsWith(`Local/${exten}@`);
  await eventually(() => admin.messages.some(ours), 10000, 'the call on the admin socket');
  // hanging up one half of the Local pair ends both
  const half = (await gatewayChannels()).find((c) => c.channel.startsWith(`Local/${exten}@`));
  assert.equal((await bed.api.del(`/v1/admin/core/channels/${half.unique_id}`)).status, 200);
  await eventually(() => admin.messages.some((m) => ours(m) && m.type === 'core.channel.hangup'), 10000, 'the hangup event');
  // in order: for one channel, updates come before its hangup, and nothing follows the hangup
  const first = admin.messages.find(ours);
  const ofFirst = admin.messages.filter((m) => ours(m) && m.data.unique_id === first.data.unique_id).map((m) => m.type);
  assert.equal(ofFirst[0], 'core.channel.updated');
  assert.equal(ofFirst.at(-1), 'core.channel.hangup');
  assert.equal(ofFirst.filter((t) => t === 'core.channel.hangup').length, 1);
  // the administrator may see every event of this bed, so its seq has no gap
  const seqs = admin.messages.slice(1).map((m) => m.seq);
  assert.deepEqual(
    seqs,
    seqs.map((_s, i) => seqs[0] + i),
    'contiguous seq',
  );
  // the plain user (403 on /admin/core/channels) saw no channel event at all
  assert.equal((await client((r) => fetch(r), bed.base).call('GET', `/v1/admin/core/channels?authtoken=${plainToken}`)).status, 403);
  assert.deepEqual(
    plain.messages.filter((m) => m.type.startsWith('core.channel.')),
    [],
  );
  admin.ws.close();
  plain.ws.close();
});

test('a socket dropped mid-churn and resumed gets exactly the events an uninterrupted socket got', T, async () => {
  const steady = await openSocket(bed.api.token!);
  const first = await openSocket(bed.api.token!);
  await eventually(() => steady.messages.length >= 1 && first.messages.length >= 1, 5000, 'hello');
  await originateWait('8101');
  await eventually(() => first.messages.some((m) => m.data?.channel?.startsWith('Local/8101@')), 10000, 'first call seen');
  first.ws.close();
  const last = first.messages.at(-1);
  // while it is away: more calls come and go, and a variable is set on a channel whose updates were already sent
  // (the replay must be those updates as they were sent, not the channel as it is now)
  await originateWait('8102');
  await originateWait('8103');
  await eventually(() => steady.messages.some((m) => m.data?.channel?.startsWith('Local/8102@')), 10000, '8102 seen');
  const c8102 = steady.messages.find((m) => m.data?.channel?.startsWith('Local/8102@')).data.channel;
  await bed.gateway.ami.action('Setvar', { Channel: c8102, Variable: 'GW_RESUME_TEST', Value: 'set while away' });
  await bed.gateway.ami.action('Hangup', { Channel: '/^Local\\/810[12]@/' });
  const resumed = await openSocket(bed.api.token!, `&resume=${last.run}:${last.seq}`);
  await bed.gateway.ami.action('Hangup', { Channel: '/^Local\\/8103@/' });
  const hung = (s: { messages: any[] }) =>
    s.messages.filter((m) => m.type === 'core.channel.hangup' && m.data.channel.startsWith('Local/8103@')).length === 2;
  await eventually(() => hung(steady) && hung(resumed), 15000, 'both sockets see the last hangups');
  await new Promise((r) => setTimeout(r, 300));
  // whole frames: the same events, in the same order, with the same content
  const after = (s: { messages: any[] }) => s.messages.filter((m) => m.seq > last.seq && m.type !== 'hello').map((m) => JSON.stringify(m));
  assert.ok(after(steady).length > 10, `${after(steady).length} events while away and after`);
  assert.ok(
    after(steady).some((f) => f.includes('"GW_RESUME_TEST":"set while away"')),
    'the variable shows in the frames after it was set (the hangup)',
  );
  assert.deepEqual(after(resumed), after(steady), 'no gap, no duplicate, no frame changed');
  steady.ws.close();
  resumed.ws.close();
});
