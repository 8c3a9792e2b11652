import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AmiParser, MAX_MESSAGE_BYTES } from '../../core/ami/parser.ts';
import { header, values, type AmiMessage } from '../../core/ami/message.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const recording = readFileSync(path.resolve(repoRoot, 'test', 'fixtures', 'ami', 'ami-recording-asterisk22.txt'));

interface Parsed {
  messages: AmiMessage[];
  banners: string[];
}

function parseChunks(chunks: Iterable<Buffer>): Parsed {
  const messages: AmiMessage[] = [];
  const banners: string[] = [];
  const parser = new AmiParser(
    (m) => messages.push(m),
    (v) => banners.push(v),
  );
  for (const chunk of chunks) parser.push(chunk);
  return { messages, banners };
}

function parseText(...pieces: Array<string | Buffer>): AmiMessage[] {
  return parseChunks(pieces.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : p))).messages;
}

function* pieces(data: Buffer, sizeOf: () => number): Generator<Buffer> {
  for (let offset = 0; offset < data.length; ) {
    const size = sizeOf();
    yield data.subarray(offset, offset + size);
    offset += size;
  }
}

/** Deterministic PRNG, so a failing random split can be replayed. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 0x100000000;
  };
}

/** Plain objects, so comparisons do not depend on the parser's internal prototypes. */
function plain(m: AmiMessage): { fields: Record<string, string>; multi?: Record<string, string[]> } {
  return m.multi === undefined ? { fields: { ...m.fields } } : { fields: { ...m.fields }, multi: { ...m.multi } };
}

const whole = parseChunks([recording]);

