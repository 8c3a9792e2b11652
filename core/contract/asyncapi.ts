// The AsyncAPI 3 document of the WebSocket (/v1/ws), generated from the event declarations the plugins publish with.
import type { EventAccess, EventSpec } from './events.ts';
import { requiredRole } from './route.ts';
import { componentSchemas, jsonSchema } from './openapi.ts';

type Json = Record<string, unknown>;

/** Messages the socket itself sends, beside the plugins' events. */
export const SOCKET_MESSAGES = [
  {
    type: 'hello',
    summary: 'sent once when the socket opens',
    data: { type: 'object', properties: { topics: { type: 'array', items: { type: 'string' } } }, required: ['topics'] },
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
  const wrap = (type: string, data: Json) => ({
    type: 'object',
    properties: {
      type: { type: 'string', const: type },
      data,
      timestamp: { type: 'string', format: 'date-time' },
    },
    required: ['type', 'data', 'timestamp'],
    additionalProperties: false,
  });
  for (const m of SOCKET_MESSAGES) messages[key(m.type)] = { name: m.type, summary: m.summary, payload: wrap(m.type, m.data) };
  for (const e of [...events].sort((a, b) => a.type.localeCompare(b.type))) {
    messages[key(e.type)] = {
      name: e.type,
      summary: e.summary,
      ...accessDocs(e.access),
      payload: wrap(e.type, jsonSchema(e.payload, 'output', '#/components/schemas/')),
    };
  }
  const refs = Object.fromEntries(Object.keys(messages).map((k) => [k, { $ref: `#/channels/events/messages/${k}` }]));
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'asterisk-gateway events',
      version: info.version,
      description:
        'Events pushed over the WebSocket at /v1/ws?authtoken=<token>[&topics=<prefix>,...]. Each message is ' +
        '{type, data, timestamp}; `topics` keeps only the types that start with one of the prefixes.',
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
    },
    components: { schemas: componentSchemas('output', '#/components/schemas/') },
  };
}
