// The AsyncAPI 3 document of the WebSocket (/v1/ws), generated from the event declarations the plugins publish with;
// with a broker plugin (nats), also the broker's side: its server, the event subjects (the same frames) and the
// request/reply channel of GET queries, from the BrokerDoc the plugin declares.
import type * as v from 'valibot';
import type { EventAccess, EventSpec } from './events.ts';
import { requiredRole } from './route.ts';
import { componentSchemas, ERROR_RESULT, envelope, jsonSchema } from './openapi.ts';
import { ClientMessageSchema, MAX_SUBSCRIPTIONS, WS_MAX_CLIENT_MESSAGE } from '../ws/ws.ts';

type Json = Record<string, unknown>;

const str = { type: 'string' };
const position = {
  seq: { type: 'integer', description: 'the last event seq this frame accounts for (events after it have a higher seq)' },
  run: { type: 'string', description: "this run of the gateway; with seq, the client's resume point" },
};

/** Frames the socket itself sends, beside the plugins' events. */
export const SOCKET_MESSAGES: { type: string; summary: string; data?: Json; extra?: Json; optional?: Json }[] = [
  {
    type: 'hello',
    summary: 'sent once when the socket opens: the run and the current seq',
    data: {
      type: 'object',
      properties: {
        topics: { type: 'array', items: str },
        heartbeat_s: { type: 'number', description: 'with ?heartbeat=true: a heartbeat frame comes this often' },
      },
      required: ['topics'],
    },
  },
  {
    type: 'heartbeat',
    summary:
      'with ?heartbeat=true, every websocket.heartbeat_s: the current seq, a resume point (every event up to it this socket may receive was sent before it); no frame for two intervals means the link is dead',
    extra: { ...position, timestamp: { type: 'string', format: 'date-time' } },
  },
  {
    type: 'snapshot',
    summary:
      'the current state of what the socket subscribed to, as of `seq` (with ?snapshot=true, a subscribe with "snapshot": true, or after gateway.resync): one list per object kind, e.g. data["core.channel"] is what GET /v1/admin/core/channels lists',
    data: { type: 'object', additionalProperties: { type: 'array' } },
  },
  {
    type: 'gateway.resync',
    summary:
      'the client must start over from the snapshot that follows: its resume point is no longer kept, the gateway restarted, or Asterisk reconnected and the state was read again',
    data: { type: 'object', properties: { reason: str }, required: ['reason'] },
  },
  {
    type: 'ack',
    summary: 'a subscribe or unsubscribe was applied',
    extra: { request: { enum: ['subscribe', 'unsubscribe'] }, topic: str, ...position },
    optional: {
      types: {
        type: 'array',
        items: str,
        description: 'subscribe: the event types the subscription delivers to this user (those it may receive)',
      },
    },
  },
  {
    type: 'error',
    summary: 'a client message was refused (nothing changed); code as in the REST error table',
    extra: { code: str, message: str },
  },
];

/** A subject (channel address) parameter. */
export interface BrokerParameter {
  description: string;
  examples?: string[];
}

/**
 * What a plugin that links the gateway to a message broker declares for the AsyncAPI document (nats): the document's
 * channels and messages are generated from it and from the event declarations.
 */
export interface BrokerDoc {
  /** the server entry (its key in `servers`) */
  server: { key: string; host: string; protocol: string; protocolVersion?: string; description: string };
  /** the subject of each event frame: its address holds {event_type} and the parameters below */
  events: {
    address: string;
    description: string;
    parameters: Record<string, BrokerParameter>;
    /** the message headers each frame carries */
    headers: v.GenericSchema;
    /** whether events for named members only (chat) are carried */
    membersOnly: boolean;
  };
  /** GET queries by request/reply: the request subject, its payload; the reply is the REST envelope */
  requests?: {
    address: string;
    description: string;
    parameters: Record<string, BrokerParameter>;
    payload: v.GenericSchema;
    replyHeaders: v.GenericSchema;
  };
}

