// The OpenAPI 3.1 document, generated from the route declarations (never written by hand). Every route appears at
// its /v1 path; the unprefixed legacy form is said once in info.description. Results are wrapped in the spec's
// envelope; error answers are derived from the declaration (input -> 400, token -> 401/403, live -> 503 ...).
import { toJsonSchema, toJsonSchemaDefs } from '@valibot/to-json-schema';
import type { RegisteredRoute } from '../http/app.ts';
import { API_VERSION } from '../http/envelope.ts';
import { ERROR_CODES } from '../http/errors.ts';
import { type ResponseSpec, isOwnRecord, openApiPath, responseParts } from './route.ts';
import { namedSchemas, type v } from './schema.ts';

type Json = Record<string, unknown>;

const STATUS_TEXT: Record<number, string> = {
  200: 'OK',
  201: 'Created',
  202: 'Accepted',
  400: 'Bad request: malformed JSON, a wrong type, an unknown field, a line break in a single-line value',
  401: 'No token, or a wrong or expired one',
  403: 'The user lacks the permission this route needs',
  404: 'No such object',
  405: 'The path exists, but not with this method (see the Allow header)',
  409: 'Conflict with the current state',
  412: 'If-Match did not match the current ETag',
  413: 'The body is too large',
  429: 'Too many failed logins for this username or address (see the Retry-After header)',
  502: 'Asterisk refused the action',
  503: 'Asterisk is not connected, or the plugin has not finished reading its state',
  504: 'Asterisk did not answer in time',
  507: 'The disk is full: nothing was changed',
};

/** Convert a valibot schema; named schemas become $refs to components/schemas. */
export function jsonSchema(schema: v.GenericSchema, mode: 'input' | 'output', refBase = '#/components/schemas/'): Json {
  const definitions = Object.fromEntries(namedSchemas());
  const out = toJsonSchema(schema, {
    target: 'draft-2020-12',
    typeMode: mode,
    errorMode: 'ignore',
    definitions,
    overrideRef: (ctx) => `${refBase}${ctx.referenceId}`,
  }) as Json;
  delete out.$schema;
  delete out.$defs;
  return out;
}

