// Call control (issue 13) against a real Asterisk 22, with Local channels into the test bed's gw-calls-* contexts:
// originate and its outcome events, variables, DTMF, mute, blind and attended transfer, park and pickup, recording.
//
// Run: flock /tmp/asterisk-test.lock node --import tsx --test --test-concurrency=1 test/integration/calls.test.ts
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { TESTBED } from '../asterisk/testbed.ts';
import { skipReason, startBed, type Bed } from '../support/bed.ts';
import { eventually } from '../support/http.ts';
import type { BusMessage } from '../../core/bus/bus.ts';
import type { AmiMessage } from '../../core/ami/message.ts';

const skip = skipReason() ?? false;
const T = { timeout: 90_000, skip };
const C = TESTBED.contexts;
let bed: Bed;
const bus: BusMessage[] = [];
const ami: AmiMessage[] = [];

before(
  async () => {
    if (skip) return;
    bed = await startBed({ plugins: ['core', 'park'] });
    bed.gateway.bus.subscribe((m) => bus.push(m));
    bed.gateway.ami.onEvent((m) => ami.push(m));
  },
  { timeout: 90_000 },
);
after(
  async () => {
    await bed?.close();
  },
  { timeout: 60_000 },
);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function originate(body: Record<string, unknown>): Promise<{ unique_id: string; other_unique_id: string }> {
  const a = await bed.api.post('/v1/admin/core/channels', body);
  assert.equal(a.status, 202, a.text);
  return a.body.result;
}

function outcome(id: string): Promise<Record<string, any>> {
  return eventually(
    () => {
      const m = bus.find(
        (e) => (e.type === 'core.originate.answered' || e.type === 'core.originate.failed') && (e.data as any).unique_id === id,
      );
      return m ? { type: m.type, ...(m.data as any) } : undefined;
    },
    20_000,
    `outcome of ${id}`,
  );
}

async function channel(id: string): Promise<Record<string, any>> {
  const a = await bed.api.get(`/v1/admin/core/channels/${id}`);
  assert.equal(a.status, 200, a.text);
  return a.body.result;
}

/** An answered call into gw-calls-answer; the ;2 side (other_unique_id) is in the dialplan, playing a tone. */
async function answeredCall(exten = '100') {
  const ids = await originate({ channel: `Local/${exten}@${C.callsAnswer}`, application: 'Wait', data: '600' });
  assert.equal((await outcome(ids.unique_id)).type, 'core.originate.answered');
  await eventually(async () => (await bed.api.get(`/v1/admin/core/channels/${ids.other_unique_id}`)).status === 200, 5000, 'channel seen');
  return ids;
}

async function hangupAll() {
  await bed.gateway.ami.action('Hangup', { Channel: '/.*/' }).catch(() => {});
  await eventually(async () => (await bed.api.get('/v1/admin/core/channels')).body.result.list.length === 0, 10_000, 'no channels');
}

test('originate: 202 with the unique id, the answered event carries it, variables and caller id reach the dialplan', T, async () => {
  const ids = await originate({
    channel: `Local/100@${C.callsAnswer}`,
    application: 'Wait',
    data: '600',
    caller_id_name: 'Click To Call',
    caller_id_num: '5551234',
    variables: { GW_IN: 'hello world' },
    timeout_s: 10,
  });
  assert.match(ids.unique_id, /^[0-9a-f-]{36}$/);
  const o = await outcome(ids.unique_id);
  assert.deepEqual(
    { type: o.type, outcome: o.outcome, reason: o.reason, code: o.reason_code, other: o.other_unique_id },
    { type: 'core.originate.answered', outcome: 'answered', reason: 'answered', code: 4, other: ids.other_unique_id },
  );
  // the originated channel has the id the 202 gave; its dialplan half has the other one
  const a = await channel(ids.unique_id);
  assert.match(a.channel, new RegExp(`^Local/100@${C.callsAnswer}-[0-9a-f]+;1$`));
  assert.equal(a.caller_id_num, '5551234');
  assert.equal(a.caller_id_name, 'Click To Call');
  const b = await eventually(
    async (): Promise<any> => {
      const ch = await channel(ids.other_unique_id);
      return ch.variables.GW_SEEN !== undefined && ch.variables.GW_CID !== undefined ? ch : undefined;
    },
    5000,
    'Set() seen',
  );
  assert.equal(b.variables.GW_SEEN, 'hello world', 'the variable reached the dialplan (VarSet of Set(GW_SEEN=${GW_IN}))');
  assert.equal(b.variables.GW_CID, '5551234', 'the caller id reached the dialplan');
  // and the same through Getvar
  const g = await bed.api.get(`/v1/admin/core/channels/${ids.other_unique_id}/variables/GW_IN`);
  assert.equal(g.status, 200, g.text);
  assert.deepEqual(g.body.result, { name: 'GW_IN', value: 'hello world' });
  await hangupAll();
});

