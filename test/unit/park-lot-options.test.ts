// The body of PUT /admin/park/parkinglots/<name>: res_parking.conf lot options declared as a schema
// (plugins/park/schemas.ts). Values may be strings, numbers or booleans, "> x" becomes `key => x`, each option's value
// is checked with the gateway's wording, read-only fields a client sends back are ignored, and unknown keys refused.
// Also the shared yes/no parser (core/ami/channel-block.ts) the lot options and the queue members use.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { check } from '../../core/contract/validate.ts';
import { ApiError } from '../../core/http/errors.ts';
import { isYesNo, yesNo } from '../../core/ami/channel-block.ts';
import { LiveKit } from '../../core/live/kit.ts';
import { EventBus } from '../../core/bus/bus.ts';
import { testLogger } from '../support/log.ts';
import { ParkingLotOptionsSchema } from '../../plugins/park/schemas.ts';
import { ParkService } from '../../plugins/park/service.ts';
import { ParkState } from '../../plugins/park/state.ts';
import type { AmiPort } from '../../core/ami/port.ts';
import type { ConfigFiles } from '../../core/config-files.ts';

const parse = (body: unknown) => check(ParkingLotOptionsSchema, body, 'body');

function refused(body: unknown): { message: string; field?: unknown; code: string } {
  try {
    parse(body);
  } catch (e) {
    assert.ok(e instanceof ApiError, String(e));
    assert.equal(e.status, 400);
    return { message: e.message, field: e.extra?.field, code: e.code };
  }
  assert.fail(`accepted ${JSON.stringify(body)}`);
}

function service(): ParkService {
  const log = testLogger('test');
  const ami = { connected: false } as AmiPort;
  return new ParkService(ami, new ParkState(), {} as ConfigFiles, log, new LiveKit({ ami, bus: new EventBus(), log }));
}

test('the spec\'s example PUT becomes lines of the section: "> x" is key => x, others key = x', () => {
  const body = parse({
    context: '> edvina_park',
    parkpos: '> 800-900',
    findslot: '> next',
    comebacktoorigin: 'no',
    comebackdialtime: '90',
    comebackcontext: 'edvinapark-timeout',
    parkedmusicclass: 'edvina',
  });
  assert.deepEqual(service().lotSettings(body), [
    { key: 'parkpos', op: '=>', value: '800-900' },
    { key: 'context', op: '=>', value: 'edvina_park' },
    { key: 'comebacktoorigin', value: 'no' },
    { key: 'comebackdialtime', value: '90' },
    { key: 'comebackcontext', value: 'edvinapark-timeout' },
    { key: 'findslot', op: '=>', value: 'next' },
    { key: 'parkedmusicclass', value: 'edvina' },
  ]);
});

test('numbers and booleans are written as text (yes/no); values are trimmed', () => {
  const body = parse({ parkingtime: 45, parkinghints: true, parkext_exclusive: false, parkpos: '  701 - 720 ' });
  assert.deepEqual(service().lotSettings(body), [
    { key: 'parkext_exclusive', value: 'no' },
    { key: 'parkpos', value: '701 - 720' },
    { key: 'parkinghints', value: 'yes' },
    { key: 'parkingtime', value: '45' },
  ]);
});

test('what GET shows (name, spaces, timeout, tm_update) may be sent back and is ignored; null means not given', () => {
  const body = parse({
    name: 'gwlot',
    start_space: '701',
    stop_spcae: '720',
    stop_space: '720',
    timeout: 45,
    tm_update: 'x',
    parkpos: '701-720',
    context: null,
  });
  assert.deepEqual(service().lotSettings(body), [{ key: 'parkpos', value: '701-720' }]);
});

test('a body that sets no option is refused: it would empty the lot', () => {
  assert.throws(() => service().lotSettings(parse({})), /at least one lot option/);
  assert.throws(() => service().lotSettings(parse({ name: 'x', timeout: 3 })), /at least one lot option/);
});

test("bad values are refused with the field and the gateway's wording", () => {
  assert.deepEqual(refused({ parkpos: 'eight hundred' }), {
    message: 'parkpos: "eight hundred" must be a range of spaces such as 701-720',
    field: 'parkpos',
    code: 'invalid_field',
  });
  assert.equal(refused({ parkpos: '> 720-701' }).message, 'parkpos: "720-701" the first space must not be above the last');
  assert.equal(refused({ parkingtime: 'soon' }).message, 'parkingtime: "soon" must be a whole number of seconds');
  assert.equal(refused({ parkingtime: -5 }).message, 'parkingtime: "-5" must be a whole number of seconds');
  assert.equal(refused({ comebacktoorigin: 'maybe' }).message, 'comebacktoorigin: "maybe" must be yes or no');
  assert.equal(refused({ parkedcalltransfers: 'everyone' }).message, 'parkedcalltransfers: "everyone" must be caller, callee, both or no');
  assert.equal(refused({ findslot: 'last' }).message, 'findslot: "last" must be first or next');
  assert.equal(refused({ context: '> ' }).message, 'context: "" must not be empty');
  assert.equal(refused({ parkext: '70 1' }).message, 'parkext: "70 1" must be an extension');
  assert.equal(refused({ parkpos: { from: 1 } }).message, 'parkpos: must be a string, a number or a boolean');
  assert.equal(refused({ parkpos: [701, 720] }).message, 'parkpos: must be a string, a number or a boolean');
});