export function componentSchemas(mode: 'input' | 'output' = 'output', refBase = '#/components/schemas/'): Record<string, Json> {
  // One conversion of every named schema; references between them become $refs to each other.
  const defs = toJsonSchemaDefs(Object.fromEntries(namedSchemas()), {
    target: 'draft-2020-12',
    typeMode: mode,
    errorMode: 'ignore',
    overrideRef: (ctx) => `${refBase}${ctx.referenceId}`,
  }) as Record<string, Json>;
  for (const j of Object.values(defs)) {
    delete j.$schema;
    delete j.$defs;
  }
  // by name: the order schemas were registered in follows module load order, which differs between processes (and
  // within `bun test`'s one process between runs of different files); the documents and the generated client must not
  return Object.fromEntries(Object.entries(defs).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** The answer envelope {api_ver, statuscode, timestamp, result}: of one status, or (status undefined) of any. */
export function envelope(result: Json | null, status?: number): Json {
  const properties: Json = {
    api_ver: { type: 'string', const: API_VERSION },
    statuscode:
      status === undefined ? { type: 'integer', description: 'the HTTP status the REST answer has' } : { type: 'integer', const: status },
    timestamp: { type: 'string', format: 'date-time' },
  };
  if (result) properties.result = result;
  return {
    type: 'object',
    properties,
    required: ['api_ver', 'statuscode', 'timestamp', ...(result ? ['result'] : [])],
    additionalProperties: false,
  };
}

export const ERROR_RESULT: Json = {
  type: 'object',
  properties: {
    message: { type: 'string', description: 'what was wrong, for a person' },
    code: { type: 'string', enum: Object.keys(ERROR_CODES), description: 'what was wrong, for a program' },
    field: { type: 'string', description: 'the field that was refused (invalid_field, unknown_field)' },
    retry_after_s: { type: 'integer', description: 'with too_many_requests: seconds to wait (also the Retry-After header)' },
    ami_connected: { type: 'boolean', description: 'GET /ready answering not_ready: whether Asterisk is connected' },
    waiting_for: { type: 'array', items: { type: 'string' }, description: 'GET /ready answering not_ready: the plugins not live yet' },
    asterisk_log: {
      type: 'array',
      items: { type: 'string' },
      description:
        'reload_rejected: the WARNING and ERROR lines Asterisk logged while refusing the write (asterisk.log_file; empty when it cannot be read)',
    },
    problems: {
      type: 'array',
      description: 'every problem found in a config file',
      items: {
        type: 'object',
        properties: { line: { type: 'integer' }, severity: { enum: ['error', 'warning'] }, message: { type: 'string' } },
        required: ['line', 'severity', 'message'],
      },
    },
  },
  required: ['message', 'code'],
};

function responseOf(spec: ResponseSpec, status: number): Json {
  const { schema, description = STATUS_TEXT[status] ?? 'OK', contentType } = responseParts(spec);
  const result = schema ? jsonSchema(schema, 'output') : null;
  if (contentType) return { description, content: { [contentType]: { schema: result ?? {} } } };
  return { description, content: { 'application/json': { schema: envelope(result, status) } } };
}

function errorResponse(status: number): Json {
  return {
    description: STATUS_TEXT[status] ?? 'Error',
    content: { 'application/json': { schema: { $ref: `#/components/schemas/Error${status}` } } },
  };
}

export interface DocumentInfo {
  version: string;
  plugins: string[];
}

export function openApiDocument(routes: readonly RegisteredRoute[], info: DocumentInfo): Json {
  const paths: Record<string, Record<string, Json>> = {};
  const errorStatuses = new Set<number>();
  for (const { route, role, plugin } of routes) {
    const p = `/v1${openApiPath(route.path)}`;
    const parameters: Json[] = [];
    for (const [name, s] of Object.entries(route.params ?? {})) {
      const schema = jsonSchema(s as v.GenericSchema, 'input');
      parameters.push({ name, in: 'path', required: true, schema, ...(schema.description ? { description: schema.description } : {}) });
    }
    for (const [name, s] of Object.entries(route.query ?? {})) {
      const gs = s as v.GenericSchema;
      const schema = jsonSchema(gs, 'input');
      const optional = gs.type === 'optional' || gs.type === 'nullish' || gs.type === 'exact_optional';
      parameters.push({
        name,
        in: 'query',
        required: !optional,
        schema,
        ...(schema.description ? { description: schema.description } : {}),
      });
    }
    const responses: Record<string, Json> = {};
    for (const [status, spec] of Object.entries(route.responses)) responses[status] = responseOf(spec, Number(status));
    const errors = new Set<number>(route.errors ?? []);
    if (route.params || route.query || route.body) errors.add(400);
    if (!route.public) {
      errors.add(401);
      // routes on the caller's own record refuse API keys (they belong to no user)
      if (role !== 'any' || isOwnRecord(route)) errors.add(403);
    }
    if (route.live) errors.add(503);
    if (route.body) errors.add(413);
    for (const s of [...errors].sort()) {
      errorStatuses.add(s);
      responses[String(s)] = errorResponse(s);
    }
    const op: Json = {
      operationId: operationId(route.method, route.path),
      summary: route.summary,
      description: [
        route.description,
        route.public ? 'No token needed.' : role === 'any' ? 'Any logged-in user.' : `Needs the **${role}** permission.`,
        route.live ? 'Answered from live AMI state (503 while Asterisk is not connected or the state is being read).' : undefined,
      ]
        .filter(Boolean)
        .join('\n\n'),
      tags: route.tags,
      'x-required-role': route.public ? 'none' : role,
      'x-plugin': plugin,
      'x-live': Boolean(route.live),
      ...(route.basicAuth ? { security: [{ basic: [] }] } : route.public ? { security: [] } : {}),
      ...(parameters.length ? { parameters } : {}),
      responses,
    };
    if (route.body) {
      const type = route.bodyType === 'text' ? 'text/plain' : 'application/json';
      const content: Json = { [type]: { schema: jsonSchema(route.body, 'input') } };
      if (route.textBody) content['text/plain'] = { schema: jsonSchema(route.textBody, 'input') };
      op.requestBody = { required: !route.bodyOptional, content };
    }
    paths[p] ??= {};
    paths[p][route.method.toLowerCase()] = op;
  }
  errorStatuses.add(404).add(405);
  const schemas: Record<string, Json> = { ...componentSchemas('output'), ErrorResult: ERROR_RESULT };
  for (const s of [...errorStatuses].sort()) schemas[`Error${s}`] = envelope({ $ref: '#/components/schemas/ErrorResult' }, s);
  return {
    openapi: '3.1.0',
    info: {
      title: 'asterisk-gateway',
      version: info.version,
      description: [
        'REST API of asterisk-gateway: live state and control of an Asterisk PBX over AMI, its config files, and the',
        "gateway's own users. Every answer is the envelope `{api_ver, statuscode, timestamp, result}`; an error's",
        '`result` has `message` and a stable `code`. Every path also answers without the `/v1` prefix (the original',
        `gateway's form). Plugins enabled here: ${info.plugins.join(', ')}.`,
      ].join(' '),
    },
    servers: [{ url: '/' }],
    security: [{ authtoken: [] }, { bearer: [] }],
    tags: [...new Set(routes.flatMap((r) => r.route.tags))].sort().map((name) => ({ name })),
    paths,
    components: {
      schemas,
      securitySchemes: {
        authtoken: { type: 'apiKey', in: 'query', name: 'authtoken', description: 'the token from POST /v1/<scope>/login' },
        bearer: { type: 'http', scheme: 'bearer', description: 'the same token as Authorization: Bearer' },
        basic: { type: 'http', scheme: 'basic', description: 'username and password, for POST /v1/<scope>/login only' },
      },
    },
  };
}

function operationId(method: string, path: string): string {
  const words = openApiPath(path)
    .split('/')
    .filter(Boolean)
    .map((w) => (w.startsWith('{') ? `by_${w.slice(1, -1)}` : w))
    .join('_')
    .replace(/[^A-Za-z0-9_]/g, '_');
  return `${method.toLowerCase()}_${words || 'root'}${path.endsWith('/') && path.length > 1 ? '_detail' : ''}`;
}
