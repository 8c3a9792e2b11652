// The park plugin against a real Asterisk 22: calls are Local channels originated over AMI into the test bed's
// parking contexts; the gateway's answers are compared with Asterisk's ParkedCalls / Parkinglots, and lot edits
// with res_parking.conf on disk.
//
// Run: node --import tsx --test --test-concurrency=1 test/integration/park.test.ts
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { useBed } from '../support/bed.ts';
import { eventually } from '../support/http.ts';
import { TESTBED } from '../asterisk/testbed.ts';
import type { BusMessage } from '../../core/bus/bus.ts';

const bus: BusMessage[] = [];
const { skip, bed } = useBed({ plugins: ['park'] }, { started: (b) => b.gateway.bus.subscribe((m) => bus.push(m)) });

const L = TESTBED.lots;

/** Park a call: Local/<exten>@gw-test-park (digits: lot default; a lot name: that lot). Returns the parkee's id. */
const park = (exten: string) => bed.originate(`Local/${exten}@${TESTBED.contexts.park}`);

async function parked(): Promise<Record<string, any>[]> {
  const a = await bed.api.get('/v1/admin/park/parkedcalls');
  assert.equal(a.status, 200, a.text);
  return a.body.result.list;
}

async function asteriskParked() {
  return (await bed.gateway.ami.list('ParkedCalls')).events.filter((m) => m.fields.Event === 'ParkedCall');
}

/** Our parked calls equal Asterisk's (unique id, lot, space). */
async function parkedMatchAsterisk(): Promise<boolean> {
  const [ours, theirs] = await Promise.all([parked(), asteriskParked()]);
  const a = ours.map((p) => `${p.parkee_unique_id}|${p.parking_lot}|${p.parking_space}`).sort();
  const b = theirs.map((m) => `${m.fields.ParkeeUniqueid}|${m.fields.Parkinglot}|${m.fields.ParkingSpace}`).sort();
  return JSON.stringify(a) === JSON.stringify(b);
}

const conf = () => readFileSync(path.join(bed.asterisk.configDir, 'res_parking.conf'), 'utf8');

test("parking lots are Asterisk's, with the spec's fields (stop_spcae and stop_space)", { skip }, async () => {
  const a = await bed.api.get('/v1/admin/park/parkinglots');
  assert.equal(a.status, 200, a.text);
  const theirs = (await bed.gateway.ami.list('Parkinglots')).events.filter((m) => m.fields.Event === 'Parkinglot');
  assert.deepEqual((a.body.result.list as { name: string }[]).map((l) => l.name).sort(), theirs.map((m) => m.fields.Name).sort());
  const d = await bed.api.get(`/v1/admin/park/parkinglots/${L.gwlot.name}`);
  assert.equal(d.status, 200, d.text);
  assert.deepEqual(
    { ...d.body.result, tm_update: undefined },
    {
      name: L.gwlot.name,
      start_space: String(L.gwlot.first),
      stop_spcae: String(L.gwlot.last),
      stop_space: String(L.gwlot.last),
      timeout: L.gwlot.parkingtime,
      tm_update: undefined,
    },
  );
  const def = await bed.api.get('/v1/admin/park/parkinglots/default');
  assert.equal(def.body.result.start_space, String(L.default.first));
  assert.equal(def.body.result.timeout, L.default.parkingtime);
});

