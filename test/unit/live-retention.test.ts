// What live state retains (issue 9, the scale soak's heap growth): the AMI parser hands out values as substrings of
// the text it decoded (a few KiB at a time), and both engines keep a substring as a view that pins that text. A
// channel or queue caller kept from an event must not keep the event's text alive: else, as churn replaces channels,
// each new one pins the piece of text it came in and the heap grows with every replaced channel (34 -> 46 MB over
// 120 s in the soak). Each event here comes in a chunk of its own with 8 KB of other text after it, so a kept view
// costs 8 KB a channel, which a heap measure after a full garbage collection tells from the ~1 KB a channel costs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import v8 from 'node:v8';
import vm from 'node:vm';
import { own } from '../../core/ami/message.ts';
import { AmiParser } from '../../core/ami/parser.ts';
import { CoreState } from '../../plugins/core/state.ts';
import { QueueState } from '../../plugins/queue/state.ts';

declare const Bun: { gc(force: boolean): void } | undefined;
let gcFn: (() => void) | undefined;
/** Bytes in use after full garbage collections. */
function retained(): number {
  for (let i = 0; i < 3; i++) {
    if (typeof Bun !== 'undefined') Bun.gc(true);
    else {
      if (!gcFn) {
        v8.setFlagsFromString('--expose-gc');
        gcFn = vm.runInNewContext('gc') as () => void;
      }
      gcFn();
    }
  }
  return process.memoryUsage().heapUsed;
}

const N = 2000;
/** What each event is followed by in its chunk: text nobody keeps, parsed in the same piece. */
const PADDING = `Event: Padding\r\nPrivilege: call,all\r\nText: ${'x'.repeat(8000)}\r\n\r\n`;
const uid = (n: number) => `1700000000.${n}`;
const block = (n: number, state = '6\r\nChannelStateDesc: Up') =>
  `Channel: PJSIP/trunk-${n.toString(16).padStart(8, '0')}\r\nChannelState: ${state}\r\nCallerIDNum: ${100000 + n}\r\n` +
  `CallerIDName: Retention test caller ${n}\r\nConnectedLineNum: <unknown>\r\nConnectedLineName: <unknown>\r\n` +
  `Language: en\r\nAccountCode: \r\nContext: from-trunk-retention\r\nExten: ${2000 + n}\r\nPriority: 1\r\n` +
  `Uniqueid: ${uid(n)}\r\nLinkedid: ${uid(n)}\r\n`;
const newchannel = (n: number) => `Event: Newchannel\r\nPrivilege: call,all\r\n${block(n)}\r\n`;
const newexten = (n: number) =>
  `Event: Newexten\r\nPrivilege: dialplan,all\r\n${block(n, '4\r\nChannelStateDesc: Ring')}` +
  `Extension: ${2000 + n}\r\nApplication: Queue\r\nAppData: support-queue-${n},t,,,300\r\n\r\n`;
const varset = (n: number) =>
  `Event: VarSet\r\nPrivilege: dialplan,all\r\n${block(n)}Variable: RETENTION_TEST\r\nValue: some value ${n}\r\n\r\n`;
const hangup = (n: number) => `Event: Hangup\r\nPrivilege: call,all\r\n${block(n)}Cause: 16\r\nCause-txt: Normal Clearing\r\n\r\n`;
const join = (n: number) =>
  `Event: QueueCallerJoin\r\nPrivilege: agent,all\r\n${block(n)}Queue: support-${n % 10}\r\nPosition: ${Math.floor(n / 10) + 1}\r\n` +
  `Count: ${Math.floor(n / 10) + 1}\r\n\r\n`;
const leave = (n: number) =>
  `Event: QueueCallerLeave\r\nPrivilege: agent,all\r\n${block(n)}Queue: support-${n % 10}\r\nPosition: 1\r\nCount: 0\r\n\r\n`;

/** A parser feeding the core and queue states the way their plugins do. */
function live() {
  const core = new CoreState();
  const queue = new QueueState();
  const parser = new AmiParser((m) => {
    switch (m.fields.Event) {
      case 'Newchannel':
      case 'Newstate':
      case 'Newexten':
        core.upsertChannel(m);
        break;
      case 'VarSet':
        core.setVariable(m);
        break;
      case 'Hangup':
        core.hangup(m);
        break;
      case 'QueueCallerJoin':
        queue.join(m);
        break;
      case 'QueueCallerLeave':
        queue.leave(m);
        break;
    }
  });
  /** Every event in a chunk of its own, followed by the padding. */
  const alone = (text: string) => parser.push(Buffer.from(text + PADDING, 'latin1'));
  /** All in one chunk, as a burst comes. */
  const together = (texts: string[]) => parser.push(Buffer.from(texts.join(''), 'latin1'));
  return { core, queue, alone, together };
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;

test('own() copies a value: equal, and so it is for every length and for text outside latin1', () => {
  for (const s of ['', 'a', 'Up', 'PJSIP/trunk-00000001', 'Ünïcödé caller 名前 😀', 'x'.repeat(5000)]) {
    const text = `Key: ${s}\r\n`;
    assert.equal(own(text.slice(5, 5 + s.length)), s);
  }
});

test(`a live channel keeps none of the text its events came in (${N} channels, each event alone in ${kb(PADDING.length)})`, () => {
  const s = live();
  const before = retained();
  for (let n = 0; n < N; n++) s.alone(newchannel(n));
  for (let n = 0; n < N; n++) s.alone(newexten(n)); // changes state, context, application, application data
  for (let n = 0; n < N; n++) s.alone(varset(n));
  const perChannel = (retained() - before) / N;
  assert.equal(s.core.channels.size, N);
  const c = s.core.channels.get(uid(7))!;
  assert.equal(c.application_data, 'support-queue-7,t,,,300');
  assert.equal(c.variables.RETENTION_TEST, 'some value 7');
  assert.ok(perChannel < 3 * 1024, `a channel retains ${kb(perChannel)}: the text of its events is kept alive`);
});

test(`a waiting queue caller keeps none of the text its event came in (${N} callers)`, () => {
  const s = live();
  const before = retained();
  for (let n = 0; n < N; n++) s.alone(join(n));
  const perCaller = (retained() - before) / N;
  assert.equal(s.queue.entries.size, N);
  assert.equal(s.queue.entries.get(uid(7))!.queue_name, 'support-7');
  assert.ok(perCaller < 3 * 1024, `a caller retains ${kb(perCaller)}: the text of its event is kept alive`);
});

test(`replacing every channel and caller does not grow the heap (${N} channels, ${N / 4} of them callers)`, () => {
  const s = live();
  // the start: every channel and caller in one burst, dense in the text
  const first: string[] = [];
  for (let n = 0; n < N; n++) first.push(newchannel(n), ...(n < N / 4 ? [join(n)] : []));
  s.together(first);
  const loaded = retained();
  // churn: each channel (and caller) replaced by a new one, the events of each replacement alone in their chunk
  for (let n = 0; n < N; n++) {
    const fresh = N + n;
    s.alone(newchannel(fresh) + (n < N / 4 ? join(fresh) + leave(n) : '') + hangup(n));
  }
  const churned = retained();
  assert.equal(s.core.channels.size, N);
  assert.equal(s.queue.entries.size, N / 4);
  assert.ok(s.core.channels.has(uid(2 * N - 1)) && !s.core.channels.has(uid(N - 1)));
  assert.ok(
    churned - loaded < N * 1024,
    `the heap grew by ${kb(churned - loaded)} while the same number of channels and callers stayed live`,
  );
});