test('originate to a context/exten: the answered channel runs that extension', T, async () => {
  const ids = await originate({ channel: `Local/1@${C.wait}`, context: C.callsTarget, exten: '42' });
  assert.equal((await outcome(ids.unique_id)).outcome, 'answered');
  const a = await eventually(
    async (): Promise<any> => {
      const ch = await channel(ids.unique_id);
      return ch.variables.GW_TRANSFERRED === '42' ? ch : undefined;
    },
    5000,
    'ran gw-calls-target,42',
  );
  assert.equal(a.context, C.callsTarget);
  await hangupAll();
});

test('originate failures carry the reason: busy, no answer, congestion, no such extension', T, async () => {
  const cases: [string, Record<string, unknown>, string][] = [
    ['busy', { channel: `Local/1@${C.callsBusy}` }, 'busy'],
    ['no answer', { channel: `Local/1@${C.callsNoAnswer}`, timeout_s: 2 }, 'no_answer'],
    ['congestion', { channel: `Local/1@${C.callsCongestion}` }, 'congestion'],
    ['no such extension', { channel: `Local/999@gw-calls-nowhere` }, 'no_such_extension'],
  ];
  for (const [what, body, reason] of cases) {
    const ids = await originate({ ...body, application: 'Wait', data: '1' });
    const o = await outcome(ids.unique_id);
    assert.equal(o.type, 'core.originate.failed', `${what}: ${JSON.stringify(o)}`);
    assert.equal(o.reason, reason, `${what}: ${JSON.stringify(o)}`);
  }
  // a target extension that does not exist is refused at once (Asterisk checks it before queueing)
  const bad = await bed.api.post('/v1/admin/core/channels', { channel: `Local/1@${C.wait}`, context: C.callsTarget, exten: 'nope' });
  assert.equal(bad.status, 400, bad.text);
  assert.match(bad.body.result.message, /Extension does not exist/);
  await hangupAll();
});

test('bad input: CR/LF is 400, both or neither of exten and application is 400', T, async () => {
  const crlf = await bed.api.post('/v1/admin/core/channels', {
    channel: `Local/1@${C.wait}`,
    application: 'Wait',
    variables: { X: 'a\r\nAction: Logoff' },
  });
  assert.equal(crlf.status, 400, crlf.text);
  const both = await bed.api.post('/v1/admin/core/channels', {
    channel: `Local/1@${C.wait}`,
    application: 'Wait',
    context: C.wait,
    exten: '1',
  });
  assert.equal(both.status, 400, both.text);
  const none = await bed.api.post('/v1/admin/core/channels', { channel: `Local/1@${C.wait}` });
  assert.equal(none.status, 400, none.text);
  const ids = await answeredCall();
  const setCrlf = await bed.api.put(`/v1/admin/core/channels/${ids.other_unique_id}/variables/X`, { value: 'a\nb' });
  assert.equal(setCrlf.status, 400, setCrlf.text);
  await hangupAll();
});