test('recording: banner, 7,870 events plus the login response, per-name counts from the README', () => {
  assert.deepEqual(whole.banners, ['11.0.0']);
  assert.equal(whole.messages.length, 7871);
  const first = whole.messages[0] as AmiMessage;
  assert.deepEqual(plain(first), { fields: { Response: 'Success', Message: 'Authentication accepted' } });

  const counts = new Map<string, number>();
  for (const m of whole.messages) {
    const name = m.fields.Event;
    if (name !== undefined) counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  assert.equal(
    [...counts.values()].reduce((a, b) => a + b, 0),
    7870,
  );
  const expected: Record<string, number> = {
    DeviceStateChange: 1094,
    VarSet: 966,
    Newexten: 720,
    SoftHangupRequest: 599,
    Newchannel: 480,
    NewCallerid: 480,
    NewConnectedLine: 480,
    Newstate: 480,
    Hangup: 480,
    TestEvent: 423,
    LocalBridge: 240,
    DialBegin: 240,
    DialEnd: 240,
    OriginateResponse: 240,
    HangupRequest: 240,
    BridgeEnter: 67,
    BridgeLeave: 67,
    QueueCallerJoin: 65,
    QueueCallerAbandon: 65,
    QueueCallerLeave: 65,
    ParkedCall: 61,
    ParkedCallGiveUp: 61,
    AgentLogin: 6,
    AgentLogoff: 6,
  };
  for (const [name, count] of Object.entries(expected)) assert.equal(counts.get(name), count, name);
});

test('recording: every header line becomes exactly one value, Jörg included', () => {
  const text = recording.toString('utf8');
  const lines = text.split('\r\n');
  const headerLines = lines.filter((line) => line.includes(': '));
  let valueCount = 0;
  let jorgValues = 0;
  for (const m of whole.messages) {
    for (const key of Object.keys(m.fields)) {
      const all = values(m, key);
      valueCount += all.length;
      jorgValues += all.filter((v) => v.includes('Jörg')).length;
    }
  }
  assert.equal(valueCount, headerLines.length);
  assert.equal(jorgValues, headerLines.filter((line) => line.includes('Jörg')).length);
  assert.ok(jorgValues > 10_000);
  assert.ok(!text.includes('\uFFFD'));

  // Repeated keys on the wire (TestEvent repeats State) land in multi, in order.
  const testEvent = whole.messages.find((m) => m.fields.Event === 'TestEvent' && m.multi !== undefined);
  assert.ok(testEvent);
  assert.deepEqual(values(testEvent, 'State'), [testEvent.fields.State, testEvent.fields.State]);

  const originate = whole.messages.find((m) => m.fields.Event === 'OriginateResponse') as AmiMessage;
  assert.equal(originate.fields.Response, 'Success');
  assert.match(originate.fields.ActionID ?? '', /^ceo-\d+$/);
  assert.match(originate.fields.CallerIDName ?? '', /^Caller \d+-\d+ Jörg$/);
  assert.equal(originate.multi, undefined);
  assert.ok(!('multi' in originate));
});

test('recording: 1-byte pieces give the identical message list', () => {
  const oneByte = parseChunks(pieces(recording, () => 1));
  assert.deepEqual(oneByte.banners, whole.banners);
  assert.equal(oneByte.messages.length, whole.messages.length);
  assert.deepEqual(oneByte.messages.map(plain), whole.messages.map(plain));
});

test('recording: random-size pieces (1 B .. 96 KiB) give the identical message list', () => {
  for (const seed of [1, 2, 3]) {
    const random = prng(seed);
    const sizes = [7, 300, 4096, 98304];
    const split = parseChunks(pieces(recording, () => 1 + Math.floor(random() * (sizes[Math.floor(random() * sizes.length)] as number))));
    assert.equal(split.messages.length, whole.messages.length, `seed ${seed}`);
    assert.deepEqual(split.messages.map(plain), whole.messages.map(plain), `seed ${seed}`);
  }
});

test('UTF-8 everywhere a message can hold it: learned and generic events, keys, repeated keys, neighbours untouched', () => {
  // bytes are decoded as latin1 and only messages holding a byte >= 0x80 are turned into UTF-8: each path checked
  const text =
    'Event: Newchannel\r\nChannel: PJSIP/a\r\nCallerIDName: plain\r\n\r\n' + // learns the shape
    'Event: Newchannel\r\nChannel: PJSIP/ö\r\nCallerIDName: Jörg € 😀\r\n\r\n' + // the learned shape, UTF-8 values
    'Event: Newchannel\r\nChannel: PJSIP/b\r\nCallerIDName: ascii\r\n\r\n' + // after it in the same piece
    'Event: VarSet\r\nVariable: Ünal\r\nVariable: x\r\nVariable: 😀\r\n\r\n' + // repeated key, generic
    'Event: Odd\r\nSchlüssel: Wert ä\r\n\r\n'; // a non-ASCII key
  for (const cut of [0, 40, 60, 75, 120, 140, 170, 200]) {
    const bytes = Buffer.from(text, 'utf8');
    const ms = parseText(bytes.subarray(0, cut), bytes.subarray(cut));
    assert.deepEqual(
      ms.map((m) => m.fields.CallerIDName ?? m.fields.Variable ?? m.fields['Schlüssel']),
      ['plain', 'Jörg € 😀', 'ascii', 'Ünal', 'Wert ä'],
      `cut at ${cut}`,
    );
    assert.equal(ms[1]?.fields.Channel, 'PJSIP/ö');
    assert.deepEqual(ms[3]?.multi?.Variable, ['Ünal', 'x', '😀']);
    assert.deepEqual(Object.keys(ms[4]?.fields ?? {}), ['Event', 'Schlüssel']);
  }
});

test('UTF-8 characters split across chunks at every byte position decode intact', () => {
  const message = Buffer.from('Event: Newchannel\r\nCallerIDName: Jörg € 😀 Ünal\r\n\r\n', 'utf8');
  for (let cut = 1; cut < message.length; cut++) {
    const [m] = parseText(message.subarray(0, cut), message.subarray(cut));
    assert.equal(m?.fields.CallerIDName, 'Jörg € 😀 Ünal', `cut at ${cut}`);
  }
  // Jörg's ö is C3 B6: split exactly between the two bytes.
  const jorg = Buffer.from('Event: X\r\nName: Jörg\r\n\r\n', 'utf8');
  const o = jorg.indexOf(0xc3);
  const [m] = parseText(jorg.subarray(0, o + 1), jorg.subarray(o + 1));
  assert.equal(m?.fields.Name, 'Jörg');
});

test('the Agents CallStarted line ends in a bare LF; trailing LF inside a Message is stripped', () => {
  const agents =
    'Event: Agents\r\nAgent: 1001\r\nName: Jörg\r\nStatus: AGENT_ONCALL\r\nTalkingToChan: PJSIP/x-00000001\r\n' +
    'CallStarted: 1795817530\nLoggedInTime: 1795817000\r\nChannel: PJSIP/1001-00000002\r\nActionID: a1\r\n\r\n';
  const [m] = parseText(agents);
  assert.equal(m?.fields.CallStarted, '1795817530');
  assert.equal(m?.fields.LoggedInTime, '1795817000');
  assert.equal(m?.fields.ActionID, 'a1');

  const park = parseText(
    'Response: Success\r\nActionID: p1\r\nMessage: Park successful\n\r\n\r\n',
    'Response: Error\r\nActionID: p2\r\nMessage: No endpoints found\n\r\n\r\n',
    'Event: Next\r\nA: b  \t\r\n\r\n',
  );
  assert.deepEqual(park.map(plain), [
    { fields: { Response: 'Success', ActionID: 'p1', Message: 'Park successful' } },
    { fields: { Response: 'Error', ActionID: 'p2', Message: 'No endpoints found' } },
    { fields: { Event: 'Next', A: 'b' } },
  ]);

  // Bare LF everywhere, blank line included.
  assert.deepEqual(parseText('Event: A\nX: 1\n\nEvent: B\r\nY: 2\n\n').map(plain), [
    { fields: { Event: 'A', X: '1' } },
    { fields: { Event: 'B', Y: '2' } },
  ]);
});

test('old Command form (Asterisk <= 13): raw lines up to --END COMMAND-- become Output values', () => {
  const old =
    'Response: Follows\r\nPrivilege: Command\r\nActionID: c1\r\n' +
    'Name/username   Host : Port\nline two\n\n   indented: yes\nlast line--END COMMAND--\r\n\r\n' +
    'Event: After\r\nX: 1\r\n\r\n';
  const messages = parseText(old);
  assert.equal(messages.length, 2);
  const [command, after] = messages as [AmiMessage, AmiMessage];
  assert.equal(command.fields.Response, 'Follows');
  assert.equal(command.fields.Privilege, 'Command');
  assert.equal(command.fields.ActionID, 'c1');
  assert.deepEqual(values(command, 'Output'), ['Name/username   Host : Port', 'line two', '', '   indented: yes', 'last line']);
  assert.deepEqual(plain(after), { fields: { Event: 'After', X: '1' } });

  // Output ending in LF, then the marker on its own line; and a command with no output at all.
  const [ended, empty] = parseText(
    'Response: Follows\r\nPrivilege: Command\r\nActionID: c2\r\nonly line\n--END COMMAND--\r\n\r\n',
    'Response: Follows\r\nPrivilege: Command\r\nActionID: c3\r\n--END COMMAND--\r\n\r\n',
  ) as [AmiMessage, AmiMessage];
  assert.deepEqual(values(ended, 'Output'), ['only line']);
  assert.deepEqual(values(empty, 'Output'), []);
  assert.equal(empty.fields.ActionID, 'c3');

  // The same, one byte at a time.
  const bytes = Buffer.from(old, 'utf8');
  const split = parseChunks(pieces(bytes, () => 1)).messages;
  assert.deepEqual(split.map(plain), messages.map(plain));
});

test('14+ Command form: repeated Output lines, in order', () => {
  const [m] = parseText(
    'Response: Success\r\nActionID: c4\r\nMessage: Command output follows\r\n' +
      'Output: Asterisk 22.10.1 built by x\r\nOutput: \r\nOutput: second: line\r\n\r\n',
  );
  assert.ok(m);
  assert.equal(m.fields.Output, 'Asterisk 22.10.1 built by x');
  assert.deepEqual(values(m, 'Output'), ['Asterisk 22.10.1 built by x', '', 'second: line']);
  assert.deepEqual({ ...m.multi }, { Output: ['Asterisk 22.10.1 built by x', '', 'second: line'] });
});

test('repeated keys: fields keeps the first value, multi all of them; header() and values() lookups', () => {
  const [m] = parseText(
    'Event: Status\r\nPrivilege: Call\r\nChanVariable: A=1\r\nVariable: x=1\r\nChanVariable: B=2\r\n' +
      'Variable: y=2\r\nVariable: z=3\r\nContacts: 1001/sip:a,\r\nActionID: s1\r\n\r\n',
  );
  assert.ok(m);
  assert.equal(m.fields.ChanVariable, 'A=1');
  assert.deepEqual(values(m, 'ChanVariable'), ['A=1', 'B=2']);
  assert.deepEqual(values(m, 'variable'), ['x=1', 'y=2', 'z=3']);
  assert.deepEqual(values(m, 'Contacts'), ['1001/sip:a,']);
  assert.deepEqual(values(m, 'Missing'), []);
  assert.deepEqual(Object.keys(m.multi ?? {}).sort(), ['ChanVariable', 'Variable']);
  assert.equal(header(m, 'ActionID'), 's1');
  assert.equal(header(m, 'actionid'), 's1');
  assert.equal(header(m, 'PRIVILEGE'), 'Call');
  assert.equal(header(m, 'constructor'), undefined);
  assert.equal(header(m, 'toString'), undefined);
});

test('events of a known name with other keys, fewer keys, more keys or repeats parse exactly', () => {
  const base = 'Event: Hangup\r\nChannel: PJSIP/a-1\r\nUniqueid: 1.1\r\nCause: 16\r\n';
  const messages = parseText(
    `${base}\r\n`,
    `${base}\r\n`, // learned shape now in use
    'Event: Hangup\r\nChannel: PJSIP/b-2\r\nUniqueid: 1.2\r\nCause: 16\r\nTechCause: 3\r\n\r\n',
    'Event: Hangup\r\nChannel: PJSIP/c-3\r\nUniqueid: 1.3\r\n\r\n',
    'Event: Hangup\r\nUniqueid: 1.4\r\nChannel: PJSIP/d-4\r\nCause: 1\r\n\r\n',
    'Event: Hangup\r\nChannel: PJSIP/e-5\r\nChannel: again\r\nUniqueid: 1.5\r\nCause: 16\r\n\r\n',
    'Event: Hangup\r\nChannel: PJSIP/f-6\r\nUniqueid:\r\nCause: 16\r\n\r\n',
    `${base}\r\n`,
  );
  assert.deepEqual(messages.map(plain), [
    { fields: { Event: 'Hangup', Channel: 'PJSIP/a-1', Uniqueid: '1.1', Cause: '16' } },
    { fields: { Event: 'Hangup', Channel: 'PJSIP/a-1', Uniqueid: '1.1', Cause: '16' } },
    { fields: { Event: 'Hangup', Channel: 'PJSIP/b-2', Uniqueid: '1.2', Cause: '16', TechCause: '3' } },
    { fields: { Event: 'Hangup', Channel: 'PJSIP/c-3', Uniqueid: '1.3' } },
    { fields: { Event: 'Hangup', Uniqueid: '1.4', Channel: 'PJSIP/d-4', Cause: '1' } },
    {
      fields: { Event: 'Hangup', Channel: 'PJSIP/e-5', Uniqueid: '1.5', Cause: '16' },
      multi: { Channel: ['PJSIP/e-5', 'again'] },
    },
    { fields: { Event: 'Hangup', Channel: 'PJSIP/f-6', Uniqueid: '', Cause: '16' } },
    { fields: { Event: 'Hangup', Channel: 'PJSIP/a-1', Uniqueid: '1.1', Cause: '16' } },
  ]);
  // Key order is wire order.
  assert.deepEqual(Object.keys(messages[4]?.fields ?? {}), ['Event', 'Uniqueid', 'Channel', 'Cause']);
});

test('garbage lines and bytes are skipped without losing sync; prototype-like keys are plain data', () => {
  const garbage = Buffer.concat([
    Buffer.from([0x00, 0xff, 0xfe, 0x0d, 0x0a]),
    Buffer.from('no separator here\r\n:starts with colon\r\nEvent: One\r\njunk-without-colon\r\nA: 1\r\n\r\n'),
    Buffer.from('\r\n\r\n\n\n'), // stray blank lines: no empty messages
    Buffer.from([0xc3, 0x28, 0x0d, 0x0a]), // invalid UTF-8 on its own line
    Buffer.from('Event: Two\r\n__proto__: p\r\nconstructor: c\r\nhasOwnProperty: h\r\n\r\n'),
  ]);
  const messages = parseText(garbage);
  assert.equal(messages.length, 2);
  assert.deepEqual(plain(messages[0] as AmiMessage), { fields: { Event: 'One', A: '1' } });
  const two = messages[1] as AmiMessage;
  assert.deepEqual(Object.keys(two.fields), ['Event', '__proto__', 'constructor', 'hasOwnProperty']);
  // biome-ignore lint/suspicious/noProto: the test is that a header named __proto__ is an ordinary field
  assert.equal(two.fields['__proto__'], 'p');
  assert.equal(two.fields.constructor, 'c');
  assert.equal(header(two, 'hasownproperty'), 'h');
});

test('banner: reported once, with no blank line after it; reset() starts a new connection', () => {
  const messages: AmiMessage[] = [];
  const banners: string[] = [];
  const parser = new AmiParser(
    (m) => messages.push(m),
    (v) => banners.push(v),
  );
  parser.push(Buffer.from('Asterisk Call Manager/11.0.0\r\nResponse: Success\r\nMessage: Authentication'));
  parser.reset(); // connection dropped mid-message: the half message must not leak into the next one
  parser.push(Buffer.from('Asterisk Call Manager/2.10.6\r\nResponse: Success\r\nActionID: l1\r\n\r\n'));
  assert.deepEqual(banners, ['11.0.0', '2.10.6']);
  assert.deepEqual(messages.map(plain), [{ fields: { Response: 'Success', ActionID: 'l1' } }]);
});

test('an over-long message is dropped and parsing resyncs at the next blank line', () => {
  const line = `Data: ${'x'.repeat(1000)}\r\n`;
  const longMessage = 'Event: Huge\r\n' + line.repeat(Math.ceil((MAX_MESSAGE_BYTES + 4096) / line.length)) + '\r\n';
  const next = 'Event: Next\r\nA: 1\r\n\r\n';

  const oneChunk = parseText(longMessage + next);
  assert.deepEqual(oneChunk.map(plain), [{ fields: { Event: 'Next', A: '1' } }]);

  const bytes = Buffer.from(longMessage + next);
  const chunked = parseChunks(pieces(bytes, () => 65536)).messages;
  assert.deepEqual(chunked.map(plain), [{ fields: { Event: 'Next', A: '1' } }]);
});

test('an over-long line that never ends is dropped, memory stays bounded, and parsing resyncs', () => {
  const messages: AmiMessage[] = [];
  const parser = new AmiParser((m) => messages.push(m));
  parser.push(Buffer.from('Event: Endless\r\nValue: '));
  const block = Buffer.alloc(64 * 1024, 0x61);
  for (let i = 0; i < 40; i++) parser.push(block); // 2.5 MiB without a line end
  const buffered = (parser as unknown as { tailBytes: number }).tailBytes;
  assert.ok(buffered <= MAX_MESSAGE_BYTES, `parser holds ${buffered} bytes`);
  parser.push(Buffer.from('still the same line\r\nMore: junk\r\n\r\nEvent: Next\r\nA: 1\r\n\r\n'));
  assert.deepEqual(messages.map(plain), [{ fields: { Event: 'Next', A: '1' } }]);
});

test('a throwing callback does not desync the parser; the error surfaces after the chunk', () => {
  const seen: string[] = [];
  const parser = new AmiParser((m) => {
    seen.push(m.fields.Event ?? '');
    if (m.fields.Event === 'Bad') throw new Error('listener failed');
  });
  assert.throws(() => parser.push(Buffer.from('Event: Bad\r\n\r\nEvent: Good\r\n\r\nEvent: Partial\r\n')), /listener failed/);
  parser.push(Buffer.from('\r\n'));
  assert.deepEqual(seen, ['Bad', 'Good', 'Partial']);
});

test('ignored events are skipped unparsed; everything else is identical, also fed byte by byte', () => {
  const ignored = new Set(['TestEvent', 'DialBegin', 'DialEnd', 'LocalBridge', 'SoftHangupRequest', 'HangupRequest']);
  const keep = (m: AmiMessage) => !ignored.has(m.fields.Event ?? '');
  for (const feed of [[recording], pieces(recording, () => 1)]) {
    const got: AmiMessage[] = [];
    const p = new AmiParser((m) => got.push(m));
    p.ignoredEvents = ignored;
    for (const chunk of feed) p.push(chunk);
    const expected = whole.messages.filter(keep);
    assert.equal(got.length, expected.length);
    assert.equal(p.ignoredCount, whole.messages.length - expected.length);
    assert.ok(p.ignoredCount > 1500, 'the recording has well over a thousand of them');
    assert.deepEqual(got.map(plain), expected.map(plain));
  }
  // responses are never dropped: only an Event first line can be ignored
  const out: AmiMessage[] = [];
  const q = new AmiParser((m) => out.push(m));
  q.ignoredEvents = new Set(['Success', 'TestEvent']);
  q.push(Buffer.from('Response: Success\r\nActionID: 1\r\n\r\nEvent: TestEvent\r\nType: x\r\n\r\nEvent: Hangup\r\nUniqueid: 1\r\n\r\n'));
  assert.deepEqual(
    out.map((m) => m.fields.Response ?? m.fields.Event),
    ['Success', 'Hangup'],
  );
});