test('a parked call appears with its lot and space, and DELETE hangs it up', { skip }, async () => {
  const id = await park('1');
  await eventually(async () => (await parked()).some((p) => p.parkee_unique_id === id), 10000, 'call parked');
  assert.ok(await parkedMatchAsterisk(), 'parked calls match ParkedCalls');
  const d = await bed.api.get(`/v1/admin/park/parkedcalls/${id}`);
  assert.equal(d.status, 200, d.text);
  const p = d.body.result;
  assert.equal(p.parking_lot, 'default');
  assert.equal(p.parking_space, String(L.default.first));
  assert.equal(p.parkee_unique_id, id);
  assert.equal(typeof p.parkee_channel_state, 'string', 'parkee_channel_state is a string, as in the spec');
  assert.equal(p.parkee_channel_state, '6');
  assert.equal(typeof p.parking_duration, 'number');
  assert.equal(typeof p.parking_timeout, 'number');
  assert.ok(p.parking_timeout <= L.default.parkingtime && p.parking_timeout >= L.default.parkingtime - 3, `timeout ${p.parking_timeout}`);
  assert.match(p.parkee_channel, new RegExp(`^Local/1@${TESTBED.contexts.park}-[0-9a-f]+;2$`));
  const theirs = (await asteriskParked()).find((m) => m.fields.ParkeeUniqueid === id)!;
  assert.equal(p.parkee_channel, theirs.fields.ParkeeChannel);
  assert.equal(p.parker_dial_string, theirs.fields.ParkerDialString);

  const del = await bed.api.del(`/v1/admin/park/parkedcalls/${id}`);
  assert.equal(del.status, 200, del.text);
  await eventually(async () => !(await parked()).some((x) => x.parkee_unique_id === id), 10000, 'parked call gone');
  assert.equal((await asteriskParked()).length, 0, 'Asterisk has no parked call left');
  assert.equal((await bed.api.get(`/v1/admin/park/parkedcalls/${id}`)).status, 404);
});

test('parking timeout counts down and the timed-out call is removed (ParkedCallTimeOut)', { skip }, async () => {
  const id = await park(L.gwlot.name);
  await eventually(async () => (await parked()).some((p) => p.parkee_unique_id === id), 10000, 'call parked in gwlot');
  const first = (await parked()).find((p) => p.parkee_unique_id === id)!;
  assert.equal(first.parking_lot, L.gwlot.name);
  assert.equal(first.parking_space, String(L.gwlot.first));
  assert.ok(await parkedMatchAsterisk());
  await new Promise((r) => setTimeout(r, 2100));
  const later = (await parked()).find((p) => p.parkee_unique_id === id)!;
  assert.ok(later.parking_timeout <= first.parking_timeout - 2, `timeout went ${first.parking_timeout} -> ${later.parking_timeout}`);
  assert.ok(later.parking_duration >= first.parking_duration + 2, `duration went ${first.parking_duration} -> ${later.parking_duration}`);
  assert.equal(later.tm_update, first.tm_update, 'counted from tm_update, without new events');
  // Asterisk's own count agrees within a second
  const theirs = (await asteriskParked()).find((m) => m.fields.ParkeeUniqueid === id)!;
  assert.ok(
    Math.abs(Number(theirs.fields.ParkingTimeout) - later.parking_timeout) <= 1,
    `Asterisk ${theirs.fields.ParkingTimeout} vs ${later.parking_timeout}`,
  );
  await eventually(async () => !(await parked()).some((p) => p.parkee_unique_id === id), 15000, 'timed out');
  assert.ok(
    bus.some((m) => m.type === 'park.parkedcall.timeout' && (m.data as { parkee_unique_id: string }).parkee_unique_id === id),
    'timeout event seen',
  );
  assert.ok(await parkedMatchAsterisk());
});

test('a parked caller that hangs up is removed (ParkedCallGiveUp), and the others keep their spaces', { skip }, async () => {
  const a = await park('1');
  await eventually(async () => (await parked()).some((p) => p.parkee_unique_id === a), 10000, 'a parked');
  const b = await park('1');
  await eventually(async () => (await parked()).some((p) => p.parkee_unique_id === b), 10000, 'b parked');
  assert.ok(await parkedMatchAsterisk());
  // the caller's side (;1, running Wait) hangs up: the parked half gives up
  await bed.gateway.ami.action('Hangup', {
    Channel: (await parked()).find((p) => p.parkee_unique_id === a)!.parkee_channel.replace(/;2$/, ';1'),
  });
  await eventually(async () => !(await parked()).some((p) => p.parkee_unique_id === a), 10000, 'a gave up');
  assert.ok(
    bus.some((m) => m.type === 'park.parkedcall.giveup' && (m.data as { parkee_unique_id: string }).parkee_unique_id === a),
    'give-up event seen',
  );
  assert.ok(await parkedMatchAsterisk());
  const rest = await parked();
  assert.equal(rest.length, 1);
  assert.equal(rest[0]!.parkee_unique_id, b);
  await bed.api.del(`/v1/admin/park/parkedcalls/${b}`);
  await eventually(async () => (await parked()).length === 0, 10000, 'all gone');
});

