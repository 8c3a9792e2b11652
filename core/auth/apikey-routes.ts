// /admin/apikeys: create (the key is answered once), list (without the secret) and revoke API keys.
import { route } from '../contract/route.ts';
import { listOf, pathName } from '../contract/schema.ts';
import type { Router } from '../plugins/contract.ts';
import { ok } from '../http/envelope.ts';
import { badRequest, notFound } from '../http/errors.ts';
import { ApiKeyCreateBody, ApiKeyCreatedSchema, ApiKeySchema, type ApiKeyView } from './apikey-schemas.ts';
import type { ApiKeyRecord, ApiKeys } from './apikeys.ts';

const tags = ['auth'];

function view(k: ApiKeyRecord): ApiKeyView {
  return {
    id: k.uuid,
    name: k.name,
    role: k.role,
    created: k.tm_create,
    expires_at: k.expires_at,
    allowed_networks: [...k.allowed_networks],
    last_used: k.last_used,
  };
}

export function registerApiKeyRoutes(r: Router, keys: ApiKeys, now: () => number = Date.now): void {
  r.add(
    route({
      method: 'GET',
      path: '/admin/apikeys',
      summary: 'All API keys (without their secrets)',
      tags,
      responses: { 200: listOf(ApiKeySchema) },
      handler: () => ok({ list: keys.list().map(view) }),
    }),
  );
  r.add(
    route({
      method: 'POST',
      path: '/admin/apikeys',
      summary: 'Create an API key',
      description:
        'The answer holds the key (result.key), shown this once: the gateway keeps only its hash. The key is used like ' +
        'a login token (Authorization: Bearer or ?authtoken=) and acts as a user of its role; it is refused (401) once ' +
        'expired or revoked, or from outside allowed_networks.',
      tags,
      body: ApiKeyCreateBody,
      responses: { 200: ApiKeyCreatedSchema },
      handler: async (_c, { body }) => {
        const expires_at = body.expires_at ?? null;
        if (expires_at !== null && Date.parse(expires_at) <= now()) {
          throw badRequest('expires_at: must be in the future', { field: 'expires_at' });
        }
        const { record, key } = await keys.create({
          name: body.name,
          role: body.role,
          expires_at,
          allowed_networks: body.allowed_networks ?? [],
        });
        return ok({ ...view(record), key });
      },
    }),
  );
  r.add(
    route({
      method: 'DELETE',
      path: '/admin/apikeys/:id',
      summary: 'Revoke an API key',
      tags,
      params: { id: pathName('the key id') },
      responses: { 200: null },
      errors: [404],
      handler: async (_c, { params }) => {
        if (!(await keys.revoke(params.id))) throw notFound(`no such API key: ${params.id}`);
        return ok();
      },
    }),
  );
}
