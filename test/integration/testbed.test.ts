// Proves the Asterisk test bed (test/asterisk/testbed.ts): a real Asterisk 22 starts, AMI answers, and every test
// context, queue, parking lot and agent works, using a raw AMI socket (independent of core/ami).
//
// Run: node --import tsx --test test/integration/testbed.test.ts
// Without root or without the chroot the tests are skipped with the reason; with CI=true they fail instead.
import { test, before, after, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { AsteriskTestbed, RawAmi, TESTBED, type AmiMessage } from '../asterisk/testbed.ts';

const CI = process.env.CI === 'true';
/** Per-test timeout: bun test's default is 5 s (and it then kills the test's child processes, Asterisk included). */
const T = 60_000;
const bed = new AsteriskTestbed();
let ami: RawAmi | undefined;
let skipReason: string | undefined;

before(
  async () => {
    const avail = AsteriskTestbed.available();
    try {
      if (!avail.ok) throw new Error(avail.reason);
      await bed.start();
      ami = await bed.ami();
    } catch (e) {
      const msg = `Asterisk test bed could not start: ${(e as Error).message}`;
      if (CI) throw new Error(msg);
      skipReason = msg;
    }
  },
  { timeout: 20 * 60_000 },
); // start() may first wait for another test file's bed on the same chroot

after(
  async () => {
    ami?.close();
    await bed.stop();
  },
  { timeout: T },
);

function skipped(t: TestContext): boolean {
  if (skipReason === undefined) return false;
  t.skip(skipReason);
  return true;
}

function conn(): RawAmi {
  assert.ok(ami, 'no AMI connection');
  return ami;
}

/** Async Originate of a Local channel whose ;1 side runs Wait(600); resolves with the OriginateResponse. */
async function originate(channel: string): Promise<AmiMessage> {
  const a = conn();
  const r = await a.send({ Action: 'Originate', Channel: channel, Application: 'Wait', Data: '600', Async: 'true' });
  assert.equal(r.Response, 'Success', `Originate ${channel}: ${r.Message}`);
  // includePast: the event can arrive in the same packet as the response, before this line runs
  const ev = await a.waitEvent((m) => m.Event === 'OriginateResponse' && m.ActionID === r.ActionID, 15_000, { includePast: true });
  assert.equal(ev.Response, 'Success', `OriginateResponse for ${channel}: ${JSON.stringify(ev)}`);
  return ev;
}

/** Retry an assertion until it passes (state that AMI updates asynchronously, e.g. after a hangup). */
async function eventually(check: () => Promise<void>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** Hang up every channel whose name starts with prefix, and wait until they are gone (Hangup is asynchronous). */
async function hangupLike(prefix: string): Promise<void> {
  const a = conn();
  const re = prefix.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  const { events } = await a.list({ Action: 'Hangup', Channel: `/^${re}/` });
  for (const e of events) {
    await a.waitEvent((m) => m.Event === 'Hangup' && m.Channel === e.Channel, 10_000, { includePast: true });
  }
}

test('AMI answers: login, banner, CoreSettings says Asterisk 22', { timeout: T }, async (t) => {
  if (skipped(t)) return;
  const a = conn();
  assert.match(a.banner, /^Asterisk Call Manager\/\d+/);
  const s = await a.send({ Action: 'CoreSettings' });
  assert.equal(s.Response, 'Success');
  assert.match(s.AsteriskVersion ?? '', /^22\./);
  t.diagnostic(`Asterisk ${s.AsteriskVersion}, AMI ${s.AMIversion}, FullyBooted ${bed.lastStartMs} ms after spawn, pid ${bed.pid}`);
  const pong = await a.send({ Action: 'Ping' });
  assert.equal(pong.Ping, 'Pong');
  assert.match(await bed.cli('core show version'), /^Asterisk 22\./);
});

test('the config files written by start() carry the hand-written comment', { timeout: T }, (t) => {
  if (skipped(t)) return;
  for (const f of [
    'manager.conf',
    'modules.conf',
    'extensions.conf',
    'queues.conf',
    'res_parking.conf',
    'agents.conf',
    'features.conf',
    'pjsip.conf',
  ]) {
    const text = fs.readFileSync(path.join(bed.configDir, f), 'utf8');
    assert.match(text, /^; hand-written by the admin: keep me$/m, f);
  }
  // restored from the pristine copy: a packaged file we do not write is byte-identical to asterisk.dist
  const dist = fs.readFileSync(path.join(bed.chroot, 'etc/asterisk.dist/rtp.conf'), 'utf8');
  assert.equal(fs.readFileSync(path.join(bed.configDir, 'rtp.conf'), 'utf8'), dist);
});

test(`${TESTBED.contexts.wait}: an originated Local channel shows in CoreShowChannels`, { timeout: T }, async (t) => {
  if (skipped(t)) return;
  const ev = await originate(`Local/1234@${TESTBED.contexts.wait}`);
  assert.match(ev.Channel ?? '', /^Local\/1234@gw-test-wait-[0-9a-f]{8};1$/);
  const { events, complete } = await conn().list({ Action: 'CoreShowChannels' });
  const mine = events.filter((e) => e.Channel?.startsWith('Local/1234@gw-test-wait-'));
  assert.equal(mine.length, 2, JSON.stringify(events));
  const two = mine.find((e) => e.Channel!.endsWith(';2'))!;
  assert.equal(two.ChannelStateDesc, 'Up');
  assert.equal(two.Context, 'gw-test-wait');
  assert.equal(complete?.EventList, 'Complete');
  await hangupLike('Local/1234@gw-test-wait-');
  await eventually(async () => {
    const after = await conn().list({ Action: 'CoreShowChannels' });
    assert.equal(after.events.filter((e) => e.Channel?.startsWith('Local/1234@gw-test-wait-')).length, 0);
  });
});

test(`${TESTBED.contexts.park}: parks in lot default, and in lot gwlot which times out after 8 s`, { timeout: T }, async (t) => {
  if (skipped(t)) return;
  const a = conn();
  const lots = await a.list({ Action: 'Parkinglots' });
  const byName = new Map(lots.events.map((e) => [e.Name, e]));
  assert.equal(byName.get('default')?.StartSpace, '701');
  assert.equal(byName.get('default')?.StopSpace, '720');
  assert.equal(byName.get('default')?.Timeout, '45');
  assert.equal(byName.get('gwlot')?.StartSpace, '801');
  assert.equal(byName.get('gwlot')?.Timeout, '8');

  const parkedDefault = a.waitEvent(
    (m) => m.Event === 'ParkedCall' && m.ParkeeChannel?.startsWith('Local/1@gw-test-park-') === true,
    10_000,
  );
  await originate(`Local/1@${TESTBED.contexts.park}`); // one digit: the patterns are _X! / _[a-z]!
  const p1 = await parkedDefault;
  assert.equal(p1.Parkinglot, 'default');
  assert.equal(p1.ParkingSpace, '701');

  const parkedGw = a.waitEvent(
    (m) => m.Event === 'ParkedCall' && m.ParkeeChannel?.startsWith('Local/gwlot@gw-test-park-') === true,
    10_000,
  );
  await originate(`Local/gwlot@${TESTBED.contexts.park}`);
  const p2 = await parkedGw;
  assert.equal(p2.Parkinglot, 'gwlot');
  assert.equal(p2.ParkingSpace, '801');
  const timedOut = a.waitEvent((m) => m.Event === 'ParkedCallTimeOut' && m.Parkinglot === 'gwlot', 20_000);

  const list = await a.list({ Action: 'ParkedCalls' });
  const parked = new Map(list.events.map((e) => [e.Parkinglot, e]));
  assert.equal(parked.get('default')?.ParkingSpace, '701', JSON.stringify(list.events));
  assert.equal(parked.get('gwlot')?.ParkingSpace, '801');
  const onlyDefault = await a.list({ Action: 'ParkedCalls', ParkingLot: 'default' });
  assert.deepEqual(
    onlyDefault.events.map((e) => e.ParkingSpace),
    ['701'],
  );

  const to = await timedOut;
  assert.equal(to.ParkingSpace, '801');
  // comebacktoorigin=no sends it to gw-parked-timeout, which hangs up
  await a.waitEvent((m) => m.Event === 'Hangup' && m.Channel === p2.ParkeeChannel, 10_000, { includePast: true });
  await hangupLike('Local/1@gw-test-park-');
  await eventually(async () => {
    const left = await a.list({ Action: 'ParkedCalls' });
    assert.equal(left.events.length, 0, JSON.stringify(left.events));
  });
});

test(`${TESTBED.contexts.queue}: a caller waits in gwq-hold (QueueEntry), and gwq connects to its static member`, {
  timeout: T,
}, async (t) => {
  if (skipped(t)) return;
  const a = conn();
  const joined = a.waitEvent((m) => m.Event === 'QueueCallerJoin' && m.Queue === 'gwq-hold', 10_000);
  await originate(`Local/gwq-hold@${TESTBED.contexts.queue}`);
  await joined;
  const st = await a.list({ Action: 'QueueStatus', Queue: 'gwq-hold' });
  const entries = st.events.filter((e) => e.Event === 'QueueEntry');
  assert.equal(entries.length, 1, JSON.stringify(st.events));
  assert.equal(entries[0]!.Position, '1');
  assert.match(entries[0]!.Channel ?? '', /^Local\/gwq-hold@gw-test-queue-[0-9a-f]{8};2$/);

  const gwq = await a.list({ Action: 'QueueStatus', Queue: 'gwq' });
  const params = gwq.events.find((e) => e.Event === 'QueueParams')!;
  assert.equal(params.Strategy, 'ringall');
  const member = gwq.events.find((e) => e.Event === 'QueueMember')!;
  assert.equal(member.Name, TESTBED.staticMember.name);
  assert.equal(member.Location, TESTBED.staticMember.interface);
  assert.equal(member.Membership, 'static');

  const connected = a.waitEvent((m) => m.Event === 'AgentConnect' && m.Queue === 'gwq', 15_000);
  await originate(`Local/gwq@${TESTBED.contexts.queue}`);
  const c = await connected;
  assert.equal(c.MemberName, TESTBED.staticMember.name);
  assert.equal(c.Interface, TESTBED.staticMember.interface);

  await hangupLike('Local/gwq-hold@gw-test-queue-');
  await hangupLike('Local/gwq@gw-test-queue-');
  await hangupLike('Local/100@gw-test-member-');
});

test(`${TESTBED.contexts.agent}: agent 2001 logs in (AGENT_IDLE) and takes a gwq-agents call (AGENT_ONCALL)`, { timeout: T }, async (t) => {
  if (skipped(t)) return;
  const a = conn();
  const agents = async () => new Map((await a.list({ Action: 'Agents' })).events.map((e) => [e.Agent, e]));
  const before = await agents();
  assert.equal(before.get('2001')?.Name, 'Agent One');
  assert.equal(before.get('2001')?.Status, 'AGENT_LOGGEDOFF');
  assert.equal(before.get('2002')?.Name, 'Agent Two');

  const login = a.waitEvent((m) => m.Event === 'AgentLogin' && m.Agent === '2001', 10_000);
  await originate(`Local/2001@${TESTBED.contexts.agent}`);
  await login;
  const idle = (await agents()).get('2001')!;
  assert.equal(idle.Status, 'AGENT_IDLE');
  assert.match(idle.Channel ?? '', /^Local\/2001@gw-test-agent-[0-9a-f]{8};2$/);

  // app_agent_pool keeps a new login on probation for 5 s (LOGIN_WAIT_TIMEOUT_TIME, for Local channel
  // optimisation): Agents says AGENT_IDLE at once, but Agent:2001 turns NOT_INUSE (callable) only then.
  await a.waitEvent((m) => m.Event === 'DeviceStateChange' && m.Device === 'Agent:2001' && m.State === 'NOT_INUSE', 10_000, {
    includePast: true,
  });
  const connected = a.waitEvent((m) => m.Event === 'AgentConnect' && m.Queue === 'gwq-agents', 15_000);
  await originate(`Local/gwq-agents@${TESTBED.contexts.queue}`);
  const c = await connected;
  assert.equal(c.MemberName, 'Agent One');
  assert.equal(c.Interface, 'Local/2001@gw-agent-req/n');
  const oncall = (await agents()).get('2001')!;
  assert.equal(oncall.Status, 'AGENT_ONCALL', JSON.stringify(oncall));
  assert.ok(oncall.TalkingToChan, JSON.stringify(oncall));
  assert.match(oncall.CallStarted ?? '', /^\d+$/); // its line ends in a bare \n on the wire

  await hangupLike('Local/gwq-agents@gw-test-queue-');
  const logoff = await a.send({ Action: 'AgentLogoff', Agent: '2001' });
  assert.equal(logoff.Response, 'Success', JSON.stringify(logoff));
  await a.waitEvent((m) => m.Event === 'AgentLogoff' && m.Agent === '2001', 10_000, { includePast: true });
  await eventually(async () => assert.equal((await agents()).get('2001')?.Status, 'AGENT_LOGGEDOFF'));
  await hangupLike('Local/2001@gw-test-agent-');
  await hangupLike('Local/2001@gw-agent-req-');
});

test('pjsip.conf: endpoint gw-ep1 and the UDP transport on 127.0.0.1:15060', { timeout: T }, async (t) => {
  if (skipped(t)) return;
  const { events } = await conn().list({ Action: 'PJSIPShowEndpoints' });
  assert.deepEqual(
    events.map((e) => e.ObjectName),
    ['gw-ep1'],
  );
  assert.equal(events[0]!.Transport, 'gw-udp');
  assert.match(await bed.cli('pjsip show transports'), /gw-udp\s+udp\s+\d+\s+\d+\s+127\.0\.0\.1:15060/);
});

test('kill9() then restart(): AMI answers again, configs untouched', { timeout: T }, async (t) => {
  if (skipped(t)) return;
  const a = conn();
  const oldPid = bed.pid;
  assert.ok(oldPid);
  // an edit on disk that restart() must keep (start() would restore the packaged configs)
  const queues = path.join(bed.configDir, 'queues.conf');
  fs.appendFileSync(queues, '\n; added before the crash\n[gwq-extra]\nstrategy = linear\n');
  const snapshot = new Map(
    fs
      .readdirSync(bed.configDir)
      .filter((f) => f.endsWith('.conf'))
      .map((f) => [f, fs.readFileSync(path.join(bed.configDir, f), 'utf8')]),
  );

  await bed.kill9();
  assert.equal(bed.pid, undefined);
  assert.throws(() => process.kill(oldPid, 0), /ESRCH/);
  await a.waitClosed(5_000);
  await assert.rejects(RawAmi.connect(bed.amiPort, '127.0.0.1', 1000));

  await bed.restart();
  assert.ok(bed.pid && bed.pid !== oldPid);
  t.diagnostic(`restart: FullyBooted ${bed.lastStartMs} ms after spawn`);
  ami = await bed.ami();
  const pong = await ami.send({ Action: 'Ping' });
  assert.equal(pong.Ping, 'Pong');
  for (const [f, text] of snapshot) assert.equal(fs.readFileSync(path.join(bed.configDir, f), 'utf8'), text, `${f} changed`);
  const extra = await ami.list({ Action: 'QueueStatus', Queue: 'gwq-extra' });
  assert.equal(extra.events.find((e) => e.Event === 'QueueParams')?.Strategy, 'linear');
  // and calls work again
  await originate(`Local/1234@${TESTBED.contexts.wait}`);
  await hangupLike('Local/1234@gw-test-wait-');
});