test('PUT and DELETE of a lot edit res_parking.conf, reload, and the lot comes and goes in Asterisk', { skip }, async () => {
  const put = await bed.api.put('/v1/admin/park/parkinglots/gwtest_lot', {
    context: '> gw-park-test',
    parkpos: '> 901-905',
    findslot: '> next',
    comebacktoorigin: 'no',
    comebackdialtime: '90',
    parkingtime: 30,
  });
  assert.equal(put.status, 200, put.text);
  assert.equal(put.body.result.reload.status, 'done', put.text);
  let text = conf();
  assert.match(text, /^\[gwtest_lot\]$/m);
  assert.match(text, /^context => gw-park-test$/m);
  assert.match(text, /^parkpos => 901-905$/m);
  assert.match(text, /^comebacktoorigin = no$/m);
  assert.match(text, /^parkingtime = 30$/m);
  assert.match(text, /^; hand-written by the admin: keep me$/m, 'comments survive');
  await eventually(async () => (await bed.api.get('/v1/admin/park/parkinglots/gwtest_lot')).status === 200, 5000, 'lot live');
  const lot = (await bed.api.get('/v1/admin/park/parkinglots/gwtest_lot')).body.result;
  assert.equal(lot.start_space, '901');
  assert.equal(lot.stop_spcae, '905');
  assert.equal(lot.stop_space, '905');
  assert.equal(lot.timeout, 30);
  let theirs = (await bed.gateway.ami.list('Parkinglots')).events.find((m) => m.fields.Name === 'gwtest_lot');
  assert.ok(theirs, 'Asterisk has the lot');
  assert.equal(theirs.fields.StartSpace, '901');

  // PUT again: changed keys are rewritten in place, missing ones are dropped
  const put2 = await bed.api.put('/v1/admin/park/parkinglots/gwtest_lot', { context: 'gw-park-test', parkpos: '901-903', parkingtime: 40 });
  assert.equal(put2.status, 200, put2.text);
  text = conf();
  assert.match(text, /^context => gw-park-test$/m, 'the op already used stays');
  assert.match(text, /^parkpos => 901-903$/m);
  assert.doesNotMatch(text, /comebackdialtime/);
  await eventually(
    async () => (await bed.api.get('/v1/admin/park/parkinglots/gwtest_lot')).body.result?.stop_space === '903',
    5000,
    'lot updated',
  );
  assert.equal((await bed.api.get('/v1/admin/park/parkinglots/gwtest_lot')).body.result.timeout, 40);

  const del = await bed.api.del('/v1/admin/park/parkinglots/gwtest_lot');
  assert.equal(del.status, 200, del.text);
  assert.equal(del.body.result.parkinglot, null, 'the answer shows the lot gone');
  const edits = bus
    .filter((m) => m.type.startsWith('park.parkinglot.') && (m.data as { name: string }).name === 'gwtest_lot')
    .map((m) => m.type);
  assert.deepEqual(edits, ['park.parkinglot.updated', 'park.parkinglot.updated', 'park.parkinglot.deleted']);
  assert.doesNotMatch(conf(), /gwtest_lot/);
  assert.match(conf(), /^\[gwlot\]$/m, 'other lots stay');
  await eventually(async () => (await bed.api.get('/v1/admin/park/parkinglots/gwtest_lot')).status === 404, 5000, 'lot gone');
  theirs = (await bed.gateway.ami.list('Parkinglots')).events.find((m) => m.fields.Name === 'gwtest_lot');
  assert.equal(theirs, undefined, 'Asterisk no longer has the lot');
});

