// Async dialplans against a real Asterisk 22: adpmas and adps over HTTP, then calls handed over with
// AGI(agi:async,...) that the gateway drives with AMI AGI actions. What ran, and in which order, is read from
// Asterisk itself: the VarSet events of the channel (a separate AMI connection), AMI Getvar, and the core plugin's
// channel view. Also: the ADPMA variable, FAILED and NOTFOUND, a live session and a hangup in the middle of it, and an
// AMI connection lost mid-run. Every answer is checked against the gateway's OpenAPI document, every published
// event (dialplan.adp_session.*) against its schema.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { RawAmi } from '../asterisk/testbed.ts';
import type { BusMessage } from '../../core/bus/bus.ts';
import { AGI_COMMANDS } from '../../plugins/dialplan/agi.ts';
import { skipReason, startBed, type Bed } from '../support/bed.ts';
import { eventually } from '../support/http.ts';

const skip = skipReason() ?? false;
const T = { timeout: 120_000, skip };
let bed: Bed;
let raw: RawAmi;
const sessions: BusMessage[] = [];

/** The extension names the adpma; after AGI the call records how AGI ended and what the gateway said, then waits. */
const AGI_CONTEXT = 'gw-test-agi';
/** No AGI argument: the ADPMA channel variable names the adpma (gw-e2e). */
const AGI_VAR_CONTEXT = 'gw-test-agi-var';
const AFTER_AGI_LINES = [{ same: '> n,Set(AFTER_AGI=${AGISTATUS}/${ADPSTATUS})' }, { same: '> n,Wait(600)' }];

before(
  async () => {
    if (skip) return;
    bed = await startBed({ plugins: ['core', 'dialplan'] });
    bed.gateway.bus.subscribe((m) => {
      if (m.type.startsWith('dialplan.adp_session.')) sessions.push(m);
    });
    raw = await bed.asterisk.ami();
    // The test contexts go in through the gateway's own config route (which reloads the dialplan).
    for (const [name, data] of [
      [AGI_CONTEXT, [{ exten: '> _[a-z].,1,Answer()' }, { same: '> n,AGI(agi:async,${EXTEN})' }, ...AFTER_AGI_LINES]],
      [
        AGI_VAR_CONTEXT,
        [{ exten: '> _X!,1,Answer()' }, { same: '> n,Set(ADPMA=gw-e2e)' }, { same: '> n,AGI(agi:async)' }, ...AFTER_AGI_LINES],
      ],
    ] as const) {
      const a = await bed.api.post('/v1/admin/dialplan/sdps', { name, data });
      assert.equal(a.status, 200, a.text);
      assert.equal(a.body.result.reload.status, 'done', a.text);
    }
    assert.match(await bed.asterisk.cli(`dialplan show ${AGI_CONTEXT}`), /AGI\(agi:async,\$\{EXTEN\}\)/);
  },
  { timeout: 90_000 },
);
after(
  async () => {
    raw?.close();
    await bed?.close();
  },
  { timeout: 60_000 },
);

async function adpma(name: string, adps: { sequence: number; command: string | null; name?: string }[]): Promise<string> {
  const m = await bed.api.post('/v1/admin/dialplan/adpmas', { name, detail: `test ${name}` });
  assert.equal(m.status, 200, m.text);
  for (const a of adps) {
    const r = await bed.api.post('/v1/admin/dialplan/adps', { dpma_uuid: m.body.result.uuid, ...a });
    assert.equal(r.status, 200, r.text);
  }
  return m.body.result.uuid;
}

/** The channel's own variable writes, in the order Asterisk made them (from VarSet events). */
const varSets = (uid: string, names: string[]) =>
  raw.events
    .filter((e) => e.Event === 'VarSet' && e.Uniqueid === uid && names.includes(e.Variable!))
    .map((e) => `${e.Variable}=${e.Value}`);

