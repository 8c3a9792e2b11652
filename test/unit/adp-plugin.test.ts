// The dialplan plugin's async dialplans wired as the gateway wires them (plugins/dialplan/index.ts), with a real store
// and a small fake Asterisk that behaves like res_agi: AGI actions queue per channel and run in order, each answered
// by AsyncAGIExec (CommandId, url-encoded Result); ASYNCAGI BREAK ends with AsyncAGIEnd. Covers the CRUD routes and
// their bad input, and the runs: order, SUCCESS / FAILED / NOTFOUND / HANGUP, the ADPMA variable, AMI loss and resync.
// Every answer is checked against the OpenAPI document the routes generate, every event against its declared schema.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AmiError, AmiNotConnectedError } from '../../core/ami/errors.ts';
import type { AmiMessage } from '../../core/ami/message.ts';
import type { AmiHeaders, AmiListResult, AmiPort } from '../../core/ami/port.ts';
import type { BusMessage } from '../../core/bus/bus.ts';
import type { GatewayConfig } from '../../core/config.ts';
import { testLogger } from '../support/log.ts';
import type { PluginInstance } from '../../core/plugins/contract.ts';
import { Store } from '../../core/store/store.ts';
import dialplan from '../../plugins/dialplan/index.ts';
import { pluginApp } from '../support/app.ts';
import { type client, eventually } from '../support/http.ts';

const msg = (fields: Record<string, string>): AmiMessage => ({ fields });
const enc = (s: string) => encodeURIComponent(s);

interface FakeChannel {
  uid: string;
  name: string;
  vars: Map<string, string>;
  inAgi: boolean;
  /** commands waiting to run, as res_agi's queue */
  queue: { cmd: string; id: string }[];
  /** a command that never answers until the channel hangs up (EXEC Wait) */
  blocked: { cmd: string; id: string } | null;
  args: string[];
  /** what `core show channels concise` shows: AGI, or (as Asterisk 22 does) the last application an EXEC ran */
  app: [string, string];
  /** hanging up: AGI actions on it answer Error, after a round trip (see hangup's endLater) */
  leaving?: boolean;
}

/** Enough of Asterisk for AsyncAGI: channels in AGI(agi:async,...), the AGI / Getvar / Command actions. */
class FakeAsterisk implements AmiPort {
  connected = true;
  readonly channels = new Map<string, FakeChannel>();
  /** every AGI action: [channel unique id, Command] */
  readonly agi: [string, string][] = [];
  emit: (m: AmiMessage) => void = () => {};
  /** make the next AGI action fail like this */
  failNext: Error | null = null;

  async action(name: string, h: AmiHeaders = {}): Promise<AmiMessage> {
    if (!this.connected) throw new AmiNotConnectedError();
    const ch = [...this.channels.values()].find((c) => c.name === h.Channel);
    if (name === 'Getvar') {
      if (!ch) throw new AmiError(`Channel ${h.Channel} does not exist.`, msg({ Response: 'Error' }));
      return msg({ Response: 'Success', Variable: String(h.Variable), Value: ch.vars.get(String(h.Variable)) ?? '' });
    }
    if (name !== 'AGI') throw new Error(`unexpected action ${name}`);
    if (this.failNext) {
      const e = this.failNext;
      this.failNext = null;
      throw e;
    }
    if (!ch) throw new AmiError(`Channel ${h.Channel} does not exist.`, msg({ Response: 'Error' }));
    if (ch.leaving) {
      await new Promise((r) => setTimeout(r, 20));
      throw new AmiError(`Channel ${h.Channel} does not exist.`, msg({ Response: 'Error' }));
    }
    this.agi.push([ch.uid, String(h.Command)]);
    ch.queue.push({ cmd: String(h.Command), id: String(h.CommandID) });
    setImmediate(() => this.runQueue(ch));
    return msg({ Response: 'Success', Message: 'Added AGI command to queue' });
  }
  async list(): Promise<AmiListResult> {
    throw new Error('the dialplan plugin must not use list actions (they would drop held AsyncAGIStart events)');
  }
  async command(cmd: string): Promise<string[]> {
    assert.equal(cmd, 'core show channels concise');
    return [...this.channels.values()].map((c) => `${c.name}!gw!1!2!Up!${c.app[0]}!${c.app[1]}!!!!3!0!!${c.uid}`);
  }

  private block(c: FakeChannel): Record<string, string> {
    return { Channel: c.name, Uniqueid: c.uid, Linkedid: c.uid, Context: 'gw', Exten: '1', Priority: '2' };
  }