test('every action on an unknown channel is 404', T, async () => {
  const id = 'no-such-channel';
  const base = `/v1/admin/core/channels/${id}`;
  const answers = [
    await bed.api.post(`${base}/transfer`, { context: C.callsTarget, exten: '1' }),
    await bed.api.post(`${base}/transfer/complete`),
    await bed.api.post(`${base}/transfer/cancel`),
    await bed.api.post(`${base}/park`, {}),
    await bed.api.post(`${base}/recording`, {}),
    await bed.api.put(`${base}/recording`, { paused: true }),
    await bed.api.del(`${base}/recording`),
    await bed.api.post(`${base}/dtmf`, { digits: '1' }),
    await bed.api.put(`${base}/mute`, { direction: 'all', muted: true }),
    await bed.api.get(`${base}/variables/X`),
    await bed.api.put(`${base}/variables/X`, { value: '1' }),
    await bed.api.post('/v1/admin/park/parkedcalls/no-such-call/pickup', { channel: `Local/1@${C.wait}` }),
  ];
  assert.deepEqual(
    answers.map((a) => a.status),
    answers.map(() => 404),
    answers.map((a) => a.text).join('\n'),
  );
});

test('variables: PUT then GET (Setvar / Getvar), and the VarSet shows in the channel', T, async () => {
  const ids = await answeredCall();
  const put = await bed.api.put(`/v1/admin/core/channels/${ids.other_unique_id}/variables/GW_NOTE`, { value: 'from rest' });
  assert.equal(put.status, 200, put.text);
  const get = await bed.api.get(`/v1/admin/core/channels/${ids.other_unique_id}/variables/GW_NOTE`);
  assert.deepEqual(get.body.result, { name: 'GW_NOTE', value: 'from rest' });
  await eventually(async () => (await channel(ids.other_unique_id)).variables.GW_NOTE === 'from rest', 5000, 'VarSet');
  const fn = await bed.api.get(`/v1/admin/core/channels/${ids.other_unique_id}/variables/${encodeURIComponent('CHANNEL(state)')}`);
  assert.equal(fn.status, 200, fn.text);
  assert.equal(fn.body.result.value, 'Up');
  await hangupAll();
});

test('DTMF reaches the far end; mute and unmute are accepted by Asterisk', T, async () => {
  const ids = await answeredCall();
  const from = ami.length;
  const d = await bed.api.post(`/v1/admin/core/channels/${ids.unique_id}/dtmf`, { digits: '1*#', duration_ms: 100 });
  assert.equal(d.status, 200, d.text);
  // PlayDTMF on ;1 is written to it, so the ;2 half (in the dialplan) receives the digits
  const got = await eventually(
    () => {
      const ds = ami
        .slice(from)
        .filter((m) => m.fields.Event === 'DTMFEnd' && m.fields.Uniqueid === ids.other_unique_id && m.fields.Direction === 'Received')
        .map((m) => m.fields.Digit);
      return ds.length === 3 ? ds : undefined;
    },
    5000,
    'DTMFEnd x3',
  );
  assert.deepEqual(got, ['1', '*', '#']);
  for (const muted of [true, false]) {
    const m = await bed.api.put(`/v1/admin/core/channels/${ids.other_unique_id}/mute`, { direction: 'all', muted });
    assert.equal(m.status, 200, m.text);
  }
  const bad = await bed.api.post(`/v1/admin/core/channels/${ids.unique_id}/dtmf`, { digits: '1x' });
  assert.equal(bad.status, 400, bad.text);
  await hangupAll();
});

test('blind transfer moves a Local call to another context (Newexten seen there)', T, async () => {
  const ids = await answeredCall();
  const t = await bed.api.post(`/v1/admin/core/channels/${ids.other_unique_id}/transfer`, { context: C.callsTarget, exten: '77' });
  assert.equal(t.status, 200, t.text);
  const ch = await eventually(
    async (): Promise<any> => {
      const c = await channel(ids.other_unique_id);
      return c.context === C.callsTarget && c.variables.GW_TRANSFERRED === '77' ? c : undefined;
    },
    5000,
    'in the target context',
  );
  assert.equal(ch.exten, '77');
  assert.ok(
    ami.some((m) => m.fields.Event === 'Newexten' && m.fields.Uniqueid === ids.other_unique_id && m.fields.Context === C.callsTarget),
    'Newexten in the target context',
  );
  assert.ok(bus.some((m) => m.type === 'core.transfer.progress' && (m.data as any).unique_id === ids.other_unique_id));
  const bad = await bed.api.post(`/v1/admin/core/channels/${ids.other_unique_id}/transfer`, { context: C.callsTarget, exten: 'none' });
  assert.equal(bad.status, 400, bad.text);
  await hangupAll();
});