const afterAgi = (uid: string) =>
  eventually(
    () => raw.events.find((e) => e.Event === 'VarSet' && e.Uniqueid === uid && e.Variable === 'AFTER_AGI')?.Value,
    15_000,
    `AFTER_AGI on ${uid}`,
  );

const ended = (uid: string) =>
  eventually(
    () => sessions.find((m) => m.type === 'dialplan.adp_session.ended' && (m.data as any).unique_id === uid)?.data as any,
    15_000,
    `session ${uid} ended`,
  );

async function channelName(uid: string): Promise<string> {
  return (await eventually(
    async () => (await bed.api.get(`/v1/admin/core/channels/${uid}`)).body.result?.channel as string | undefined,
    10_000,
    `channel ${uid}`,
  ))!;
}

const getvar = async (channel: string, variable: string) =>
  (await bed.gateway.ami.action('Getvar', { Channel: channel, Variable: variable })).fields.Value ?? '';

test("the AGI commands the gateway accepts are exactly Asterisk 22's (agi show commands), ASYNCAGI BREAK aside", T, async () => {
  const out = await bed.asterisk.cli('agi show commands');
  const real = out
    .split('\n')
    .map((l) => /^\s*(?:Yes|No)\s+(\S+(?: \S+)*)/.exec(l)?.[1])
    .filter((c): c is string => !!c);
  assert.ok(real.length > 40, out);
  assert.deepEqual([...real].sort(), [...AGI_COMMANDS, 'asyncagi break'].sort());
});

test("adpmas and adps over HTTP: the spec's examples, CRUD, bad input", T, async () => {
  const m = await bed.api.post('/v1/admin/dialplan/adpmas', { name: 'test dpma', detail: 'test dpma dpma' });
  assert.equal(m.status, 200, m.text);
  const uuid = m.body.result.uuid;
  assert.ok((await bed.api.get('/v1/admin/dialplan/adpmas')).body.result.list.some((x: any) => x.uuid === uuid));
  assert.equal((await bed.api.put(`/v1/admin/dialplan/adpmas/${uuid}`, { name: 'test change name' })).body.result.name, 'test change name');
  const adp = await bed.api.post('/v1/admin/dialplan/adps', { name: 'test_dialplan_1', dpma_uuid: uuid, sequence: 1 });
  assert.equal(adp.status, 200, adp.text);
  assert.equal(adp.body.result.command, null);
  const a = adp.body.result.uuid;
  const put = await bed.api.put(`/v1/admin/dialplan/adps/${a}`, { uuid: a, dpma_uuid: uuid, sequence: 10 });
  assert.equal(put.body.result.sequence, 10);
  assert.equal((await bed.api.get(`/v1/admin/dialplan/adps/${a}`)).body.result.sequence, 10);
  assert.deepEqual(
    (await bed.api.get(`/v1/admin/dialplan/adps?dpma_uuid=${uuid}`)).body.result.list.map((x: any) => x.uuid),
    [a],
  );
  // bad input: nothing reaches Asterisk or the store
  const bad = await bed.api.put(`/v1/admin/dialplan/adps/${a}`, { command: 'EXEC NoOp x\r\nAction: Originate' });
  assert.equal(bad.status, 400, bad.text);
  assert.match(bad.body.result.message, /command: must not contain CR, LF/);
  assert.equal((await bed.api.post('/v1/admin/dialplan/adpmas', { name: 'x\ny' })).status, 400);
  assert.equal((await bed.api.post('/v1/admin/dialplan/adps', { dpma_uuid: 'nope' })).status, 404);
  assert.equal((await bed.api.get('/v1/admin/dialplan/adps/nope')).status, 404);
  assert.equal((await bed.api.get('/v1/admin/dialplan/adpmas/nope')).status, 404);
  assert.equal((await bed.api.post('/v1/admin/dialplan/adps', { dpma_uuid: uuid, command: 'NOT A COMMAND' })).status, 400);
  assert.equal((await bed.api.get(`/v1/admin/dialplan/adps/${a}`)).body.result.command, null);
  // the adpma goes with its adps
  assert.equal((await bed.api.del(`/v1/admin/dialplan/adpmas/${uuid}`)).status, 200);
  assert.equal((await bed.api.get(`/v1/admin/dialplan/adps/${a}`)).status, 404);
  const checker = await bed.api.contract();
  assert.ok(checker && checker.checked >= 10, 'answers checked against /v1/openapi.json');
});

