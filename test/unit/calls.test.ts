// Call control of the core plugin (issue 13) wired as the gateway wires it, with a fake AMI that encodes every
// action as the real client does: input refusals (CR/LF 400 from the encoder, not 502), a channel unknown to the
// gateway 404 with no action sent, Asterisk's refusals mapped by meaning (gone 404, wrong state 409, missing target
// 400), and OriginateResponse matched to its Originate by ActionID even when it beats the Originate's answer.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { encodeAction } from '../../core/ami/encoder.ts';
import { AmiError } from '../../core/ami/errors.ts';
import type { AmiMessage } from '../../core/ami/message.ts';
import type { AmiHeaders, AmiListResult, AmiPort } from '../../core/ami/port.ts';
import type { BusMessage } from '../../core/bus/bus.ts';
import { parseConfig } from '../../core/config.ts';
import type { PluginInstance } from '../../core/plugins/contract.ts';
import core from '../../plugins/core/index.ts';
import { pluginApp } from '../support/app.ts';
import type { client } from '../support/http.ts';

const msg = (fields: Record<string, string>): AmiMessage => ({ fields });

/** Answers actions like Asterisk; `errors` makes an action answer Response: Error with that message. */
class FakeAsterisk implements AmiPort {
  connected = true;
  sent: { name: string; headers: AmiHeaders; id: string }[] = [];
  errors: Record<string, string> = {};
  /** OriginateResponse to deliver before the Originate's answer (a fast failure) */
  early?: (id: string) => void;
  private n = 0;

  async action(name: string, headers: AmiHeaders = {}): Promise<AmiMessage> {
    const id = `a${++this.n}`;
    encodeAction(name, id, headers); // throws AmiInputError as the real client does, before sending
    this.sent.push({ name, headers, id });
    const err = this.errors[name];
    if (err) throw new AmiError(err, msg({ Response: 'Error', ActionID: id, Message: err }));
    if (name === 'Originate') this.early?.(id);
    if (name === 'Getvar') return msg({ Response: 'Success', ActionID: id, Variable: String(headers.Variable), Value: 'v1' });
    return msg({ Response: 'Success', ActionID: id });
  }
  async list(name: string): Promise<AmiListResult> {
    const err = this.errors[name];
    if (err) throw new AmiError(err, msg({ Response: 'Error', Message: err }));
    return { response: msg({ Response: 'Success' }), events: [], complete: msg({ Event: `${name}Complete` }), seq: 0 };
  }
  async command(): Promise<string[]> {
    return [];
  }
}

let ami: FakeAsterisk;
let inst: PluginInstance;
let api: ReturnType<typeof client>;
const published: BusMessage[] = [];
const invalid: string[] = [];

before(async () => {
  ami = new FakeAsterisk();
  const config = parseConfig(
    JSON.stringify({ ami: { username: 'u', secret: 's' }, recordings: { dir: '/rec', format: 'gsm' } }),
    '/tmp/gateway.yaml',
    ['core'],
  );
  ({ api, inst } = await pluginApp(core, {
    ami,
    config,
    published,
    invalid,
    configFiles: false,
    logError: (e) => {
      throw e;
    },
  }));
  // one channel the gateway knows
  inst.events!.Newchannel!(
    msg({
      Event: 'Newchannel',
      Uniqueid: 'u-1',
      Linkedid: 'u-1',
      Channel: 'PJSIP/1001-00000001',
      ChannelState: '6',
      ChannelStateDesc: 'Up',
    }),
  );
});

const base = '/v1/admin/core/channels/u-1';

