// Fleet queries: a NATS request on asterisk.<pbx_id>.api.<path with / as .> with the JSON payload
// {"authtoken": "<token or API key>", "query": {...}} (or on asterisk.all.api.<path>, which every gateway answers) is answered with the envelope of the REST GET /v1/<path>?<query>,
// under the same role rules: the request is handed to the gateway's own HTTP app with Authorization: Bearer, so
// routing, permissions, validation and answers are exactly the REST ones. Only GET is carried (nothing that changes
// state goes over NATS); a credential is required even for public routes (/status).
import type { Msg } from '@nats-io/transport-node';
import { headers as natsHeaders } from '@nats-io/transport-node';
import type { PluginContext } from '../../core/plugins/contract.ts';
import { errorResponse } from '../../core/http/app.ts';
import { ApiError } from '../../core/http/errors.ts';

/** The REST error envelope for this status and message. */
const errorEnvelope = (status: number, message: string): Promise<string> => errorResponse(new ApiError(status, message)).text();

/** The pbx_id token every gateway answers: a request to asterisk.all.api.<path> is a question to the whole fleet. */
export const FLEET_ALL = 'all';

export async function answerFleetQuery(ctx: PluginContext, pbxId: string, prefix: string, msg: Msg): Promise<void> {
  if (!msg.reply) return;
  const h = natsHeaders();
  h.set('Pbx-Id', pbxId);
  const reply = (body: string) => msg.respond(body, { headers: h });
  const rest = msg.subject.startsWith(prefix) ? msg.subject.slice(prefix.length) : '';
  let payload: { authtoken?: unknown; query?: unknown; method?: unknown } = {};
  if (msg.data.length > 0) {
    try {
      const p = JSON.parse(msg.string()) as unknown;
      if (typeof p !== 'object' || p === null || Array.isArray(p)) throw new Error('not an object');
      payload = p as typeof payload;
    } catch {
      reply(await errorEnvelope(400, 'the request payload must be a JSON object {"authtoken": ..., "query": {...}}'));
      return;
    }
  }
  const token = typeof payload.authtoken === 'string' ? payload.authtoken : '';
  if (!token || !ctx.authenticates(token)) {
    reply(await errorEnvelope(401, 'a valid authtoken (a login token or an API key) is required'));
    return;
  }
  const method = payload.method === undefined ? 'GET' : String(payload.method).toUpperCase();
  if (method !== 'GET') {
    reply(await errorEnvelope(405, `only GET is answered over NATS, not ${method}`));
    return;
  }
  const params = new URLSearchParams();
  if (payload.query !== undefined) {
    if (typeof payload.query !== 'object' || payload.query === null || Array.isArray(payload.query)) {
      reply(await errorEnvelope(400, 'query: must be an object of query parameters'));
      return;
    }
    for (const [k, v] of Object.entries(payload.query)) {
      if (v === undefined || v === null) continue;
      for (const x of Array.isArray(v) ? v : [v]) params.append(k, typeof x === 'object' ? JSON.stringify(x) : String(x));
    }
  }
  const path = `/v1/${rest.split('.').map(encodeURIComponent).join('/')}`;
  const qs = params.toString();
  const res = await ctx.request(
    new Request(`http://nats.fleet${path}${qs ? `?${qs}` : ''}`, { method: 'GET', headers: { authorization: `Bearer ${token}` } }),
  );
  reply(await res.text());
}