  /** A channel enters AGI(agi:async,<args>); announce = send AsyncAGIStart (false: it happened while AMI was away). */
  call(uid: string, args: string[], opts: { announce?: boolean; vars?: Record<string, string> } = {}): FakeChannel {
    const c: FakeChannel = {
      uid,
      name: `Local/1@gw-0000${uid};2`,
      vars: new Map(Object.entries(opts.vars ?? {})),
      inAgi: true,
      queue: [],
      blocked: null,
      args,
      app: ['AGI', ['agi:async', ...args].join(',')],
    };
    this.channels.set(uid, c);
    const env = [
      'agi_request: async',
      `agi_channel: ${c.name}`,
      `agi_uniqueid: ${uid}`,
      ...args.map((a, i) => `agi_arg_${i + 1}: ${a}`),
      '',
      '',
    ].join('\n');
    if (opts.announce !== false) this.emit(msg({ Event: 'AsyncAGIStart', ...this.block(c), Env: enc(env) }));
    return c;
  }

  /**
   * The channel hangs up. endLater: AsyncAGIEnd and Hangup come in a later read than the blocked command's
   * AsyncAGIExec (as they may from a real Asterisk), and an AGI action sent in between answers Error only after them.
   */
  hangup(uid: string, opts: { endLater?: boolean } = {}): void {
    const c = this.channels.get(uid)!;
    if (c.blocked) this.emit(msg({ Event: 'AsyncAGIExec', ...this.block(c), Result: enc('200 result=-1\n'), CommandId: c.blocked.id }));
    const end = () => {
      if (c.inAgi) this.emit(msg({ Event: 'AsyncAGIEnd', ...this.block(c) }));
      this.emit(msg({ Event: 'Hangup', ...this.block(c), Cause: '16' }));
      this.channels.delete(uid);
    };
    if (!opts.endLater) {
      end();
      return;
    }
    c.leaving = true;
    setTimeout(end, 5);
  }

  /** The blocked command (EXEC Wait) finishes; announce = send its AsyncAGIExec (false: while AMI was away). */
  unblock(uid: string, announce = true): void {
    const c = this.channels.get(uid)!;
    const b = c.blocked;
    assert.ok(b, `${uid} runs no blocking command`);
    c.blocked = null;
    if (announce) this.emit(msg({ Event: 'AsyncAGIExec', ...this.block(c), Result: enc('200 result=0\n'), CommandId: b.id }));
    this.runQueue(c);
  }

  private runQueue(c: FakeChannel): void {
    while (c.inAgi && !c.blocked && c.queue.length) {
      const { cmd, id } = c.queue.shift()!;
      const reply = this.exec(c, cmd);
      if (reply === null) {
        c.blocked = { cmd, id };
        return;
      }
      this.emit(msg({ Event: 'AsyncAGIExec', ...this.block(c), Result: enc(`${reply}\n`), CommandId: id }));
      if (/^asyncagi break$/i.test(cmd)) {
        c.inAgi = false;
        c.app = ['Wait', '600'];
        c.queue.length = 0;
        this.emit(msg({ Event: 'AsyncAGIEnd', ...this.block(c) }));
      }
    }
  }

  private exec(c: FakeChannel, cmd: string): string | null {
    let m: RegExpExecArray | null;
    if ((m = /^exec (\w+) ?(.*)$/i.exec(cmd))) c.app = [m[1]!, m[2]!];
    if ((m = /^exec set "?([A-Za-z_]+)=(.*?)"?$/i.exec(cmd))) {
      c.vars.set(m[1]!, m[2]!);
      return '200 result=0';
    }
    if ((m = /^set variable (\S+) (.*)$/i.exec(cmd))) {
      c.vars.set(m[1]!, m[2]!);
      return '200 result=1';
    }
    if (/^exec wait /i.test(cmd)) return null;
    if (/^exec nosuchapp/i.test(cmd)) return '200 result=-2';
    if (/^(asyncagi break|noop|answer|exec \w+)/i.test(cmd)) return '200 result=0';
    return '510 Invalid or unknown command';
  }
}

