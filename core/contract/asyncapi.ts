// The AsyncAPI 3 document of the WebSocket (/v1/ws), generated from the event declarations the plugins publish with.
import type { EventAccess, EventSpec } from './events.ts';
import { requiredRole } from './route.ts';
import { componentSchemas, jsonSchema } from './openapi.ts';
import { ClientMessageSchema } from '../ws/ws.ts';

type Json = Record<string, unknown>;

const str = { type: 'string' };
const position = {
  seq: { type: 'integer', description: 'the last event seq this frame accounts for (events after it have a higher seq)' },
  run: { type: 'string', description: "this run of the gateway; with seq, the client's resume point" },
};

/** Frames the socket itself sends, beside the plugins' events. */
export const SOCKET_MESSAGES: { type: string; summary: string; data?: Json; extra?: Json }[] = [
  {
    type: 'hello',
    summary: 'sent once when the socket opens: the run and the current seq',
    data: { type: 'object', properties: { topics: { type: 'array', items: str } }, required: ['topics'] },
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
    extra: { request: { enum: ['subscribe', 'unsubscribe'] }, topic: str },
  },
  {
    type: 'error',
    summary: 'a client message was refused (nothing changed); code as in the REST error table',
    extra: { code: str, message: str },
  },
];

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

export function asyncApiDocument(events: readonly EventSpec[], info: { version: string }): Json {
  const messages: Record<string, Json> = {};
  const key = (type: string) => type.replace(/[^A-Za-z0-9_.-]/g, '_');
  const wrap = (type: string, data: Json | undefined, extra: Json = {}) => ({
    type: 'object',
    properties: {
      type: { type: 'string', const: type },
      ...(data ? position : {}),
      ...(data ? { data } : {}),
      ...(data ? { timestamp: { type: 'string', format: 'date-time' } } : {}),
      ...extra,
    },
    required: ['type', ...(data ? ['seq', 'run', 'data', 'timestamp'] : []), ...Object.keys(extra)],
    additionalProperties: false,
  });
  for (const m of SOCKET_MESSAGES) messages[key(m.type)] = { name: m.type, summary: m.summary, payload: wrap(m.type, m.data, m.extra) };
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
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'asterisk-gateway events',
      version: info.version,
      description: [
        'The event stream at /v1/ws?authtoken=<token>[&topics=<prefix>,...][&snapshot=true][&resume=<run>:<seq>].',
        'Each event frame is {type, seq, run, data, timestamp}; seq is monotonic within one run of the gateway.',
        'A socket receives only the events its user may GET (see each message). Subscribe in-band with',
        '{"type":"subscribe","topic":"queue.","filter":{"queue_name":"sales"},"snapshot":true}; ?resume= replays the',
        'events missed since <run>:<seq>, or answers gateway.resync and a snapshot when they are no longer kept.',
        'Close codes: 4001 the token ended (logout, expiry, user deleted), 4003 the user lost a permission,',
        '1013 too slow (more than websocket.max_buffered_bytes unsent); a socket that misses a ping is dropped.',
      ].join(' '),
    },
    channels: {
      events: {
        address: '/v1/ws',
        title: 'gateway events',
        messages: Object.fromEntries(Object.entries(messages).map(([k, m]) => [k, m])),
      },
    },
    operations: {
      receiveEvents: { action: 'receive', channel: { $ref: '#/channels/events' }, messages: Object.values(refs) },
      sendRequests: {
        action: 'send',
        channel: { $ref: '#/channels/events' },
        messages: [{ $ref: '#/channels/events/messages/client_request' }],
      },
    },
    components: { schemas: componentSchemas('output', '#/components/schemas/') },
  };
}