test('a call in AGI(agi:async,gw-e2e) runs the adps in sequence order, one AGI command each, and continues past AGI', T, async () => {
  // written out of order on purpose: sequence decides
  const uuid = await adpma('gw-e2e', [
    { sequence: 30, command: 'SET VARIABLE GW_DONE yes', name: 'done' },
    { sequence: 10, command: 'exec Set GW_STEP=1', name: 'one' },
    { sequence: 15, command: null, name: 'does nothing' },
    { sequence: 20, command: 'exec Set GW_STEP=2', name: 'two' },
    { sequence: 25, command: 'Set(GW_Q=a b "q" \\o/)', name: 'dialplan form' },
  ]);
  const uid = await bed.originate(`Local/gw-e2e@${AGI_CONTEXT}`);
  assert.equal(await afterAgi(uid), 'SUCCESS/SUCCESS', 'AGI ended normally and the gateway reported SUCCESS');
  // (VarSet events show " and \ backslash-escaped; Getvar below gives the value itself)
  assert.deepEqual(varSets(uid, ['GW_STEP', 'GW_Q', 'GW_DONE', 'ADPSTATUS', 'AFTER_AGI']), [
    'GW_STEP=1',
    'GW_STEP=2',
    'GW_Q=a b \\"q\\" \\\\o/',
    'GW_DONE=yes',
    'ADPSTATUS=SUCCESS',
    'AFTER_AGI=SUCCESS/SUCCESS',
  ]);
  // read back from Asterisk: AMI Getvar, and the core plugin's view of the channel (now in Wait, past AGI)
  const channel = await channelName(uid);
  assert.equal(await getvar(channel, 'GW_STEP'), '2');
  assert.equal(await getvar(channel, 'GW_DONE'), 'yes');
  assert.equal(await getvar(channel, 'GW_Q'), 'a b "q" \\o/');
  assert.equal(await getvar(channel, 'AGISTATUS'), 'SUCCESS');
  const ch = await eventually(
    async () => {
      const c = (await bed.api.get(`/v1/admin/core/channels/${uid}`)).body.result;
      return c.application === 'Wait' ? c : null;
    },
    10_000,
    'channel in Wait after AGI',
  );
  assert.equal(ch.variables.GW_STEP, '2');
  assert.equal(ch.variables.AFTER_AGI, 'SUCCESS/SUCCESS');
  // the gateway's record of the session: every command answered 200, CommandIds echoed by AsyncAGIExec
  const s = await ended(uid);
  assert.equal(s.outcome, 'SUCCESS');
  assert.equal(s.adpma_uuid, uuid);
  assert.deepEqual(
    s.adps.map((x: any) => [x.sequence, x.agi_command, x.status, x.result]),
    [
      [10, 'exec Set GW_STEP=1', 'done', '200 result=0'],
      [20, 'exec Set GW_STEP=2', 'done', '200 result=0'],
      [25, 'EXEC Set "GW_Q=a b \\"q\\" \\\\o/"', 'done', '200 result=0'],
      [30, 'SET VARIABLE GW_DONE yes', 'done', '200 result=1'],
    ],
  );
  const execs = raw.events.filter((e) => e.Event === 'AsyncAGIExec' && e.Uniqueid === uid).map((e) => e.CommandId);
  assert.deepEqual(
    execs.slice(0, 4),
    s.adps.map((x: any) => x.command_id),
    'AsyncAGIExec answered our CommandIDs in order',
  );
  assert.ok(raw.events.some((e) => e.Event === 'AsyncAGIEnd' && e.Uniqueid === uid));
  assert.equal((await bed.api.get(`/v1/admin/dialplan/adp_sessions/${uid}`)).status, 404, 'no session once AGI ended');
  assert.equal((await bed.api.del(`/v1/admin/core/channels/${uid}`)).status, 200);
});