test('park over REST: the call shows in /admin/park/parkedcalls and is picked up over REST', T, async () => {
  const ids = await answeredCall();
  const p = await bed.api.post(`/v1/admin/core/channels/${ids.other_unique_id}/park`, { parking_lot: 'default', timeout_s: 60 });
  assert.equal(p.status, 200, p.text);
  const parked = await eventually(
    async () =>
      (await bed.api.get('/v1/admin/park/parkedcalls')).body.result.list.find((c: any) => c.parkee_unique_id === ids.other_unique_id),
    5000,
    'parked',
  );
  assert.equal(parked.parking_lot, 'default');
  assert.ok(parked.parking_timeout > 50 && parked.parking_timeout <= 60, `timeout ${parked.parking_timeout}`);
  const pick = await bed.api.post(`/v1/admin/park/parkedcalls/${ids.other_unique_id}/pickup`, { channel: `Local/5@${C.wait}` });
  assert.equal(pick.status, 202, pick.text);
  const picker = pick.body.result.unique_id;
  await eventually(
    async () =>
      !(await bed.api.get('/v1/admin/park/parkedcalls')).body.result.list.some((c: any) => c.parkee_unique_id === ids.other_unique_id),
    10_000,
    'unparked',
  );
  // the parkee and the picker share a bridge
  const both = await eventually(
    async () => {
      const [a, b] = [await channel(ids.other_unique_id), await channel(picker)];
      return a.bridge_id && a.bridge_id === b.bridge_id ? [a, b] : undefined;
    },
    10_000,
    'parkee bridged with the picker',
  );
  assert.ok(both);
  // a second pickup of a call no longer parked is 404
  const again = await bed.api.post(`/v1/admin/park/parkedcalls/${ids.other_unique_id}/pickup`, { channel: `Local/5@${C.wait}` });
  assert.equal(again.status, 404, again.text);
  await hangupAll();
});

/** 16-bit samples of a WAV file's data chunk. */
function samples(file: string): Int16Array {
  const buf = readFileSync(file);
  const data = buf.indexOf('data', 12);
  assert.ok(data > 0, 'a data chunk');
  const start = data + 8;
  const len = Math.floor((buf.length - start) / 2);
  return new Int16Array(buf.buffer.slice(buf.byteOffset + start, buf.byteOffset + start + len * 2));
}

/** The share of samples louder than a quiet floor. */
const loud = (a: Int16Array) => a.reduce((n, x) => n + (Math.abs(x) > 500 ? 1 : 0), 0) / a.length;

/** The longest run of zero samples. */
function longestSilence(s: Int16Array): number {
  let run = 0,
    best = 0;
  for (const x of s) {
    run = x === 0 ? run + 1 : 0;
    best = Math.max(best, run);
  }
  return best;
}

test('recording: a file with audio, pause writes silence, stop ends the file; the channel shows it', T, async () => {
  const ids = await answeredCall();
  const url = `/v1/admin/core/channels/${ids.other_unique_id}/recording`;
  const start = await bed.api.post(url, {});
  assert.equal(start.status, 200, start.text);
  const rec = start.body.result;
  assert.equal(rec.state, 'recording');
  assert.equal(rec.format, 'wav');
  assert.equal(path.posix.dirname(rec.file), '/var/spool/asterisk/monitor');
  assert.equal((await channel(ids.other_unique_id)).recording.file_name, rec.file_name);
  assert.equal((await bed.api.post(url, {})).status, 409, 'a second start is 409');
  await sleep(1500);
  const pause = await bed.api.put(url, { paused: true });
  assert.equal(pause.status, 200, pause.text);
  assert.equal((await channel(ids.other_unique_id)).recording.state, 'paused');
  await sleep(1500);
  assert.equal((await bed.api.put(url, { paused: false })).body.result.state, 'recording');
  await sleep(1000);
  const stop = await bed.api.del(url);
  assert.equal(stop.status, 200, stop.text);
  assert.equal(stop.body.result.state, 'stopped');
  assert.equal((await bed.api.del(url)).status, 409, 'stopping a stopped recording is 409');
  const file = path.join(bed.asterisk.chroot, rec.file);
  await eventually(() => existsSync(file) && statSync(file).size > 44, 5000, `${file} written`);
  await sleep(500);
  const size = statSync(file).size;
  await sleep(1000);
  assert.equal(statSync(file).size, size, 'the file does not grow after stop');
  const s = samples(file);
  // about 4 s at 8 kHz: tone, paused (silence), tone
  assert.ok(s.length > 8000 * 3, `${s.length} samples`);
  const sec = (from: number, to: number) => s.subarray(Math.floor(from * 8000), Math.floor(to * 8000));
  assert.ok(loud(sec(0.3, 1.2)) > 0.3, `tone before the pause: ${loud(sec(0.3, 1.2))}`);
  // the longest run of zero samples: the pause (1.5 s), allowing for timing
  const best = longestSilence(s);
  assert.ok(best > 8000 * 1.0, `longest silence ${best / 8000} s`);
  assert.ok(loud(s.subarray(s.length - 6000, s.length - 800)) > 0.3, 'tone after the resume');
  await hangupAll();
});