test('CR/LF that passes the schema is refused by the AMI encoder: 400, nothing sent', async () => {
  // a channel name comes from Asterisk, not from the client: the encoder still guards it
  inst.events!.Newchannel!(msg({ Event: 'Newchannel', Uniqueid: 'u-bad', Channel: 'PJSIP/x\r\nAction: Logoff', ChannelState: '6' }));
  ami.sent = [];
  const a = await api.put('/v1/admin/core/channels/u-bad/variables/X', { value: 'y' });
  assert.equal(a.status, 400, a.text);
  assert.equal(a.body.result.code, 'invalid_field');
  assert.deepEqual(ami.sent, []);
  // (that made-up channel's own core.channel.updated event fails its schema, as it should: forget it)
  assert.deepEqual(invalid, ['core.channel.updated: channel: must not contain CR, LF or NUL characters']);
  invalid.length = 0;
  // and in client input the schemas refuse it first, also 400
  for (const [method, path, body] of [
    ['post', '/v1/admin/core/channels', { channel: 'Local/1@x', application: 'Wait', data: 'a\rb' }],
    ['post', '/v1/admin/core/channels', { channel: 'Local/1@x', application: 'Wait', variables: { A: 'x\ny' } }],
    ['post', `${base}/transfer`, { context: 'c\n', exten: '1' }],
    ['put', `${base}/variables/X`, { value: 'a\r\nb' }],
    ['post', `${base}/park`, { parking_lot: 'a\nb' }],
    ['post', '/v1/admin/core/channels', { channel: 'Local/1@x', application: 'Wait', caller_id_name: 'a\nb' }],
  ] as const) {
    const r = await (method === 'post' ? api.post(path, body) : api.put(path, body));
    assert.equal(r.status, 400, `${path}: ${r.text}`);
  }
  assert.deepEqual(ami.sent, []);
});

test('a channel the gateway does not know is 404 for every action, with no action sent', async () => {
  ami.sent = [];
  const u = '/v1/admin/core/channels/nope';
  const answers = [
    await api.post(`${u}/transfer`, { context: 'c', exten: '1' }),
    await api.post(`${u}/transfer`, { context: 'c', exten: '1', attended: true }),
    await api.post(`${u}/transfer/complete`),
    await api.post(`${u}/transfer/cancel`),
    await api.post(`${u}/park`),
    await api.post(`${u}/recording`),
    await api.put(`${u}/recording`, { paused: true }),
    await api.del(`${u}/recording`),
    await api.post(`${u}/dtmf`, { digits: '12' }),
    await api.put(`${u}/mute`, { direction: 'in', muted: true }),
    await api.get(`${u}/variables/X`),
    await api.put(`${u}/variables/X`, { value: '1' }),
  ];
  assert.deepEqual(
    answers.map((a) => a.status),
    answers.map(() => 404),
  );
  assert.ok(answers.every((a) => a.body.result.code === 'not_found'));
  assert.deepEqual(ami.sent, []);
});

test("Asterisk's refusals: channel gone 404, wrong state 409 with its message, missing target 400", async () => {
  const cases: [string, string, () => Promise<{ status: number; body: any }>, number, RegExp][] = [
    ['Getvar', 'No such channel', () => api.get(`${base}/variables/X`), 404, /gone.*No such channel/],
    [
      'Redirect',
      'Channel does not exist: PJSIP/1001-00000001',
      () => api.post(`${base}/transfer`, { context: 'c', exten: '1' }),
      404,
      /gone/,
    ],
    ['PlayDTMF', 'Channel not found', () => api.post(`${base}/dtmf`, { digits: '1' }), 404, /gone/],
    ['Park', 'Park action failed\n', () => api.post(`${base}/park`, {}), 409, /Park action failed$/],
    ['MuteAudio', 'Failed to mute', () => api.put(`${base}/mute`, { direction: 'all', muted: true }), 409, /Failed to mute/],
    [
      'Redirect',
      'Extension does not exist.',
      () => api.post(`${base}/transfer`, { context: 'c', exten: '1' }),
      400,
      /Extension does not exist/,
    ],
  ];
  for (const [action, error, call, status, message] of cases) {
    ami.errors = { [action]: error };
    const a = await call();
    assert.equal(a.status, status, `${action} "${error}": ${JSON.stringify(a.body)}`);
    assert.match(a.body.result.message, message);
    if (status === 409) assert.equal(a.body.result.code, 'conflict');
  }
  ami.errors = { ShowDialPlan: 'Did not find extension' };
  const missing = await api.post(`${base}/transfer`, { context: 'c', exten: '1' });
  assert.equal(missing.status, 400, missing.text);
  assert.match(missing.body.result.message, /no such extension: 1@c/);
  ami.errors = {};
  // attended transfer of a channel in no bridge: 409 before Asterisk is asked
  ami.sent = [];
  const at = await api.post(`${base}/transfer`, { context: 'c', exten: '1', attended: true });
  assert.equal(at.status, 409, at.text);
  // complete or cancel with no transfer under way: 409, and the call is not hung up
  for (const step of ['complete', 'cancel']) {
    const a = await api.post(`${base}/transfer/${step}`);
    assert.equal(a.status, 409, a.text);
    assert.match(a.body.result.message, /no attended transfer under way/);
  }
  assert.deepEqual(ami.sent, []);
});