test('without an AGI argument the ADPMA channel variable names the adpma', T, async () => {
  const uid = await bed.originate(`Local/100@${AGI_VAR_CONTEXT}`);
  assert.equal(await afterAgi(uid), 'SUCCESS/SUCCESS');
  assert.deepEqual(varSets(uid, ['GW_STEP', 'GW_DONE']), ['GW_STEP=1', 'GW_STEP=2', 'GW_DONE=yes']);
  assert.equal((await ended(uid)).adpma, 'gw-e2e');
  await bed.api.del(`/v1/admin/core/channels/${uid}`);
});

test('a command Asterisk refuses stops the run (FAILED); an unknown adpma is NOTFOUND; both calls go on', T, async () => {
  await adpma('gw-e2e-fail', [
    { sequence: 1, command: 'exec Set GW_F=1' },
    { sequence: 2, command: 'EXEC NoSuchApp x' },
    { sequence: 3, command: 'exec Set GW_F=2' },
  ]);
  const failing = await bed.originate(`Local/gw-e2e-fail@${AGI_CONTEXT}`);
  const unknown = await bed.originate(`Local/gw-no-such-adpma@${AGI_CONTEXT}`);
  assert.equal(await afterAgi(failing), 'SUCCESS/FAILED');
  assert.deepEqual(varSets(failing, ['GW_F']), ['GW_F=1'], 'the adp after the failing one did not run');
  const f = await ended(failing);
  assert.deepEqual(
    f.adps.map((x: any) => [x.status, x.result]),
    [
      ['done', '200 result=0'],
      ['failed', '200 result=-2'],
      ['skipped', null],
    ],
  );
  assert.equal(await afterAgi(unknown), 'SUCCESS/NOTFOUND');
  assert.equal((await ended(unknown)).outcome, 'NOTFOUND');
  for (const uid of [failing, unknown]) await bed.api.del(`/v1/admin/core/channels/${uid}`);
});

test('a running session is visible at /admin/dialplan/adp_sessions; a hangup mid-command ends it', T, async () => {
  await adpma('gw-e2e-wait', [
    { sequence: 1, command: 'EXEC Wait 600' },
    { sequence: 2, command: 'SET VARIABLE GW_NEVER yes' },
  ]);
  const uid = await bed.originate(`Local/gw-e2e-wait@${AGI_CONTEXT}`);
  // Asterisk picks queued AGI commands up on its next poll: wait until the Wait really runs
  await eventually(
    () => raw.events.some((e) => e.Event === 'AGIExecStart' && e.Uniqueid === uid && e.Command === 'EXEC Wait 600'),
    10_000,
    'EXEC Wait running',
  );
  const s = await eventually(
    async () => {
      const a = await bed.api.get(`/v1/admin/dialplan/adp_sessions/${uid}`);
      return a.status === 200 && a.body.result.adps[0]?.status === 'running' ? a.body.result : null;
    },
    10_000,
    'session running its first adp',
  );
  assert.equal(s.status, 'running');
  assert.equal(s.adpma_name, 'gw-e2e-wait');
  assert.match(s.channel, /^Local\/gw-e2e-wait@gw-test-agi-/);
  assert.equal(s.adps[0].agi_command, 'EXEC Wait 600');
  assert.ok((await bed.api.get('/v1/admin/dialplan/adp_sessions')).body.result.list.some((x: any) => x.unique_id === uid));
  assert.equal((await bed.api.del(`/v1/admin/core/channels/${uid}`)).status, 200);
  const e = await ended(uid);
  assert.equal(e.outcome, 'HANGUP');
  assert.deepEqual(
    e.adps.map((x: any) => [x.status, x.result]),
    [
      ['failed', '200 result=-1'],
      ['skipped', null],
    ],
  );
  assert.deepEqual(varSets(uid, ['GW_NEVER', 'ADPSTATUS', 'AFTER_AGI']), []);
  assert.equal((await bed.api.get(`/v1/admin/dialplan/adp_sessions/${uid}`)).status, 404);
});