test('mute is honoured: muting what the dialplan side sends leaves its peer without audio (its recording has a gap)', T, async () => {
  // MuteAudio suppresses voice frames (Asterisk drops them, it does not write silence): record the ;1 half, which
  // reads the tone the ;2 half (in gw-calls-answer) writes; frames it never gets are missing from its recording.
  const ids = await answeredCall();
  const url = `/v1/admin/core/channels/${ids.unique_id}/recording`;
  const mute = `/v1/admin/core/channels/${ids.other_unique_id}/mute`;
  /** Record for `ms` (muting ;2's out direction from `muteFrom` for `muteMs`) and return seconds of audio in the file. */
  const record = async (ms: number, muteFrom?: number, muteMs = 0): Promise<{ audio: number; wall: number }> => {
    const t0 = Date.now();
    const start = await bed.api.post(url, { format: 'wav' });
    assert.equal(start.status, 200, start.text);
    if (muteFrom !== undefined) {
      await sleep(muteFrom);
      assert.equal((await bed.api.put(mute, { direction: 'out', muted: true })).status, 200);
      await sleep(muteMs);
      assert.equal((await bed.api.put(mute, { direction: 'out', muted: false })).status, 200);
      await sleep(ms - muteFrom - muteMs);
    } else await sleep(ms);
    assert.equal((await bed.api.del(url)).status, 200);
    const wall = (Date.now() - t0) / 1000;
    const file = path.join(bed.asterisk.chroot, start.body.result.file);
    await eventually(() => existsSync(file) && statSync(file).size > 44, 5000, `${file} written`);
    await sleep(300);
    const s = samples(file);
    assert.ok(loud(s) > 0.8, `the file holds the tone: ${loud(s)}`);
    return { audio: s.length / 8000, wall };
  };
  const plain = await record(3000);
  const muted = await record(3000, 800, 1500);
  assert.ok(plain.audio > plain.wall - 0.7, `unmuted: ${plain.audio} s of audio in ${plain.wall} s`);
  assert.ok(muted.audio < muted.wall - 1.0, `muted for 1.5 s: ${muted.audio} s of audio in ${muted.wall} s`);
  await hangupAll();
});