let dir: string;
let ami: FakeAsterisk;
let inst: PluginInstance;
let api: ReturnType<typeof client>;
let store: Store;
let live: { reason: string; connected: boolean } | null = null;
const published: BusMessage[] = [];
/** Events whose payload did not match their declared schema. */
const invalid: string[] = [];
const _log = testLogger('test');

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'gw-adp-'));
  writeFileSync(path.join(dir, 'extensions.conf'), '[general]\nstatic=yes\n');
  ami = new FakeAsterisk();
  const config = { asterisk: { config_dir: dir }, data_dir: path.join(dir, 'data'), backups: { retention: 5 } } as GatewayConfig;
  store = await Store.open(path.join(dir, 'data'));
  ({ api, inst } = await pluginApp(dialplan, {
    ami,
    config,
    published,
    invalid,
    store,
    tokens: { tok: { userUuid: 'u1', roles: new Set(['admin']) }, usr: { userUuid: 'u2', roles: new Set(['user']) } },
    liveness: () => live,
  }));
  ami.emit = (m) => inst.events![m.fields.Event!]?.(m);
});
after(async () => {
  await inst.close?.();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  published.length = 0;
  ami.agi.length = 0;
});

const ok = async (p: Promise<{ status: number; text: string; body: any }>) => {
  const a = await p;
  assert.equal(a.status, 200, a.text);
  return a.body.result;
};
const refused = async (p: Promise<{ status: number; text: string; body: any }>, status: number, re: RegExp) => {
  const a = await p;
  assert.equal(a.status, status, a.text);
  assert.equal(a.body.statuscode, status);
  assert.match(a.body.result.message, re);
};

async function adpma(name: string, commands: (string | null)[]): Promise<string> {
  const m = await ok(api.post('/v1/admin/dialplan/adpmas', { name }));
  for (const [i, command] of commands.entries()) {
    await ok(api.post('/v1/admin/dialplan/adps', { dpma_uuid: m.uuid, sequence: (i + 1) * 10, name: `step ${i + 1}`, command }));
  }
  return m.uuid;
}

const sessionEnded = (uid: string) =>
  eventually(
    () => published.find((m) => m.type === 'dialplan.adp_session.ended' && (m.data as any).unique_id === uid)?.data as any,
    3000,
    `session ${uid} ended`,
  );
const sent = (uid: string) => ami.agi.filter(([u]) => u === uid).map(([, c]) => c);

// ---------------------------------------------------------------------------------------------------------------
// CRUD

test('adpmas: create, list, detail, update, delete with the spec fields', async () => {
  const created = await ok(api.post('/v1/admin/dialplan/adpmas', { name: 'test dpma', detail: 'test dpma dpma' }));
  assert.deepEqual(Object.keys(created).sort(), ['detail', 'name', 'tm_create', 'tm_update', 'uuid']);
  assert.match(created.uuid, /^[0-9a-f-]{36}$/);
  assert.equal(created.detail, 'test dpma dpma');
  const list = await ok(api.get('/v1/admin/dialplan/adpmas'));
  assert.ok(list.list.some((m: any) => m.uuid === created.uuid && m.name === 'test dpma'));
  assert.deepEqual(await ok(api.get(`/admin/dialplan/adpmas/${created.uuid}`)), created, 'also without /v1');
  // the spec's PUT: one field; the uuid may be repeated in the body
  const upd = await ok(api.put(`/v1/admin/dialplan/adpmas/${created.uuid}`, { name: 'test change name', uuid: created.uuid }));
  assert.equal(upd.name, 'test change name');
  assert.equal(upd.detail, 'test dpma dpma', 'untouched');
  assert.ok(upd.tm_update >= created.tm_update);
  const cleared = await ok(api.put(`/v1/admin/dialplan/adpmas/${created.uuid}`, { detail: null }));
  assert.equal(cleared.detail, null);
  const del = await api.del(`/v1/admin/dialplan/adpmas/${created.uuid}`);
  assert.equal(del.status, 200);
  assert.equal(del.body.result, undefined, 'a plain acknowledgement, as in the spec');
  await refused(api.get(`/v1/admin/dialplan/adpmas/${created.uuid}`), 404, /no adpma with uuid/);
});

