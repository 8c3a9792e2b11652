// AsyncAGI wire helpers of the dialplan plugin (plugins/dialplan/agi.ts), on text captured from Asterisk 22:
// AsyncAGIStart's Env, AsyncAGIExec's Result, `core show channels concise`, and adp commands in both forms.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AGI_COMMANDS,
  MAX_AGI_COMMAND_BYTES,
  agiQuote,
  asyncAgiArgs,
  parseAgiEnv,
  parseAgiResult,
  parseCommand,
  parseConciseChannels,
  urlDecode,
} from '../../plugins/dialplan/agi.ts';
import { succeeded } from '../../plugins/dialplan/adp-runner.ts';

// AsyncAGIStart of AGI(agi:async,my adpma,second) on Asterisk 22.10.1, as received.
const ENV =
  'agi_request%3A%20async%0Aagi_channel%3A%20Local%2F1%40gw-test-agi-00000000%3B2%0Aagi_language%3A%20en%0Aagi_type%3A%20Local%0A' +
  'agi_uniqueid%3A%20xb1%0Aagi_version%3A%2022.10.1%2Bdfsg%2B~cs6.17.60671434-1%0Aagi_callerid%3A%20unknown%0A' +
  'agi_calleridname%3A%20unknown%0Aagi_callingpres%3A%2067%0Aagi_callingani2%3A%200%0Aagi_callington%3A%200%0A' +
  'agi_callingtns%3A%200%0Aagi_dnid%3A%20unknown%0Aagi_rdnis%3A%20unknown%0Aagi_context%3A%20gw-test-agi%0A' +
  'agi_extension%3A%201%0Aagi_priority%3A%202%0Aagi_enhanced%3A%200.0%0Aagi_accountcode%3A%20%0A' +
  'agi_threadid%3A%20140330294458048%0Aagi_arg_1%3A%20my%20adpma%0Aagi_arg_2%3A%20second%0A%0A';

test('Env: url-decoded agi_* lines; the first AGI argument is agi_arg_1', () => {
  const env = parseAgiEnv(ENV);
  assert.equal(env.agi_request, 'async');
  assert.equal(env.agi_channel, 'Local/1@gw-test-agi-00000000;2');
  assert.equal(env.agi_uniqueid, 'xb1');
  assert.equal(env.agi_version, '22.10.1+dfsg+~cs6.17.60671434-1');
  assert.equal(env.agi_accountcode, '');
  assert.equal(env.agi_arg_1, 'my adpma');
  assert.equal(env.agi_arg_2, 'second');
  assert.equal(Object.keys(parseAgiEnv(undefined)).length, 0);
  assert.equal(parseAgiEnv('agi_arg_1%3A%20x%0A').constructor, undefined, 'a null-prototype object');
});

test('urlDecode keeps a malformed escape instead of throwing', () => {
  assert.equal(urlDecode('a%20b'), 'a b');
  assert.equal(urlDecode('100%zz%20ok'), '100%zz ok');
  assert.equal(urlDecode('caf%C3%A9%E0'), 'café\uFFFD', 'a stray byte is replaced, the rest decoded');
  assert.equal(urlDecode('a+b%2Bc'), 'a+b+c', '+ is not a blank in ast_uri_encode');
});

test('Result: the AGI reply line as Asterisk 22 sends it', () => {
  assert.deepEqual(parseAgiResult('200%20result%3D0%0A'), { text: '200 result=0', code: 200, result: 0 });
  assert.deepEqual(parseAgiResult('200%20result%3D1%20(a%20b%20%22q%22%20c)%0A'), {
    text: '200 result=1 (a b "q" c)',
    code: 200,
    result: 1,
  });
  assert.deepEqual(parseAgiResult('200%20result%3D-2%0A'), { text: '200 result=-2', code: 200, result: -2 });
  assert.deepEqual(parseAgiResult('510%20Invalid%20or%20unknown%20command%0A'), {
    text: '510 Invalid or unknown command',
    code: 510,
    result: null,
  });
  assert.deepEqual(parseAgiResult(undefined), { text: '', code: null, result: null });
});

test('which replies count as success', () => {
  const exec = { agi_command: 'EXEC Set X=1' };
  const setv = { agi_command: 'SET VARIABLE X 1' };
  assert.equal(succeeded(exec, parseAgiResult('200%20result%3D0%0A')), true);
  assert.equal(succeeded(exec, parseAgiResult('200%20result%3D-2%0A')), false, 'EXEC of an unknown application');
  assert.equal(succeeded(setv, parseAgiResult('200%20result%3D-2%0A')), true, '-2 means "no application" only for EXEC');
  assert.equal(succeeded(exec, parseAgiResult('200%20result%3D-1%0A')), false, 'failure or hangup');
  assert.equal(succeeded(setv, parseAgiResult('510%20Invalid%20or%20unknown%20command%0A')), false);
  assert.equal(succeeded(setv, parseAgiResult('520%20Invalid%20command%20syntax.%0A')), false);
});