test('attended transfer: cancel brings the transferer back, complete connects its peer with the target', T, async () => {
  for (const step of ['cancel', 'complete'] as const) {
    // A1 (Wait) - A2 [Dial, tT] == B1 - B2 (gw-calls-answer): A2 and B1 share a bridge
    const ids = await originate({ channel: `Local/1@${C.callsBridge}`, application: 'Wait', data: '600' });
    assert.equal((await outcome(ids.unique_id)).outcome, 'answered');
    const transferer = ids.other_unique_id;
    const list = async () => (await bed.api.get('/v1/admin/core/channels')).body.result.list as any[];
    const peer = await eventually(
      async () => {
        const a2 = await channel(transferer);
        return a2.bridge_id ? (await list()).find((c) => c.bridge_id === a2.bridge_id && c.unique_id !== transferer) : undefined;
      },
      10_000,
      'A2 bridged with B1',
    );
    const t = await bed.api.post(`/v1/admin/core/channels/${transferer}/transfer`, { context: C.callsTarget, exten: '9', attended: true });
    assert.equal(t.status, 200, t.text);
    const target = await eventually(
      async () => {
        const c1 = (await list()).find((c) => c.channel.startsWith(`Local/9@${C.callsTarget}`) && c.channel.endsWith(';1'));
        const a2 = await channel(transferer);
        return c1?.bridge_id && c1.bridge_id === a2.bridge_id ? c1 : undefined;
      },
      10_000,
      'the transferer talks to the target',
    );
    const s = await bed.api.post(`/v1/admin/core/channels/${transferer}/transfer/${step}`);
    assert.equal(s.status, 200, s.text);
    if (step === 'cancel') {
      await eventually(
        async () => {
          const cs = await list();
          const a2 = cs.find((c) => c.unique_id === transferer);
          const b1 = cs.find((c) => c.unique_id === peer.unique_id);
          return !cs.some((c) => c.unique_id === target.unique_id) && a2?.bridge_id && a2.bridge_id === b1?.bridge_id;
        },
        10_000,
        'target gone, transferer back with its peer',
      );
    } else {
      await eventually(
        async () => {
          const cs = await list();
          const b1 = cs.find((c) => c.unique_id === peer.unique_id);
          const c1 = cs.find((c) => c.unique_id === target.unique_id);
          return !cs.some((c) => c.unique_id === transferer) && b1?.bridge_id && b1.bridge_id === c1?.bridge_id;
        },
        10_000,
        'transferer gone, its peer bridged with the target',
      );
    }
    // completed comes from Asterisk's AttendedTransfer event (Result: Success), cancelled from CancelAtxfer's answer
    const done: any = await eventually(
      () =>
        bus.find(
          (m) => m.type === 'core.transfer.progress' && (m.data as any).unique_id === transferer && (m.data as any).state !== 'started',
        ),
      5000,
      `${step} progress event`,
    );
    assert.deepEqual(
      { ...done.data, message: undefined },
      {
        unique_id: transferer,
        kind: 'attended',
        state: step === 'cancel' ? 'cancelled' : 'completed',
        context: C.callsTarget,
        exten: '9',
        message: undefined,
      },
    );
    await hangupAll();
  }
  // Asterisk's own wrong-state refusal: a transferer without an atxfer feature code (FEATUREMAP(atxfer) emptied) is 409
  {
    const ids = await originate({ channel: `Local/1@${C.callsBridge}`, application: 'Wait', data: '600' });
    assert.equal((await outcome(ids.unique_id)).outcome, 'answered');
    await eventually(async () => (await channel(ids.other_unique_id)).bridge_id, 10_000, 'bridged');
    const fm = await bed.api.put(`/v1/admin/core/channels/${ids.other_unique_id}/variables/${encodeURIComponent('FEATUREMAP(atxfer)')}`, {
      value: '',
    });
    assert.equal(fm.status, 200, fm.text);
    const r = await bed.api.post(`/v1/admin/core/channels/${ids.other_unique_id}/transfer`, {
      context: C.callsTarget,
      exten: '9',
      attended: true,
    });
    assert.equal(r.status, 409, r.text);
    assert.equal(r.body.result.code, 'conflict');
    assert.match(r.body.result.message, /No attended transfer feature code found$/);
    // nothing started: complete is 409 and does not hang the call up
    assert.equal((await bed.api.post(`/v1/admin/core/channels/${ids.other_unique_id}/transfer/complete`)).status, 409);
    assert.equal((await bed.api.get(`/v1/admin/core/channels/${ids.other_unique_id}`)).status, 200);
    await hangupAll();
  }
  // a channel in no bridge cannot start one: 409
  const ids = await answeredCall();
  const no = await bed.api.post(`/v1/admin/core/channels/${ids.other_unique_id}/transfer`, {
    context: C.callsTarget,
    exten: '9',
    attended: true,
  });
  assert.equal(no.status, 409, no.text);
  await hangupAll();
});