test('adpmas: bad input is 400, a taken name 409, unknown uuids 404', async () => {
  const m = await ok(api.post('/v1/admin/dialplan/adpmas', { name: 'unique-one' }));
  assert.equal(m.detail, null);
  await refused(api.post('/v1/admin/dialplan/adpmas', { name: 'unique-one' }), 409, /exists already/);
  await refused(api.post('/v1/admin/dialplan/adpmas', { detail: 'x' }), 400, /name: is required/);
  await refused(api.post('/v1/admin/dialplan/adpmas', { name: 'a\r\nb' }), 400, /CR, LF/);
  await refused(api.post('/v1/admin/dialplan/adpmas', { name: 'x', detail: 'one\ntwo' }), 400, /detail: must not contain CR, LF/);
  await refused(api.post('/v1/admin/dialplan/adpmas', { name: 'a,b' }), 400, /name: 1-80/);
  await refused(api.post('/v1/admin/dialplan/adpmas', { name: ' padded' }), 400, /name: 1-80/);
  await refused(api.post('/v1/admin/dialplan/adpmas', { name: 'x(y)' }), 400, /name: 1-80/);
  await refused(api.post('/v1/admin/dialplan/adpmas', { name: '' }), 400, /name: 1-80/);
  await refused(api.post('/v1/admin/dialplan/adpmas', { name: 'n'.repeat(81) }), 400, /name: 1-80/);
  await refused(api.post('/v1/admin/dialplan/adpmas', { name: '1d47735d-2265-463c-908a-d37dea085c21' }), 400, /look like a uuid/);
  await refused(api.post('/v1/admin/dialplan/adpmas', { name: 7 }), 400, /name: must be a string/);
  await refused(api.post('/v1/admin/dialplan/adpmas', { name: 'x', colour: 'red' }), 400, /colour: unknown field/);
  await refused(api.post('/v1/admin/dialplan/adpmas', '{"name": '), 400, /malformed JSON/);
  await refused(api.post('/v1/admin/dialplan/adpmas', '[1]'), 400, /must be a JSON object/);
  await refused(api.post('/v1/admin/dialplan/adpmas'), 400, /body is empty/);
  await refused(api.put(`/v1/admin/dialplan/adpmas/${m.uuid}`, { uuid: 'other' }), 400, /uuid: does not match/);
  await refused(api.put(`/v1/admin/dialplan/adpmas/${m.uuid}`, { name: null }), 400, /name: must be a string/);
  await refused(api.put('/v1/admin/dialplan/adpmas/nope', { name: 'z' }), 404, /no adpma with uuid nope/);
  await refused(api.del('/v1/admin/dialplan/adpmas/nope'), 404, /no adpma/);
  await refused(api.get('/v1/admin/dialplan/adpmas/a%0D%0Ab'), 400, /CR, LF/);
  const other = await ok(api.post('/v1/admin/dialplan/adpmas', { name: 'unique-two' }));
  await refused(api.put(`/v1/admin/dialplan/adpmas/${other.uuid}`, { name: 'unique-one' }), 409, /exists already/);
  await ok(api.put(`/v1/admin/dialplan/adpmas/${other.uuid}`, { name: 'unique-two' })); // its own name is fine
  // roles and tokens
  api.setToken(undefined);
  assert.equal((await api.get('/v1/admin/dialplan/adpmas')).status, 401);
  api.setToken('usr');
  assert.equal((await api.post('/v1/admin/dialplan/adpmas', { name: 'mine' })).status, 403);
  api.setToken('tok');
});

test('concurrent creates of one name: exactly one wins', async () => {
  const answers = await Promise.all(Array.from({ length: 5 }, () => api.post('/v1/admin/dialplan/adpmas', { name: 'race' })));
  assert.deepEqual(answers.map((a) => a.status).sort(), [200, 409, 409, 409, 409]);
});

