// The typed client's types (client/schema.d.ts) are generated from the route declarations; this fails when the
// committed file is stale (run `npm run client`), and shows the client working against a gateway in-process.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { SCHEMA_FILE, clientTypes } from '../../client/generate.ts';

test('client/schema.d.ts matches the current OpenAPI document (run npm run client when this fails)', async () => {
  const fresh = await clientTypes();
  const committed = readFileSync(SCHEMA_FILE, 'utf8');
  assert.ok(fresh.includes('"/v1/admin/core/channels"'));
  assert.equal(committed === fresh, true, 'client/schema.d.ts is stale: run `npm run client` and commit it');
});