test('commands: AGI form, case-insensitive, sent as written', () => {
  assert.deepEqual(parseCommand('EXEC Playback hello-world'), { agi: 'EXEC Playback hello-world', verb: 'exec' });
  assert.deepEqual(parseCommand('  exec Set GW_STEP=1 '), { agi: 'exec Set GW_STEP=1', verb: 'exec' });
  assert.deepEqual(parseCommand('SET VARIABLE GW_DONE yes'), { agi: 'SET VARIABLE GW_DONE yes', verb: 'set variable' });
  assert.deepEqual(parseCommand('get full variable ${CHANNEL}'), { agi: 'get full variable ${CHANNEL}', verb: 'get full variable' });
  assert.deepEqual(parseCommand('HANGUP'), { agi: 'HANGUP', verb: 'hangup' });
  assert.deepEqual(parseCommand('speech   deactivate grammar g'), {
    agi: 'speech   deactivate grammar g',
    verb: 'speech deactivate grammar',
  });
});

test('commands: the dialplan form Application(data) becomes EXEC with one quoted argument', () => {
  assert.deepEqual(parseCommand('Playback(hello-world)'), { agi: 'EXEC Playback hello-world', verb: 'exec' });
  assert.deepEqual(parseCommand('Answer()'), { agi: 'EXEC Answer', verb: 'exec' });
  assert.deepEqual(parseCommand('Set(GREETING=hello world)'), { agi: 'EXEC Set "GREETING=hello world"', verb: 'exec' });
  assert.deepEqual(parseCommand('Set(Q=say "hi" \\o/)'), { agi: 'EXEC Set "Q=say \\"hi\\" \\\\o/"', verb: 'exec' });
  assert.deepEqual(parseCommand('Dial(PJSIP/alice,30,tT)'), { agi: 'EXEC Dial PJSIP/alice,30,tT', verb: 'exec' });
  assert.equal(agiQuote(''), '""');
  assert.equal(agiQuote('a\tb'), '"a\tb"');
});

test('commands: refused with a reason', () => {
  const err = (c: string) => (parseCommand(c) as { error?: string }).error ?? '';
  assert.match(err('FOO BAR'), /not an AGI command/);
  assert.match(err('Playback hello-world'), /not an AGI command/, 'an application without parentheses');
  assert.match(err('set'), /not an AGI command/);
  assert.match(err('EXEC'), /application name/);
  assert.match(err('ASYNCAGI BREAK'), /sent by the gateway itself/);
  assert.match(err(''), /empty/);
  assert.match(err('   '), /empty/);
  assert.match(err('EXEC NoOp a\r\nAction: Originate'), /CR, LF/);
  assert.match(err('EXEC NoOp a\nb'), /CR, LF/);
  assert.match(err(`EXEC NoOp ${'x'.repeat(MAX_AGI_COMMAND_BYTES)}`), /longer than/);
  assert.match(err(`NoOp(${'é'.repeat(MAX_AGI_COMMAND_BYTES / 2)})`), /longer than/, 'bytes, not characters');
});

test('the AGI command list has no duplicates and leaves out ASYNCAGI BREAK', () => {
  assert.equal(new Set(AGI_COMMANDS).size, AGI_COMMANDS.length);
  assert.ok(!AGI_COMMANDS.includes('asyncagi break'));
  assert.ok(AGI_COMMANDS.every((c) => c === c.toLowerCase().trim()));
});

test('AGI(agi:async,...) arguments from the channel list', () => {
  assert.deepEqual(asyncAgiArgs('agi:async,my adpma,second'), ['my adpma', 'second']);
  assert.deepEqual(asyncAgiArgs('agi:async'), []);
  assert.deepEqual(asyncAgiArgs('AGI:ASYNC,x'), ['x']);
  assert.equal(asyncAgiArgs('agi://127.0.0.1/x'), null);
  assert.equal(asyncAgiArgs('/var/lib/asterisk/agi-bin/x.sh'), null);
});

test('core show channels concise, as Asterisk 22 prints it; "!" inside the application data', () => {
  const lines = [
    'Local/1@gw-test-agi-00000000;1!gw-test-agi!1!1!Up!Wait!600!!!!3!0!!xa1',
    'Local/1@gw-test-agi-00000000;2!gw-test-agi!1!2!Up!AGI!agi:async,my adpma,second!!!!3!0!!xb1',
    'PJSIP/a-00000001!ctx!s!3!Up!NoOp!hi!there!!555!!!3!12!br-1!1700000000.7',
    'garbage line',
  ];
  assert.deepEqual(parseConciseChannels(lines), [
    { channel: 'Local/1@gw-test-agi-00000000;1', application: 'Wait', data: '600', unique_id: 'xa1' },
    { channel: 'Local/1@gw-test-agi-00000000;2', application: 'AGI', data: 'agi:async,my adpma,second', unique_id: 'xb1' },
    { channel: 'PJSIP/a-00000001', application: 'NoOp', data: 'hi!there!', unique_id: '1700000000.7' },
  ]);
});
