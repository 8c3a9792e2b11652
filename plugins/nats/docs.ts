// What the nats plugin carries, declared for the AsyncAPI document (core/contract/asyncapi.ts generates the channels
// from this and from the event declarations): the server, the event subjects, the request/reply of GET queries.
import type { BrokerDoc } from '../../core/contract/asyncapi.ts';
import { v } from '../../core/contract/schema.ts';

const scalar = v.union([v.string(), v.number(), v.boolean()]);

/** A fleet request's payload (plugins/nats/fleet.ts reads it). */
export const FleetRequestSchema = v.pipe(
  v.object({
    authtoken: v.pipe(
      v.string(),
      v.description('the fleet key (its SHA-256 is in nats.fleet_keys), or a login token or API key of the gateway asked'),
    ),
    query: v.optional(
      v.pipe(v.record(v.string(), v.union([scalar, v.array(scalar)])), v.description('the query parameters of GET /v1/<path>')),
    ),
    method: v.optional(v.pipe(v.literal('GET'), v.description('only GET is answered; any other method gets a 405 envelope'))),
  }),
  v.description('a GET query to one gateway (asterisk.<pbx_id>.api.<path>) or to every gateway (asterisk.*.api.<path>)'),
);

const PbxIdHeader = v.pipe(v.string(), v.description("the answering or publishing gateway's pbx_id"));

export function natsBrokerDoc(servers: readonly string[]): BrokerDoc {
  const [first = 'nats://127.0.0.1:4222', ...more] = servers;
  const tls = first.startsWith('tls://');
  return {
    server: {
      key: 'nats',
      host: first.replace(/^[a-z]+:\/\//, ''),
      protocol: 'nats',
      description:
        `NATS with JetStream (nats.servers${more.length ? `; also ${more.map((s) => s.replace(/^[a-z]+:\/\//, '')).join(', ')}` : ''})` +
        (tls ? ', over TLS' : ''),
    },
    events: {
      address: 'asterisk.{pbx_id}.{event_type}',
      description:
        'Every event, published to JetStream (stream nats.stream, subjects asterisk.*.<event prefix>.>) with the WebSocket frame as its payload; seq is contiguous per run and per PBX. Events for named members only (chat) are not carried.',
      parameters: {
        pbx_id: { description: "the publishing gateway's nats.pbx_id (default: its host name)", examples: ['pbx-paris-1'] },
      },
      headers: v.object({
        'Pbx-Id': PbxIdHeader,
        'Nats-Msg-Id': v.pipe(v.string(), v.description('<run>:<seq>: a publish retried after a lost acknowledgement is stored once')),
      }),
      membersOnly: false,
    },
    requests: {
      address: 'asterisk.{pbx_id}.api.{path}',
      description:
        'A core NATS request (never stored in JetStream); each gateway addressed answers the envelope of GET /v1/<path>, under the REST role rules. A missing or wrong credential gets a 401 envelope.',
      parameters: {
        pbx_id: { description: "one gateway's pbx_id, or * for every gateway (each answers once)", examples: ['pbx-paris-1', '*'] },
        path: {
          description: 'the path after /v1/, / written as . (e.g. admin.core.channels)',
          examples: ['status', 'admin.core.channels'],
        },
      },
      payload: FleetRequestSchema,
      replyHeaders: v.object({ 'Pbx-Id': PbxIdHeader }),
    },
  };
}