test('adps: the spec fields, default sequence, run-order list per adpma, move, clear, delete', async () => {
  const a = await ok(api.post('/v1/admin/dialplan/adpmas', { name: 'crud-a' }));
  const b = await ok(api.post('/v1/admin/dialplan/adpmas', { name: 'crud-b' }));
  // the spec's example: no command, no detail
  const first = await ok(api.post('/v1/admin/dialplan/adps', { name: 'test_dialplan_1', dpma_uuid: a.uuid, sequence: 10 }));
  assert.deepEqual(Object.keys(first).sort(), ['command', 'detail', 'dpma_uuid', 'name', 'sequence', 'tm_create', 'tm_update', 'uuid']);
  assert.equal(first.command, null);
  assert.equal(first.detail, null);
  assert.equal(first.sequence, 10);
  const early = await ok(api.post('/v1/admin/dialplan/adps', { dpma_uuid: a.uuid, sequence: 5, command: 'Playback(hello-world)' }));
  assert.equal(early.name, null);
  const next = await ok(api.post('/v1/admin/dialplan/adps', { dpma_uuid: a.uuid, command: 'exec Set X=1' }));
  assert.equal(next.sequence, 11, 'no sequence: after the last');
  assert.equal(
    (await ok(api.post('/v1/admin/dialplan/adps', { dpma_uuid: b.uuid, command: 'NOOP' }))).sequence,
    1,
    'the first of an empty adpma',
  );
  const inA = (await ok(api.get(`/v1/admin/dialplan/adps?dpma_uuid=${a.uuid}`))).list;
  assert.deepEqual(
    inA.map((x: any) => x.uuid),
    [early.uuid, first.uuid, next.uuid],
    'in sequence order',
  );
  const all = (await ok(api.get('/v1/admin/dialplan/adps'))).list;
  assert.ok(all.length >= 4);
  assert.deepEqual(await ok(api.get(`/v1/admin/dialplan/adps/${first.uuid}`)), first);
  // the spec's PUT repeats uuid and dpma_uuid
  const upd = await ok(
    api.put(`/v1/admin/dialplan/adps/${first.uuid}`, {
      uuid: first.uuid,
      dpma_uuid: a.uuid,
      sequence: 20,
      command: 'SET VARIABLE GW_DONE yes',
      detail: 'd',
    }),
  );
  assert.equal(upd.sequence, 20);
  assert.equal(upd.command, 'SET VARIABLE GW_DONE yes');
  const moved = await ok(api.put(`/v1/admin/dialplan/adps/${first.uuid}`, { dpma_uuid: b.uuid }));
  assert.equal(moved.dpma_uuid, b.uuid);
  assert.equal(moved.command, 'SET VARIABLE GW_DONE yes', 'the rest kept');
  const cleared = await ok(api.put(`/v1/admin/dialplan/adps/${first.uuid}`, { command: null, detail: null, name: null }));
  assert.deepEqual([cleared.command, cleared.detail, cleared.name], [null, null, null]);
  await ok(api.del(`/v1/admin/dialplan/adps/${first.uuid}`));
  await refused(api.get(`/v1/admin/dialplan/adps/${first.uuid}`), 404, /no adp with uuid/);
  // deleting an adpma deletes its adps
  await ok(api.del(`/v1/admin/dialplan/adpmas/${a.uuid}`));
  for (const x of [early, next]) await refused(api.get(`/v1/admin/dialplan/adps/${x.uuid}`), 404, /no adp/);
  await refused(api.get(`/v1/admin/dialplan/adps?dpma_uuid=${a.uuid}`), 404, /no adpma/);
  assert.equal((await ok(api.get(`/v1/admin/dialplan/adps?dpma_uuid=${b.uuid}`))).list.length, 1);
});

test('adps: bad input is 400, unknown adpma 404, a taken sequence 409', async () => {
  const m = await ok(api.post('/v1/admin/dialplan/adpmas', { name: 'bad-adps' }));
  const x = await ok(api.post('/v1/admin/dialplan/adps', { dpma_uuid: m.uuid, sequence: 1, command: 'NOOP' }));
  const post = (b: unknown) => api.post('/v1/admin/dialplan/adps', b);
  await refused(post({ sequence: 1 }), 400, /dpma_uuid: is required/);
  await refused(post({ dpma_uuid: 'f00' }), 404, /dpma_uuid: no adpma with uuid f00/);
  await refused(post({ dpma_uuid: m.uuid, sequence: 1 }), 409, /sequence 1 is taken/);
  await refused(post({ dpma_uuid: m.uuid, sequence: -1 }), 400, /sequence: must be an integer from 0/);
  await refused(post({ dpma_uuid: m.uuid, sequence: 1.5 }), 400, /sequence: must be an integer/);
  await refused(post({ dpma_uuid: m.uuid, sequence: '2' }), 400, /sequence: must be an integer/);
  await refused(post({ dpma_uuid: m.uuid, command: 'EXEC NoOp x\r\nAction: Originate' }), 400, /command: must not contain CR, LF/);
  await refused(post({ dpma_uuid: m.uuid, command: 'FOO BAR' }), 400, /command: "FOO BAR" is not an AGI command/);
  await refused(post({ dpma_uuid: m.uuid, command: 'ASYNCAGI BREAK' }), 400, /command: ASYNCAGI BREAK is sent by the gateway/);
  await refused(post({ dpma_uuid: m.uuid, command: '' }), 400, /command: is empty/);
  await refused(post({ dpma_uuid: m.uuid, command: 42 }), 400, /command: must be a string/);
  await refused(post({ dpma_uuid: m.uuid, name: 'a\nb' }), 400, /name: must not contain/);
  await refused(post({ dpma_uuid: m.uuid, detail: 'x'.repeat(1025) }), 400, /detail: must be at most 1024/);
  await refused(post({ dpma_uuid: m.uuid, priority: 1 }), 400, /priority: unknown field/);
  await refused(api.put(`/v1/admin/dialplan/adps/${x.uuid}`, { dpma_uuid: 'gone' }), 404, /dpma_uuid: no adpma/);
  await refused(api.put(`/v1/admin/dialplan/adps/${x.uuid}`, { sequence: null }), 400, /sequence: must be an integer/);
  await refused(api.put(`/v1/admin/dialplan/adps/${x.uuid}`, { uuid: m.uuid }), 400, /uuid: does not match/);
  await refused(api.put(`/v1/admin/dialplan/adps/${x.uuid}`, { command: 'exec' }), 400, /EXEC needs an application/);
  await refused(api.put('/v1/admin/dialplan/adps/nope', { command: 'NOOP' }), 404, /no adp with uuid nope/);
  await refused(api.del('/v1/admin/dialplan/adps/nope'), 404, /no adp/);
  const y = await ok(post({ dpma_uuid: m.uuid, sequence: 2 }));
  await refused(api.put(`/v1/admin/dialplan/adps/${y.uuid}`, { sequence: 1 }), 409, /sequence 1 is taken/);
  await ok(api.put(`/v1/admin/dialplan/adps/${y.uuid}`, { sequence: 2 })); // its own sequence is fine
  assert.equal((await ok(api.get(`/v1/admin/dialplan/adps/${x.uuid}`))).command, 'NOOP', 'nothing changed by the refusals');
});