function accessDocs(access: EventAccess): Json {
  if ('members' in access) {
    return { description: `Who receives it: ${access.members} only.`, 'x-required-role': 'members', 'x-audience': access.members };
  }
  const role = requiredRole(access.like);
  const who = role === 'any' ? 'any logged-in user' : role === 'admin' ? 'administrators' : 'managers and administrators';
  return {
    description: `Who receives it: ${who}, like GET /v1${access.like} (the WebSocket sends a socket only what its user may GET).`,
    'x-required-role': role,
    'x-like-route': `GET /v1${access.like}`,
  };
}

export function asyncApiDocument(events: readonly EventSpec[], info: { version: string }, brokers: readonly BrokerDoc[] = []): Json {
  const messages: Record<string, Json> = {};
  const key = (type: string) => type.replace(/[^A-Za-z0-9_.-]/g, '_');
  const wrap = (type: string, data: Json | undefined, extra: Json = {}, optional: Json = {}) => ({
    type: 'object',
    properties: {
      type: { type: 'string', const: type },
      ...(data ? position : {}),
      ...(data ? { data } : {}),
      ...(data ? { timestamp: { type: 'string', format: 'date-time' } } : {}),
      ...extra,
      ...optional,
    },
    required: ['type', ...(data ? ['seq', 'run', 'data', 'timestamp'] : []), ...Object.keys(extra)],
    additionalProperties: false,
  });
  for (const m of SOCKET_MESSAGES)
    messages[key(m.type)] = { name: m.type, summary: m.summary, payload: wrap(m.type, m.data, m.extra, m.optional) };
  for (const e of [...events].sort((a, b) => a.type.localeCompare(b.type))) {
    messages[key(e.type)] = {
      name: e.type,
      summary: e.summary,
      ...accessDocs(e.access),
      payload: wrap(e.type, jsonSchema(e.payload, 'output', '#/components/schemas/')),
    };
  }
  const refs = Object.fromEntries(Object.keys(messages).map((k) => [k, { $ref: `#/channels/events/messages/${k}` }]));
  messages.client_request = {
    name: 'subscribe / unsubscribe',
    summary: 'sent by the client; answered with ack or error',
    payload: jsonSchema(ClientMessageSchema, 'input', '#/components/schemas/'),
  };
  const channels: Record<string, Json> = {
    events: {
      address: '/v1/ws',
      title: 'gateway events',
      messages: Object.fromEntries(Object.entries(messages).map(([k, m]) => [k, m])),
    },
  };
  const operations: Record<string, Json> = {
    receiveEvents: { action: 'receive', channel: { $ref: '#/channels/events' }, messages: Object.values(refs) },
    sendRequests: {
      action: 'send',
      channel: { $ref: '#/channels/events' },
      messages: [{ $ref: '#/channels/events/messages/client_request' }],
    },
  };
  const schemas = componentSchemas('output', '#/components/schemas/');
  const servers: Record<string, Json> = {};
  if (brokers.length > 0) {
    // with a broker, each channel says where it is: the WebSocket on the gateway, the subjects on the broker
    servers.gateway = {
      host: '{host}',
      protocol: 'ws',
      description: "the gateway's HTTP listener (wss with http.tls)",
      variables: { host: { default: 'localhost:8088', description: 'http.host:http.port' } },
    };
    channels.events!.servers = [{ $ref: '#/servers/gateway' }];
    schemas.ErrorResult = ERROR_RESULT;
  }
  for (const b of brokers) {
    const k = b.server.key;
    const { key: _key, ...server } = b.server;
    servers[k] = server;
    const on = [{ $ref: `#/servers/${k}` }];
    // the frames carried: every event the socket sends (but members-only ones unless carried) and gateway.resync
    const carried = [...events]
      .filter((e) => b.events.membersOnly || !('members' in e.access))
      .map((e) => e.type)
      .concat('gateway.resync')
      .sort();
    const headers = jsonSchema(b.events.headers, 'output', '#/components/schemas/');
    const eventMessages: Record<string, Json> = {};
    for (const type of carried) {
      const m = messages[key(type)]!;
      eventMessages[key(type)] = {
        name: type,
        summary: m.summary,
        headers,
        // the very frame the WebSocket sends
        payload: { $ref: `#/channels/events/messages/${key(type)}/payload` },
      };
    }
    channels[`${k}Events`] = {
      address: b.events.address,
      title: `gateway events on ${k}`,
      description: b.events.description,
      servers: on,
      parameters: {
        ...b.events.parameters,
        event_type: { description: 'the event type (its dots are subject separators)', enum: carried },
      },
      messages: eventMessages,
    };
    operations[`receive${cap(k)}Events`] = {
      action: 'receive',
      channel: { $ref: `#/channels/${k}Events` },
      messages: Object.keys(eventMessages).map((m) => ({ $ref: `#/channels/${k}Events/messages/${m}` })),
    };
    const rq = b.requests;
    if (!rq) continue;
    channels[`${k}Requests`] = {
      address: rq.address,
      title: `GET queries on ${k}`,
      description: rq.description,
      servers: on,
      parameters: rq.parameters,
      messages: {
        request: { name: 'request', summary: 'a GET query', payload: jsonSchema(rq.payload, 'input', '#/components/schemas/') },
      },
    };
    channels[`${k}Replies`] = {
      address: null,
      title: `answers to GET queries on ${k}`,
      description: "the request's reply subject (an inbox of the requester): one answer per gateway that answers",
      servers: on,
      messages: {
        reply: {
          name: 'reply',
          summary: 'the envelope GET /v1/<path> answers over REST (result as in the OpenAPI document), or an error envelope',
          headers: jsonSchema(rq.replyHeaders, 'output', '#/components/schemas/'),
          payload: {
            oneOf: [
              envelope({ description: 'what GET /v1/<path> answers (see the OpenAPI document)' }, 200),
              envelope({ $ref: '#/components/schemas/ErrorResult' }),
            ],
          },
        },
      },
    };
    operations[`send${cap(k)}Requests`] = {
      action: 'send',
      channel: { $ref: `#/channels/${k}Requests` },
      messages: [{ $ref: `#/channels/${k}Requests/messages/request` }],
      reply: { channel: { $ref: `#/channels/${k}Replies` }, messages: [{ $ref: `#/channels/${k}Replies/messages/reply` }] },
    };
  }
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'asterisk-gateway events',
      version: info.version,
      description: [
        'The event stream at /v1/ws?authtoken=<token>[&topics=<prefix>,...][&snapshot=true][&resume=<run>:<seq>][&heartbeat=true].',
        'Each event frame is {type, seq, run, data, timestamp}; seq is monotonic within one run of the gateway.',
        'A socket receives only the events its user may GET (see each message). Subscribe in-band with',
        '{"type":"subscribe","topic":"queue.","filter":{"queue_name":"sales"},"snapshot":true}; ?resume= replays the',
        'events missed since <run>:<seq>, or answers gateway.resync and a snapshot when they are no longer kept or',
        'Asterisk reconnected since.',
        'A topic no event type starts with is refused (404 on ?topics=, an error frame not_found in-band), as is one',
        'whose events the user may receive none of (403 / forbidden), and a filter field none of its events has or a',
        'value of another type than the field (invalid_field): such a subscription would never deliver anything.',
        'Close codes: 4001 the token ended (logout, expiry, user deleted), 4003 the user lost a permission,',
        '1013 too slow (more than websocket.max_buffered_bytes unsent, or unsent data for websocket.max_lag_s);',
        `1009 a client message over ${WS_MAX_CLIENT_MESSAGE / 1024} KiB; a socket that misses a ping is dropped.`,
        `A socket holds at most ${MAX_SUBSCRIPTIONS} subscriptions.`,
        ...brokers.map(
          (b) =>
            `On ${b.server.key} (server ${b.server.key}): the same frames on ${b.events.address} (channel ${b.server.key}Events)` +
            (b.requests ? `, and GET queries by request/reply on ${b.requests.address} (channel ${b.server.key}Requests).` : '.'),
        ),
      ].join(' '),
    },
    ...(brokers.length > 0 ? { servers } : {}),
    channels,
    operations,
    components: { schemas },
  };
}

const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