test(
  'AMI lost mid-run: after the reconnect the call is let go (INTERRUPTED), not run twice; a call that entered AGI meanwhile runs',
  T,
  async () => {
    await adpma('gw-e2e-drop', [
      { sequence: 1, command: 'EXEC Wait 2' },
      { sequence: 2, command: 'SET VARIABLE GW_SECOND yes' },
    ]);
    const cut = await bed.originate(`Local/gw-e2e-drop@${AGI_CONTEXT}`);
    await eventually(
      () => raw.events.some((e) => e.Event === 'AGIExecStart' && e.Uniqueid === cut && e.Command === 'EXEC Wait 2'),
      10_000,
      'EXEC Wait running',
    );
    // The gateway loses AMI (Asterisk keeps running) and stays away until a new call is waiting in AGI.
    await bed.gateway.ami.stop();
    assert.equal((await bed.api.get('/v1/admin/dialplan/adp_sessions')).status, 503, 'no stale sessions while AMI is down');
    const meanwhile = `gw-drop-${Date.now()}`;
    const o = await raw.send({
      Action: 'Originate',
      Channel: `Local/gw-e2e@${AGI_CONTEXT}`,
      Application: 'Wait',
      Data: '600',
      Async: 'true',
      ChannelId: `${meanwhile}a`,
      OtherChannelId: `${meanwhile}b`,
    });
    assert.equal(o.Response, 'Success', JSON.stringify(o));
    await raw.waitEvent((e) => e.Event === 'AsyncAGIStart' && e.Uniqueid === `${meanwhile}b`, 10_000, { includePast: true });
    bed.gateway.ami.start();
    await eventually(
      async () => (await bed.api.get('/v1/status')).body.result.plugins.every((p: { live: boolean }) => p.live),
      15_000,
      'gateway live again',
    );
    // the lost call: let go once its Wait is over; its second adp does not run
    assert.equal(await afterAgi(cut), 'SUCCESS/INTERRUPTED');
    assert.deepEqual(varSets(cut, ['GW_SECOND']), []);
    // the call that arrived unannounced: found in the channel list by the resync, and run exactly once
    assert.equal(await afterAgi(`${meanwhile}b`), 'SUCCESS/SUCCESS');
    assert.deepEqual(varSets(`${meanwhile}b`, ['GW_STEP', 'GW_DONE']), ['GW_STEP=1', 'GW_STEP=2', 'GW_DONE=yes']);
    assert.equal((await ended(`${meanwhile}b`)).adpma, 'gw-e2e');
    for (const uid of [cut, `${meanwhile}b`]) await bed.api.del(`/v1/admin/core/channels/${uid}`);
  },
);

// Last in the file: it stops the gateway.
test('gateway shutdown mid-run: the call is let go with INTERRUPTED and continues in its dialplan', T, async () => {
  await adpma('gw-e2e-stop', [
    { sequence: 1, command: 'EXEC Wait 2' },
    { sequence: 2, command: 'SET VARIABLE GW_NEVER yes' },
  ]);
  const uid = await bed.originate(`Local/gw-e2e-stop@${AGI_CONTEXT}`);
  await eventually(
    () => raw.events.some((e) => e.Event === 'AGIExecStart' && e.Uniqueid === uid && e.Command === 'EXEC Wait 2'),
    10_000,
    'EXEC Wait running',
  );
  await bed.gateway.stop();
  // Asterisk finishes the running Wait, then takes the queued ADPSTATUS and ASYNCAGI BREAK the gateway sent while closing
  assert.equal(await afterAgi(uid), 'SUCCESS/INTERRUPTED');
  assert.deepEqual(varSets(uid, ['GW_NEVER']), []);
});