test('adpmas and adps are in the store file: a reopened store has them', async () => {
  const m = await ok(api.post('/v1/admin/dialplan/adpmas', { name: 'persisted' }));
  await ok(api.post('/v1/admin/dialplan/adps', { dpma_uuid: m.uuid, command: 'NOOP' }));
  const again = await Store.open(path.join(dir, 'data'));
  assert.equal(again.collection('adpmas').get(m.uuid)?.uuid, m.uuid);
  assert.equal(again.collection<any>('adps').filter((r) => r.dpma_uuid === m.uuid).length, 1);
});

test('the config routes of extensions.conf are still served', async () => {
  const a = await api.get('/v1/admin/dialplan/configurations/extensions.conf');
  assert.equal(a.status, 200, a.text);
  assert.match(JSON.stringify(a.body.result), /static=yes/);
});

// ---------------------------------------------------------------------------------------------------------------
// Runs

test("a call runs its adpma's adps in sequence order, one at a time, then ADPSTATUS=SUCCESS and ASYNCAGI BREAK", async () => {
  const uuid = await adpma('order', ['exec Set GW_STEP=1', null, 'Set(GW_STEP=2)', 'SET VARIABLE GW_DONE yes']);
  // written out of order: sequence decides
  await ok(api.post('/v1/admin/dialplan/adps', { dpma_uuid: uuid, sequence: 1, command: 'EXEC Set GW_FIRST=1' }));
  const c = ami.call('u-order', ['order', 'ignored']);
  const ended = await sessionEnded('u-order');
  assert.deepEqual(sent('u-order'), [
    'EXEC Set GW_FIRST=1',
    'exec Set GW_STEP=1',
    'EXEC Set GW_STEP=2',
    'SET VARIABLE GW_DONE yes',
    'SET VARIABLE ADPSTATUS SUCCESS',
    'ASYNCAGI BREAK',
  ]);
  assert.equal(c.vars.get('GW_STEP'), '2');
  assert.equal(c.vars.get('ADPSTATUS'), 'SUCCESS');
  assert.equal(c.inAgi, false, 'the call went on');
  assert.equal(ended.outcome, 'SUCCESS');
  assert.equal(ended.adpma, 'order');
  assert.equal(ended.adpma_uuid, uuid);
  assert.deepEqual(
    ended.adps.map((s: any) => [s.sequence, s.status, s.result]),
    [
      [1, 'done', '200 result=0'],
      [10, 'done', '200 result=0'],
      [30, 'done', '200 result=0'],
      [40, 'done', '200 result=1'],
    ],
  );
  assert.ok(ended.adps.every((s: any) => s.command_id && s.tm_exec));
  assert.deepEqual(
    published.filter((m) => (m.data as any).unique_id === 'u-order').map((m) => m.type),
    ['dialplan.adp_session.started', ...Array(4).fill('dialplan.adp_session.updated'), 'dialplan.adp_session.ended'],
  );
  assert.equal((await api.get('/v1/admin/dialplan/adp_sessions/u-order')).status, 404, 'gone once AGI ended');
});

