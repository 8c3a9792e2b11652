// The permission matrix, generated from the route declarations: every route that needs a login x {no token, a
// malformed one, an expired one, a revoked one, user, manager, admin, and an API key of each role}. A refused call is
// 401 or 403 with nothing but the error (no data leaks in a refusal); an allowed one gets past the auth check (any
// other status: 2xx, or 400/404/503 for the junk input and the absent Asterisk here). Answers are also checked
// against the OpenAPI document by the test client.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Role } from '../../core/auth/accounts.ts';
import { isOwnRecord, openApiPath } from '../../core/contract/route.ts';
import type { Gateway } from '../../core/gateway.ts';
import { hasRole } from '../../core/http/app.ts';
import { type TempGateway, tempGateway } from '../support/gateway.ts';
import { BUILTIN_PLUGINS } from '../../core/plugins/builtin.ts';
import { client } from '../support/http.ts';

const ALL = BUILTIN_PLUGINS.map((p) => p.name);
let gateway: TempGateway;
let gw: Gateway;
let api: ReturnType<typeof client>;
const tokens: Record<string, string> = {};

before(async () => {
  const conf = (d: string) => path.join(d, 'asterisk');
  gateway = await tempGateway({
    prefix: 'gw-matrix',
    prepare: (d) => {
      mkdirSync(conf(d));
      for (const f of ['extensions.conf', 'pjsip.conf', 'queues.conf', 'res_parking.conf'])
        writeFileSync(path.join(conf(d), f), '[general]\n');
    },
    yaml: (d) => ({
      ami: { port: 1, username: 'u', secret: 's' },
      asterisk: { config_dir: conf(d), modules_dir: conf(d) },
      data_dir: path.join(d, 'data'),
      auth: { token_ttl_s: 5, bootstrap_admin: { username: 'admin', password: 'pw' } },
      plugins: ALL,
    }),
    known: ALL,
  });
  gw = gateway.gw;
  api = client((r) => gw.http.fetch(r));
  // an expired token: issued, then left unused past token_ttl_s (5 s here: at 1 s the other tokens expired between
  // two uses when the machine was loaded)
  tokens.expired = await api.login('admin', 'pw');
  await new Promise((r) => setTimeout(r, 5300));
  tokens.admin = await api.login('admin', 'pw');
  for (const role of ['manager', 'user'] as const) {
    assert.equal(
      (await api.post('/v1/admin/user/users', { username: role, password: 'pw', permissions: [{ permission: role }] })).status,
      200,
    );
    tokens[role] = await client((r) => gw.http.fetch(r)).login(role, 'pw', 'me');
  }
  for (const role of ['admin', 'manager', 'user'] as const) {
    const k = await api.post('/v1/admin/apikeys', { name: `matrix ${role}`, role });
    assert.equal(k.status, 200, k.text);
    tokens[`key:${role}`] = k.body.result.key;
  }
  const revoked = await client((r) => gw.http.fetch(r)).login('admin', 'pw');
  assert.equal((await api.call('DELETE', `/v1/admin/login?authtoken=${revoked}`)).status, 200);
  tokens.revoked = revoked;
  tokens.malformed = '%%%not-a-token%%%';
});

after(() => gateway?.close());

type Who = { name: string; token?: string; roles?: Role[]; apiKey?: boolean };

test('every route x every kind of caller: 401 / 403 / allowed, and refusals carry no data', async () => {
  const callers: Who[] = [
    { name: 'no token' },
    { name: 'malformed', token: tokens.malformed },
    { name: 'expired', token: tokens.expired },
    { name: 'revoked', token: tokens.revoked },
    { name: 'user', token: tokens.user, roles: ['user'] },
    { name: 'manager', token: tokens.manager, roles: ['manager'] },
    { name: 'admin', token: tokens.admin, roles: ['admin'] },
    { name: 'key:user', token: tokens['key:user'], roles: ['user'], apiKey: true },
    { name: 'key:manager', token: tokens['key:manager'], roles: ['manager'], apiKey: true },
    { name: 'key:admin', token: tokens['key:admin'], roles: ['admin'], apiKey: true },
  ];
  const failures: string[] = [];
  const anon = client((r) => gw.http.fetch(r));
  let calls = 0;
  const routes = gw.http.routes.filter((r) => !r.route.public);
  assert.ok(routes.length > 100, `${routes.length} routes`);
  for (const { route, role } of routes) {
    // path parameters get a harmless value; destructive routes then miss (404) or are refused by their input (400)
    const url = `/v1${openApiPath(route.path).replace(/\{[^}]+\}/g, 'matrix-x')}`;
    for (const who of callers) {
      // a client with no session of its own: only the caller's token (if any) is sent
      const a = await anon.call(route.method, url, undefined, who.token ? { authorization: `Bearer ${who.token}` } : {});
      calls++;
      const expected = !who.roles ? 401 : !hasRole(new Set(who.roles), role) || (who.apiKey && isOwnRecord(route)) ? 403 : 'allowed';
      const got = a.status === 401 || a.status === 403 ? a.status : 'allowed';
      if (got !== expected)
        failures.push(`${route.method} ${route.path} as ${who.name}: ${a.status} (expected ${expected}) ${a.text.slice(0, 120)}`);
      if (a.status === 401 || a.status === 403) {
        const keys = Object.keys(a.body.result ?? {}).sort();
        if (keys.join() !== 'code,message')
          failures.push(`${route.method} ${route.path} as ${who.name}: a refusal carries ${keys.join(',')}`);
      }
    }
  }
  assert.deepEqual(failures, []);
  assert.ok(calls > 1000, `${calls} calls`);
});
