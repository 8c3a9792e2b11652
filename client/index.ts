// A typed client for the gateway: openapi-fetch over the types generated from /v1/openapi.json (schema.d.ts).
//   import { gatewayClient } from './client/index.ts';
//   const gw = gatewayClient('https://pbx.example:8081', token);
//   const { data } = await gw.GET('/v1/admin/queue/members', { params: { query: { queue_name: 'sales' } } });
//   data?.result.list[0]?.paused   // typed
import createClient from 'openapi-fetch';
import type { paths } from './schema.d.ts';

export type { paths };

export function gatewayClient(baseUrl: string, token?: string, fetch?: (req: Request) => Promise<Response>) {
  return createClient<paths>({ baseUrl, headers: token ? { authorization: `Bearer ${token}` } : {}, ...(fetch ? { fetch } : {}) });
}