test('the adpma may be named by uuid; without an argument the ADPMA channel variable names it', async () => {
  const uuid = await adpma('by-var', ['SET VARIABLE WHO var']);
  const byUuid = ami.call('u-uuid', [uuid]);
  assert.equal((await sessionEnded('u-uuid')).outcome, 'SUCCESS');
  assert.equal(byUuid.vars.get('WHO'), 'var');
  const byVar = ami.call('u-var', [], { vars: { ADPMA: 'by-var' } });
  const ended = await sessionEnded('u-var');
  assert.equal(ended.outcome, 'SUCCESS');
  assert.equal(ended.adpma, 'by-var');
  assert.equal(byVar.vars.get('WHO'), 'var');
});

test('no such adpma: ADPSTATUS=NOTFOUND and the call goes on', async () => {
  const c = ami.call('u-nf', ['no-such-thing']);
  const ended = await sessionEnded('u-nf');
  assert.equal(ended.outcome, 'NOTFOUND');
  assert.deepEqual(sent('u-nf'), ['SET VARIABLE ADPSTATUS NOTFOUND', 'ASYNCAGI BREAK']);
  assert.equal(c.inAgi, false);
  const none = ami.call('u-none', []);
  assert.equal((await sessionEnded('u-none')).outcome, 'NOTFOUND');
  assert.equal(none.vars.get('ADPSTATUS'), 'NOTFOUND');
});

test('a failing adp stops the run: ADPSTATUS=FAILED, the rest skipped', async () => {
  await adpma('fails', ['EXEC Set A=1', 'EXEC NoSuchApp x', 'EXEC Set B=1']);
  const c = ami.call('u-fail', ['fails']);
  const ended = await sessionEnded('u-fail');
  assert.equal(ended.outcome, 'FAILED');
  assert.deepEqual(
    ended.adps.map((s: any) => s.status),
    ['done', 'failed', 'skipped'],
  );
  assert.equal(ended.adps[1].result, '200 result=-2');
  assert.deepEqual(sent('u-fail'), ['EXEC Set A=1', 'EXEC NoSuchApp x', 'SET VARIABLE ADPSTATUS FAILED', 'ASYNCAGI BREAK']);
  assert.equal(c.vars.get('B'), undefined);
});

test('a hangup during a command ends the session (HANGUP); nothing more is sent', async () => {
  await adpma('long', ['EXEC Set A=1', 'EXEC Wait 600', 'EXEC Set B=1']);
  ami.call('u-hup', ['long']);
  await eventually(
    async () => (await api.get('/v1/admin/dialplan/adp_sessions/u-hup')).body.result?.adps?.[1]?.status === 'running',
    3000,
    'second step running',
  );
  const s = await ok(api.get('/v1/admin/dialplan/adp_sessions/u-hup'));
  assert.equal(s.status, 'running');
  assert.equal(s.adpma_name, 'long');
  assert.ok((await ok(api.get('/v1/admin/dialplan/adp_sessions'))).list.some((x: any) => x.unique_id === 'u-hup'));
  ami.hangup('u-hup');
  const ended = await sessionEnded('u-hup');
  assert.equal(ended.outcome, 'HANGUP');
  assert.deepEqual(
    ended.adps.map((x: any) => [x.status, x.result]),
    [
      ['done', '200 result=0'],
      ['failed', '200 result=-1'],
      ['skipped', null],
    ],
  );
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(sent('u-hup'), ['EXEC Set A=1', 'EXEC Wait 600'], 'nothing queued on a channel that is gone');
});

test('a hangup whose AsyncAGIEnd comes after the failed command was seen is still HANGUP, not FAILED', async () => {
  await adpma('late', ['EXEC Wait 600', 'EXEC Set B=1']);
  ami.call('u-late', ['late']);
  await eventually(() => Boolean(ami.channels.get('u-late')?.blocked), 3000, 'EXEC Wait running in the fake Asterisk');
  // the gateway sees result=-1, starts letting the call go (FAILED), and only then AsyncAGIEnd arrives
  ami.hangup('u-late', { endLater: true });
  const ended = await sessionEnded('u-late');
  assert.equal(ended.outcome, 'HANGUP');
  assert.deepEqual(
    ended.adps.map((x: any) => x.status),
    ['failed', 'skipped'],
  );
});

