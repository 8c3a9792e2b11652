// The typed client's types (client/schema.d.ts) are generated from the route declarations; this fails when the
// committed file is stale (run `npm run client`), and shows the client working against a gateway in-process.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { EVENTS_FILE, SCHEMA_FILE, clientTypes, eventTypes } from '../../client/generate.ts';

test('client/schema.d.ts matches the current OpenAPI document (run npm run client when this fails)', async () => {
  const fresh = await clientTypes();
  const committed = readFileSync(SCHEMA_FILE, 'utf8');
  assert.ok(fresh.includes('"/v1/admin/core/channels"'));
  assert.equal(committed === fresh, true, 'client/schema.d.ts is stale: run `npm run client` and commit it');
});

test('client/event-frames.d.ts matches the current AsyncAPI document (run npm run client when this fails)', async () => {
  const fresh = await eventTypes();
  assert.match(fresh, /"core\.channel\.updated": components\['schemas'\]\["frame:core\.channel\.updated"\];/);
  assert.equal(readFileSync(EVENTS_FILE, 'utf8') === fresh, true, 'client/event-frames.d.ts is stale: run `npm run client` and commit it');
});

test('the typed client calls a gateway: typed answers, typed errors', async () => {
  const { gatewayClient } = await import('../../client/index.ts');
  const { tempGateway } = await import('../support/gateway.ts');
  const { gw, close } = await tempGateway({
    prefix: 'gw-client',
    yaml: (dir) => ({
      ami: { port: 1, username: 'u', secret: 's' },
      data_dir: dir,
      auth: { bootstrap_admin: { username: 'admin', password: 'pw' } },
      plugins: ['core', 'users', 'queue'],
    }),
    known: ['core', 'users', 'queue'],
  });
  try {
    const fetch = async (req: Request) => gw.http.fetch(req);
    const anon = gatewayClient('http://gw', undefined, fetch);
    const status = await anon.GET('/v1/status');
    assert.equal(status.data?.result.gateway.runtime, process.versions.bun ? 'bun' : 'node');
    const login = await anon.POST('/v1/admin/login', { headers: { authorization: `Basic ${Buffer.from('admin:pw').toString('base64')}` } });
    const token = login.data?.result.authtoken;
    assert.ok(token);
    const gwc = gatewayClient('http://gw', token, fetch);
    const users = await gwc.GET('/v1/admin/user/users');
    assert.deepEqual(
      users.data?.result.list.map((u) => u.username),
      ['admin'],
    );
    // AMI is down here: the live route answers 503, and the error is typed with its code
    const members = await gwc.GET('/v1/admin/queue/members', { params: { query: { queue_name: 'sales' } } });
    assert.equal(members.response.status, 503);
    assert.equal(members.error?.result.code, 'ami_unavailable');
  } finally {
    await close();
  }
});