test('CR, LF or NUL in a value is refused before anything else: it would end the config line', () => {
  for (const value of ['x\r\n[evil]', '801-810\nparkext => 1', 'a\0b']) {
    assert.deepEqual(refused({ context: value }), {
      message: 'context: must not contain CR, LF or NUL characters',
      field: 'context',
      code: 'invalid_field',
    });
  }
});

test('an unknown option is refused as an unknown field', () => {
  assert.deepEqual(refused({ parkpos: '801-810', colour: 'blue' }), {
    message: 'colour: unknown field',
    field: 'colour',
    code: 'unknown_field',
  });
});

test("yesNo reads Asterisk's booleans (ast_true / ast_false) as 1 / 0, anything else as the fallback", () => {
  for (const t of ['yes', 'YES', 'true', 'True', 'y', 't', '1', 'on']) assert.equal(yesNo(t), 1, t);
  for (const f of ['no', 'No', 'false', 'False', 'n', 'f', '0', 'off']) assert.equal(yesNo(f, 1), 0, f);
  assert.equal(yesNo(undefined), 0);
  assert.equal(yesNo(undefined, 1), 1);
  assert.equal(yesNo('', 7), 7);
  assert.equal(yesNo('maybe', 3), 3);
  assert.ok(isYesNo('On') && isYesNo('0') && !isYesNo('2') && !isYesNo(''));
});

test('PATCH of a lot (ParkService.patchLot): only the options given change, null removes, the rest keeps its bytes', async () => {
  const { mkdtempSync, mkdirSync, writeFileSync, readFileSync, rmSync } = await import('node:fs');
  const os = await import('node:os');
  const path = await import('node:path');
  const { parseConfig } = await import('../../core/config.ts');
  const { ConfigFiles } = await import('../../core/config-files.ts');
  const { ParkingLotPatchSchema } = await import('../../plugins/park/schemas.ts');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gw-parkpatch-'));
  try {
    mkdirSync(path.join(dir, 'etc'));
    const conf = path.join(dir, 'etc', 'res_parking.conf');
    const original =
      '[general]\n\n; the main lot\n[default]\nparkext => 700\nparkpos => 701-720 ; twenty spaces\ncontext => parkedcalls\nparkingtime = 45\n';
    writeFileSync(conf, original);
    const cfg = parseConfig(
      `ami: {host: 127.0.0.1, port: 1, username: u, secret: s}\ndata_dir: ${dir}\nasterisk: {config_dir: ${path.join(dir, 'etc')}}\n`,
      path.join(dir, 'gateway.yaml'),
      [],
    );
    const log = testLogger('test');
    const down = async (): Promise<never> => {
      throw new Error('AMI is down');
    };
    const files = new ConfigFiles(cfg, { connected: false, action: down, command: down }, log);
    const ami = { connected: false } as AmiPort;
    // the option check of core/config-routes/options.ts runs inside the write; this stand-in refuses `comebackdialtime`
    const checked: string[] = [];
    const options = {
      async check(_file: string, _before: unknown, doc: { sections(): { entries: { key: string }[] }[] }) {
        const keys = doc.sections().flatMap((s) => s.entries.map((e) => e.key));
        checked.push(keys.join(','));
        if (keys.includes('comebackdialtime')) throw new ApiError(400, 'comebackdialtime: refused', undefined, 'unknown_option');
        return { status: 'done' as const, message: 'checked' };
      },
    };
    const svc = new ParkService(ami, new ParkState(), files, log, new LiveKit({ ami, bus: new EventBus(), log }), options as never);
    const body = check(ParkingLotPatchSchema, { parkpos: '701-730', parkingtime: null, comebacktoorigin: false, name: 'ignored' }, 'body');
    const out = await svc.patchLot('default', body);
    assert.ok(!('dry_run' in out));
    assert.equal(out.reload?.status, 'pending');
    assert.equal(
      readFileSync(conf, 'utf8'),
      '[general]\n\n; the main lot\n[default]\nparkext => 700\nparkpos => 701-730 ; twenty spaces\ncontext => parkedcalls\ncomebacktoorigin = no\n',
    );
    // a bad value is refused by the schema; a lot not in the file is 404; nothing given is 400
    assert.throws(() => check(ParkingLotPatchSchema, { parkingtime: 'soon' }, 'body'), /whole number of seconds/);
    const before = readFileSync(conf, 'utf8');
    await assert.rejects(
      svc.patchLot('nolot', check(ParkingLotPatchSchema, { parkingtime: 5 }, 'body')),
      (e: ApiError) => e.status === 404,
    );
    await assert.rejects(svc.patchLot('default', check(ParkingLotPatchSchema, { name: 'x' }, 'body')), (e: ApiError) => e.status === 400);
    assert.equal(readFileSync(conf, 'utf8'), before);
    await assert.rejects(
      svc.patchLot('default', check(ParkingLotPatchSchema, { comebackdialtime: 5 }, 'body')),
      (e: ApiError) => e.code === 'unknown_option',
    );
    await assert.rejects(
      svc.putLot('default', svc.lotSettings(check(ParkingLotOptionsSchema, { comebackdialtime: 5 }, 'body'))),
      (e: ApiError) => e.code === 'unknown_option',
    );
    assert.equal(readFileSync(conf, 'utf8'), before, 'a refused option check writes nothing');
    assert.ok(checked.length >= 3, `the check ran inside each write: ${JSON.stringify(checked)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