test('the channel vanishes between two commands (AGI action answers Error): the session ends', async () => {
  await adpma('vanish', ['NOOP', 'NOOP']);
  ami.failNext = new AmiError('Channel Local/x does not exist.', msg({ Response: 'Error' }));
  ami.call('u-gone', ['vanish']);
  const ended = await sessionEnded('u-gone');
  assert.equal(ended.outcome, 'HANGUP');
});

test('adps edited during a run do not change it; a repeated AsyncAGIStart is ignored', async () => {
  const uuid = await adpma('snapshot', ['EXEC Wait 600', 'EXEC Set S=old']);
  const c = ami.call('u-snap', ['snapshot']);
  await eventually(() => c.blocked !== null, 3000, 'first command running');
  const steps = (await ok(api.get(`/v1/admin/dialplan/adps?dpma_uuid=${uuid}`))).list;
  await ok(api.put(`/v1/admin/dialplan/adps/${steps[1].uuid}`, { command: 'EXEC Set S=new' }));
  inst.events!.AsyncAGIStart!(msg({ Event: 'AsyncAGIStart', Channel: c.name, Uniqueid: c.uid, Env: enc('agi_arg_1: snapshot\n\n') }));
  ami.unblock('u-snap');
  const ended = await sessionEnded('u-snap');
  assert.equal(ended.outcome, 'SUCCESS');
  assert.equal(c.vars.get('S'), 'old');
  assert.equal(sent('u-snap').filter((x) => x === 'EXEC Wait 600').length, 1, 'not started twice');
});

test('AMI lost mid-run: sessions are forgotten (503 meanwhile); after the reconnect the lost call is let go with INTERRUPTED, a call that entered AGI meanwhile is started', async () => {
  await adpma('resync', ['EXEC Wait 600', 'EXEC Set R=1']);
  const lost = ami.call('u-lost', ['resync']);
  await eventually(() => lost.blocked !== null, 3000, 'first command running');
  ami.connected = false;
  live = { reason: 'Asterisk is not connected', connected: false };
  inst.reset!();
  assert.equal((await api.get('/v1/admin/dialplan/adp_sessions')).status, 503);
  assert.equal((await api.get('/v1/admin/dialplan/adpmas')).status, 200, 'the store needs no AMI');
  // while away: the lost call's Wait ends unseen, and a new call enters AGI unseen
  ami.unblock('u-lost', false);
  const fresh = ami.call('u-fresh', ['resync'], { announce: false });
  ami.connected = true;
  live = null;
  ami.agi.length = 0;
  await inst.resync!();
  await eventually(() => lost.inAgi === false, 3000, 'lost call let go');
  assert.deepEqual(sent('u-lost'), ['SET VARIABLE ADPSTATUS INTERRUPTED', 'ASYNCAGI BREAK']);
  assert.equal(lost.vars.get('R'), undefined, 'not run again');
  // the fresh one: started from the channel list, and blocked in its Wait
  await eventually(() => fresh.blocked !== null, 3000, 'fresh call started');
  assert.deepEqual(sent('u-fresh'), ['EXEC Wait 600']);
  const s = await ok(api.get('/v1/admin/dialplan/adp_sessions/u-fresh'));
  assert.equal(s.adpma, 'resync');
  // a second resync (FullyBooted) neither restarts it nor lets the lost one go twice
  await inst.resync!();
  assert.equal(sent('u-fresh').length, 1);
  assert.equal(sent('u-lost').length, 2);
  ami.hangup('u-fresh');
  assert.equal((await sessionEnded('u-fresh')).outcome, 'HANGUP');
});

test('sessions routes: 404 for an unknown id, 400 for a line break', async () => {
  await refused(api.get('/v1/admin/dialplan/adp_sessions/none'), 404, /no async dialplan session/);
  await refused(api.get('/v1/admin/dialplan/adp_sessions/a%0Ab'), 400, /CR, LF/);
});

test('every answer above was checked against the OpenAPI document, every event against its schema', async () => {
  const checker = await api.contract();
  assert.ok(checker, 'the app serves its OpenAPI document');
  assert.ok(checker.checked > 100, `answers checked: ${checker.checked}`);
  assert.deepEqual(invalid, []);
  const doc = (await api.get('/v1/openapi.json')).body as any;
  assert.equal(doc.paths['/v1/admin/dialplan/adp_sessions/{id}'].get['x-live'], true);
  assert.equal(doc.paths['/v1/admin/dialplan/adpmas'].get['x-live'], false, 'the store needs no AMI');
  assert.deepEqual(doc.paths['/v1/admin/dialplan/adps'].post.requestBody.content['application/json'].schema.required, ['dpma_uuid']);
});