test('originate: ids chosen by the gateway, headers as Asterisk takes them; outcome matched by ActionID, even when early', async () => {
  ami.sent = [];
  const a = await api.post('/v1/admin/core/channels', {
    channel: 'PJSIP/1001',
    context: 'from-internal',
    exten: '200',
    caller_id_name: 'Desk',
    caller_id_num: '100',
    variables: { A: '1', B: 'two words' },
    timeout_s: 20,
    account_code: 'acc',
  });
  assert.equal(a.status, 202, a.text);
  const { unique_id, other_unique_id } = a.body.result;
  const sent = ami.sent[0]!;
  assert.deepEqual(sent.headers, {
    Channel: 'PJSIP/1001',
    Context: 'from-internal',
    Exten: '200',
    Priority: '1',
    Application: undefined,
    Data: undefined,
    Timeout: 20000,
    CallerID: '"Desk" <100>',
    Account: 'acc',
    Variable: ['A=1', 'B=two words'],
    Async: 'true',
    ChannelId: unique_id,
    OtherChannelId: other_unique_id,
  });
  assert.ok(!unique_id.startsWith(other_unique_id) && !other_unique_id.startsWith(unique_id));
  // someone else's OriginateResponse is not ours
  inst.events!.OriginateResponse!(msg({ Event: 'OriginateResponse', ActionID: 'other', Response: 'Failure', Reason: '5' }));
  inst.events!.OriginateResponse!(
    msg({ Event: 'OriginateResponse', ActionID: sent.id, Response: 'Failure', Reason: '5', Uniqueid: '<unknown>' }),
  );
  await new Promise((r) => setImmediate(r));
  const failed = published.filter((m) => m.type === 'core.originate.failed');
  assert.equal(failed.length, 1);
  assert.deepEqual(failed[0]!.data, {
    unique_id,
    other_unique_id,
    channel: 'PJSIP/1001',
    outcome: 'failed',
    reason: 'busy',
    reason_code: 5,
    message: 'busy',
  });
  // an outcome that arrives before the Originate's own answer
  ami.early = (id) => inst.events!.OriginateResponse!(msg({ Event: 'OriginateResponse', ActionID: id, Response: 'Success', Reason: '4' }));
  const b = await api.post('/v1/admin/core/channels', { channel: 'PJSIP/1002', application: 'Playback', data: 'hello' });
  ami.early = undefined;
  assert.equal(b.status, 202, b.text);
  await new Promise((r) => setImmediate(r));
  const answered = published.filter((m) => m.type === 'core.originate.answered');
  assert.deepEqual(
    answered.map((m) => [(m.data as any).unique_id, (m.data as any).reason]),
    [[b.body.result.unique_id, 'answered']],
  );
  assert.deepEqual(invalid, []);
});

test('originate input: exactly one of context/exten and application; no commas in a variable; no quotes in caller id', async () => {
  for (const body of [
    { channel: 'PJSIP/1' },
    { channel: 'PJSIP/1', context: 'c', exten: '1', application: 'Wait' },
    { channel: 'PJSIP/1', context: 'c' },
    { channel: 'PJSIP/1', context: 'c', exten: '1', data: 'x' },
    { channel: 'PJSIP/1', application: 'Wait', variables: { A: 'x,y' } },
    { channel: 'PJSIP/1', application: 'Wait', variables: { 'A B': 'x' } },
    { channel: 'PJSIP/1', application: 'Wait', caller_id_name: 'a"b' },
    { channel: 'PJSIP/1', application: 'Wait', timeout_s: 0 },
  ]) {
    const a = await api.post('/v1/admin/core/channels', body);
    assert.equal(a.status, 400, `${JSON.stringify(body)}: ${a.text}`);
  }
});