test('bad input: unknown lot or parked call is 404, bad values and CR/LF are 400, and no file changes', { skip }, async () => {
  const before = conf();
  const lotsBefore = (await bed.api.get('/v1/admin/park/parkinglots')).body.result.list.map((l: { name: string }) => l.name).sort();
  const cases: [string, Promise<{ status: number; text: string }>, number][] = [
    ['GET unknown lot', bed.api.get('/v1/admin/park/parkinglots/no_such_lot'), 404],
    ['DELETE unknown lot', bed.api.del('/v1/admin/park/parkinglots/no_such_lot'), 404],
    ['GET unknown parked call', bed.api.get('/v1/admin/park/parkedcalls/1234.5678'), 404],
    ['DELETE unknown parked call', bed.api.del('/v1/admin/park/parkedcalls/1234.5678'), 404],
    ['PUT unknown option', bed.api.put('/v1/admin/park/parkinglots/gwlot', { parkpos: '801-810', colour: 'blue' }), 400],
    ['PUT bad parkpos', bed.api.put('/v1/admin/park/parkinglots/gwlot', { parkpos: 'eight hundred' }), 400],
    ['PUT bad parkingtime', bed.api.put('/v1/admin/park/parkinglots/gwlot', { parkingtime: 'soon' }), 400],
    ['PUT CR/LF in a value', bed.api.put('/v1/admin/park/parkinglots/gwlot', { context: 'x\r\n[evil]' }), 400],
    ['PUT LF in a value', bed.api.put('/v1/admin/park/parkinglots/gwlot', { parkpos: '801-810\nparkext => 1' }), 400],
    ['PUT CR/LF in the name', bed.api.put('/v1/admin/park/parkinglots/a%0D%0Ab', { parkpos: '801-810' }), 400],
    ['PUT [general]', bed.api.put('/v1/admin/park/parkinglots/general', { parkpos: '801-810' }), 400],
    ['PUT bracket in the name', bed.api.put('/v1/admin/park/parkinglots/a%5Db', { parkpos: '801-810' }), 400],
    ['PUT not an object', bed.api.put('/v1/admin/park/parkinglots/gwlot', '[1,2]'), 400],
    ['PUT nothing', bed.api.put('/v1/admin/park/parkinglots/gwlot', {}), 400],
    ['PUT malformed JSON', bed.api.put('/v1/admin/park/parkinglots/gwlot', '{"parkpos": '), 400],
    ['DELETE [general]', bed.api.del('/v1/admin/park/parkinglots/general'), 400],
    ['GET CR/LF parked call', bed.api.get('/v1/admin/park/parkedcalls/a%0Ab'), 400],
  ];
  for (const [what, p, want] of cases) {
    const a = await p;
    assert.equal(a.status, want, `${what}: ${a.text}`);
  }
  const unknown = await bed.api.put('/v1/admin/park/parkinglots/gwlot', { parkpos: '801-810', colour: 'blue' });
  assert.deepEqual([unknown.body.result.message, unknown.body.result.code], ['colour: unknown field', 'unknown_field']);
  const badPos = await bed.api.put('/v1/admin/park/parkinglots/gwlot', { parkpos: 'eight hundred' });
  assert.deepEqual(
    [badPos.body.result.message, badPos.body.result.field],
    ['parkpos: "eight hundred" must be a range of spaces such as 701-720', 'parkpos'],
  );
  assert.equal(conf(), before, 'res_parking.conf unchanged');
  const lotsAfter = (await bed.gateway.ami.list('Parkinglots')).events
    .filter((m) => m.fields.Event === 'Parkinglot')
    .map((m) => m.fields.Name)
    .sort();
  assert.deepEqual(lotsAfter, lotsBefore, "Asterisk's lots unchanged");
});

test('after kill -9 and a restart of Asterisk the park state resyncs and matches Asterisk again', { skip }, async () => {
  const id = await park('1');
  await eventually(async () => (await parked()).some((p) => p.parkee_unique_id === id), 10000, 'call parked');
  await bed.asterisk.kill9();
  await eventually(async () => (await bed.api.get('/v1/admin/park/parkedcalls')).status === 503, 10000, '503 while AMI is down');
  await bed.asterisk.restart();
  await eventually(async () => (await bed.api.get('/v1/admin/park/parkedcalls')).status === 200, 30000, 'live again');
  assert.ok(await parkedMatchAsterisk());
  assert.equal((await parked()).length, 0, 'the call parked before the crash is gone');
  const id2 = await park('1');
  await eventually(async () => (await parked()).some((p) => p.parkee_unique_id === id2), 10000, 'new call parked');
  assert.ok(await parkedMatchAsterisk());
  const lots = (await bed.api.get('/v1/admin/park/parkinglots')).body.result.list.map((l: { name: string }) => l.name).sort();
  const theirs = (await bed.gateway.ami.list('Parkinglots')).events
    .filter((m) => m.fields.Event === 'Parkinglot')
    .map((m) => m.fields.Name)
    .sort();
  assert.deepEqual(lots, theirs);
  await bed.api.del(`/v1/admin/park/parkedcalls/${id2}`);
  await eventually(async () => (await parked()).length === 0, 10000, 'all gone');
});
