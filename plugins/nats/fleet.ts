// Fleet queries: a NATS request on asterisk.<pbx_id>.api.<path with / as .> with the JSON payload
// {"authtoken": "<fleet key, token or API key>", "query": {...}} is answered with the envelope of the REST
// GET /v1/<path>?<query>, under the same role rules: the request is handed to the gateway's own HTTP app, so routing,
// permissions, validation and answers are exactly the REST ones. Only GET is carried (nothing that changes state goes
// over NATS); a credential is required even for public routes (/status).
//
// The whole fleet: the pbx token may be the literal `*` (asterisk.*.api.status). NATS routes a published `*` like any
// other token into the subscriptions that have a wildcard there, never into asterisk.<pbx_id>.api.>, so every gateway
// subscribes to asterisk.*.api.> and answers a request whose pbx token is its own pbx_id or `*`, and ignores the rest.
//
// The fleet credential: gateway.yaml's nats.fleet_keys holds the SHA-256 of keys the operator installs on every
// gateway; a request whose authtoken hashes to one is served with that key's role (as an API key of that role would).
import { timingSafeEqual } from 'node:crypto';
import type { Msg } from '@nats-io/transport-node';
import { headers as natsHeaders } from '@nats-io/transport-node';
import type { Role } from '../../core/auth/accounts.ts';
import { hashKey } from '../../core/auth/apikeys.ts';
import type { Identity, PluginContext } from '../../core/plugins/contract.ts';
import { errorResponse } from '../../core/http/app.ts';
import { ApiError } from '../../core/http/errors.ts';

/** The REST error envelope for this status and message. */
const errorEnvelope = (status: number, message: string): Promise<string> => errorResponse(new ApiError(status, message)).text();

/** The pbx token of a question to the whole fleet: asterisk.*.api.<path> is answered by every gateway. */
export const FLEET_ANY = '*';

/** What every gateway subscribes to: requests to it, to the fleet, and to the others (ignored). */
export const FLEET_SUBSCRIPTION = 'asterisk.*.api.>';

/** The pbx token and the path tokens of a request subject, or undefined when it is not asterisk.<x>.api.<path>. */
export function parseApiSubject(subject: string): { target: string; path: string[] } | undefined {
  const t = subject.split('.');
  if (t.length < 4 || t[0] !== 'asterisk' || t[2] !== 'api') return undefined;
  return { target: t[1]!, path: t.slice(3) };
}

export interface FleetKeyConfig {
  name: string;
  sha256: string;
  role: Role;
}

/** The fleet keys of gateway.yaml (their SHA-256 only), checked in constant time. */
export class FleetKeys {
  private readonly keys: { name: string; role: Role; hash: Buffer }[];

  constructor(keys: readonly FleetKeyConfig[]) {
    this.keys = keys.map((k) => ({ name: k.name, role: k.role, hash: Buffer.from(k.sha256, 'hex') }));
  }

  get size(): number {
    return this.keys.length;
  }

  /**
   * The identity of a fleet key, or undefined. Every configured hash is compared (timingSafeEqual, no early exit), so
   * the time taken says nothing about which key, if any, came close.
   */
  resolve(token: string): Identity | undefined {
    if (this.keys.length === 0 || token.length === 0) return undefined;
    const h = Buffer.from(hashKey(token), 'hex');
    let found: (typeof this.keys)[number] | undefined;
    for (const k of this.keys) if (timingSafeEqual(h, k.hash) && !found) found = k;
    // an API key's identity (apiKey: true): no /me routes; the "user" is the fleet key by name, for the request log
    return found && { userUuid: `fleet-key:${found.name}`, roles: new Set([found.role]), apiKey: true };
  }
}

export async function answerFleetQuery(ctx: PluginContext, pbxId: string, keys: FleetKeys, msg: Msg): Promise<void> {
  const parsed = parseApiSubject(msg.subject);
  // another PBX's question (or not one at all): its own gateway answers
  if (!parsed || (parsed.target !== pbxId && parsed.target !== FLEET_ANY)) return;
  if (!msg.reply) return;
  const h = natsHeaders();
  h.set('Pbx-Id', pbxId);
  const reply = (body: string) => msg.respond(body, { headers: h });
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
  const fleet = keys.resolve(token);
  if (!fleet && (!token || !ctx.authenticates(token))) {
    reply(await errorEnvelope(401, 'a valid authtoken (the fleet key, or a login token or API key of this gateway) is required'));
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
  const path = `/v1/${parsed.path.map(encodeURIComponent).join('/')}`;
  const qs = params.toString();
  const url = `http://nats.fleet${path}${qs ? `?${qs}` : ''}`;
  // a fleet key is not a credential the HTTP app knows: its identity is handed over with the request instead
  const res = fleet
    ? await ctx.request(new Request(url, { method: 'GET' }), fleet)
    : await ctx.request(new Request(url, { method: 'GET', headers: { authorization: `Bearer ${token}` } }));
  reply(await res.text());
}