test("recording: the file is the gateway's (recordings.dir and format), state follows the actions", async () => {
  ami.sent = [];
  const a = await api.post(`${base}/recording`, {});
  assert.equal(a.status, 200, a.text);
  const rec = a.body.result;
  assert.match(rec.file, /^\/rec\/u-1-\d{8}T\d{6}\.gsm$/);
  assert.equal(rec.state, 'recording');
  assert.deepEqual(ami.sent[0]!.headers, { Channel: 'PJSIP/1001-00000001', File: rec.file });
  assert.equal((await api.post(`${base}/recording`, {})).status, 409);
  assert.equal((await api.post(`${base}/recording`, { format: '../x' })).status, 400);
  assert.equal((await api.put(base + '/recording', { paused: true })).body.result.state, 'paused');
  assert.equal((await api.get(base)).body.result.recording.state, 'paused');
  assert.deepEqual(ami.sent.at(-1)!.headers, { Channel: 'PJSIP/1001-00000001', Direction: 'both', State: '1' });
  assert.equal((await api.del(`${base}/recording`)).body.result.state, 'stopped');
  assert.equal(ami.sent.at(-1)!.name, 'StopMixMonitor');
  assert.equal((await api.put(`${base}/recording`, { paused: false })).status, 409);
  assert.deepEqual(invalid, []);
});

test("attended transfer: Atxfer on a bridged channel; Asterisk's AttendedTransfer result is published; complete needs one under way", async () => {
  inst.events!.BridgeEnter!(msg({ Event: 'BridgeEnter', Uniqueid: 'u-1', BridgeUniqueid: 'br-1' }));
  ami.sent = [];
  const a = await api.post(`${base}/transfer`, { context: 'ctx', exten: '300', attended: true });
  assert.equal(a.status, 200, a.text);
  assert.deepEqual(ami.sent[0]!.headers, { Channel: 'PJSIP/1001-00000001', Context: 'ctx', Exten: '300' });
  assert.equal((await api.post(`${base}/transfer`, { context: 'ctx', exten: '300', attended: true })).status, 409, 'one at a time');
  // someone else's transfer is not published
  inst.events!.AttendedTransfer!(msg({ Event: 'AttendedTransfer', OrigTransfererUniqueid: 'other', Result: 'Success' }));
  inst.events!.AttendedTransfer!(msg({ Event: 'AttendedTransfer', OrigTransfererUniqueid: 'u-1', Result: 'Fail' }));
  const progress = published.filter((m) => m.type === 'core.transfer.progress').map((m) => m.data as any);
  assert.deepEqual(
    progress.map((p) => [p.unique_id, p.state]),
    [
      ['u-1', 'started'],
      ['u-1', 'failed'],
    ],
  );
  assert.equal(progress[1].message, 'Asterisk: Fail');
  // that transfer is over: complete is 409 and sends nothing (it would hang the call up)
  ami.sent = [];
  assert.equal((await api.post(`${base}/transfer/complete`)).status, 409);
  assert.deepEqual(ami.sent, []);
  // start again, then cancel: CancelAtxfer, published as cancelled with the target
  assert.equal((await api.post(`${base}/transfer`, { context: 'ctx', exten: '301', attended: true })).status, 200);
  const c = await api.post(`${base}/transfer/cancel`);
  assert.equal(c.status, 200, c.text);
  assert.equal((ami.sent as FakeAsterisk['sent']).at(-1)!.name, 'CancelAtxfer');
  const last = published.filter((m) => m.type === 'core.transfer.progress').at(-1)!.data as any;
  assert.deepEqual([last.state, last.context, last.exten], ['cancelled', 'ctx', '301']);
  assert.deepEqual(invalid, []);
});
