// Login throttling: a few failures answer at once, the next ones after a growing delay, then 429 with Retry-After
// (even for the right password) per username and per address; a success clears the counts; every failure is one log
// line that the shipped fail2ban filter matches, and a hostile username cannot forge another line.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { LoginThrottle } from '../../core/auth/throttle.ts';
import type { Gateway } from '../../core/gateway.ts';
import { createLogger } from '../../core/log.ts';
import { type TempGateway, tempGateway } from '../support/gateway.ts';
import { client } from '../support/http.ts';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
let gateway: TempGateway;
let gw: Gateway;
const lines: string[] = [];
const sink = { write: (line: string) => lines.push(line.trimEnd()) };

before(async () => {
  gateway = await tempGateway({
    prefix: 'gw-throttle',
    yaml: (d) => ({
      ami: { port: 1, username: 'u', secret: 's' },
      data_dir: d,
      auth: { bootstrap_admin: { username: 'admin', password: 'right' }, throttle: { free_failures: 2, lock_after: 4, max_lock_s: 60 } },
      plugins: ['core', 'users'],
    }),
    known: ['core', 'users'],
    logger: createLogger('gateway', 'warn', sink),
  });
  gw = gateway.gw;
});
after(() => gateway?.close());

const basic = (u: string, p: string) => ({ authorization: `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}` });

test('growing delays, then 429 with Retry-After even for the right password; a success clears the count', async () => {
  const api = client((r) => gw.http.fetch(r));
  const timed = async (u: string, p: string) => {
    const t0 = Date.now();
    const a = await api.call('POST', '/v1/admin/login', undefined, basic(u, p));
    return { a, ms: Date.now() - t0 };
  };
  // two free failures, then a success clears them
  for (let i = 0; i < 2; i++) assert.equal((await timed('admin', 'wrong')).a.status, 401);
  assert.equal((await timed('admin', 'right')).a.status, 200);
  // counted from zero again: 2 free, the 3rd is delayed, the 4th locks
  const answers = [];
  for (let i = 0; i < 4; i++) answers.push(await timed('admin', 'wrong'));
  assert.deepEqual(
    answers.map((x) => x.a.status),
    [401, 401, 401, 401],
  );
  assert.ok(answers[0]!.ms < 200 && answers[1]!.ms < 200, 'free failures answer at once');
  assert.ok(answers[2]!.ms >= 240, `the first slowed failure waited ${answers[2]!.ms} ms`);
  const locked = await timed('admin', 'right');
  assert.equal(locked.a.status, 429);
  assert.equal(locked.a.body.result.code, 'too_many_requests');
  const retry = Number(locked.a.headers.get('retry-after'));
  assert.ok(retry > 0 && retry <= 60, `Retry-After ${retry}`);
  assert.equal(locked.a.body.result.retry_after_s, retry);
});

test('the address is throttled too: other usernames from it are refused while it is locked', async () => {
  const api = client((r) => gw.http.fetch(r));
  const a = await api.call('POST', '/v1/me/login', undefined, basic('someone-else', 'x'));
  assert.equal(a.status, 429, 'same client address (in-process: "local") is locked');
});

test('every failure is one log line the fail2ban filter matches; control characters cannot forge a line', async () => {
  const t = new LoginThrottle();
  assert.equal(t.retryAfterS('x', '1.2.3.4'), 0);
  const failures = lines.filter((l) => l.includes('login failed'));
  assert.ok(failures.length >= 6, `${failures.length} lines`);
  const conf = readFileSync(path.join(ROOT, 'deploy/fail2ban/asterisk-gateway.conf'), 'utf8');
  const failregex = /^failregex = (.*)$/m.exec(conf)![1]!;
  const re = new RegExp(failregex.replace('<HOST>', '(?<host>\\S+)'));
  assert.ok(
    failures.some((l) => l.includes('(locked)')),
    'refusals while locked are logged too',
  );
  for (const l of failures) assert.equal(re.exec(l)?.groups?.host, 'local', l);
  // a username with a line break stays on one line, quoted
  const api = client((r) => gw.http.fetch(r));
  const before = lines.length;
  await api.call(
    'POST',
    '/v1/me/login',
    undefined,
    basic('evil\n{"level":"warn","scope":"gateway:auth","msg":"login failed for user \\"x\\" from 10.0.0.1"}', 'x'),
  );
  const added = lines.slice(before);
  assert.equal(added.length, 1);
  assert.ok(!added[0]!.includes('\n'));
  assert.equal(re.exec(added[0]!)?.groups?.host, 'local', 'the address is the real one, not the forged one');
});
