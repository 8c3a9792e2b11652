// Checking a request against its route's schemas, and turning the first problem into the gateway's 400 envelope
// with a `field` and a stable `code` (invalid_field, unknown_field, malformed_json).
import type { Context } from 'hono';
import { ApiError, invalidField, malformedJson, payloadTooLarge } from '../http/errors.ts';
import type { AnyRoute } from './route.ts';
import { v } from './schema.ts';

type Issue = v.BaseIssue<unknown>;

export function fieldOf(issue: Issue): string | undefined {
  if (!issue.path?.length) return undefined;
  let out = '';
  for (const item of issue.path) {
    const key = (item as { key?: unknown }).key;
    if (typeof key === 'number') out += `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out;
}

/** The first issue as an ApiError; `where` names the part of the request ("body", "query", "path"). */
export function issueError(issues: readonly Issue[], where: string): ApiError {
  const issue = issues[0];
  if (!issue) return new ApiError(400, `${where}: invalid`, undefined, 'invalid_field');
  const field = fieldOf(issue);
  if (field === undefined) return new ApiError(400, `${where}: ${issue.message}`, undefined, 'invalid_field');
  if ((issue.type === 'strict_object' || issue.type === 'loose_object') && issue.expected === 'never') {
    return new ApiError(400, `${field}: unknown field`, { field }, 'unknown_field');
  }
  if (issue.received === 'undefined') return invalidField(field, 'is required');
  return invalidField(field, issue.message);
}

export function check<S extends v.GenericSchema>(schema: S, input: unknown, where: string): v.InferOutput<S> {
  const r = v.safeParse(schema, input, { abortEarly: true });
  if (!r.success) throw issueError(r.issues, where);
  return r.output;
}

const OBJECT_SCHEMAS = new Set(['object', 'strict_object', 'loose_object', 'object_with_rest']);
const invalidBody = (message: string) => new ApiError(400, `body: ${message}`, undefined, 'invalid_field');

const GET_BODY_LIMIT = 64 * 1024;

/**
 * A body refused with 413 is left unread (or its stream cancelled, which ends the socket): the answer says
 * `Connection: close`, so a keep-alive client does not send its next request on a connection about to be reset.
 */
function tooLarge(c: Context, limit: number): ApiError {
  (c.env as { outgoing?: { setHeader(k: string, v: string): void } } | undefined)?.outgoing?.setHeader('connection', 'close');
  return limit === GET_BODY_LIMIT ? new ApiError(413, `request body is larger than ${GET_BODY_LIMIT} bytes`) : payloadTooLarge(limit);
}

/**
 * The spec sends some detail queries as a GET with a JSON body. The Node adapter builds its Request without a body
 * for GET, so read it from the raw IncomingMessage there; Bun keeps it on the Request.
 */
async function bodyText(c: Context, limit: number): Promise<string> {
  if (c.req.method !== 'GET') return limitedText(c, limit);
  const incoming = (c.env as { incoming?: AsyncIterable<Buffer> & { headers?: Record<string, unknown> } } | undefined)?.incoming;
  if (!incoming) return c.req.text();
  if (!incoming.headers?.['content-length'] && !incoming.headers?.['transfer-encoding']) return '';
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of incoming) {
    size += chunk.length;
    if (size > GET_BODY_LIMIT) throw tooLarge(c, GET_BODY_LIMIT);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * The body as text, refused with 413 beyond `limit` bytes (http.body_limit_bytes): by its Content-Length before
 * anything is read, else while reading. Only routes that declare a body read one.
 */
async function limitedText(c: Context, limit: number): Promise<string> {
  const declared = Number(c.req.header('content-length'));
  if (declared > limit) throw tooLarge(c, limit);
  const stream = c.req.raw.body;
  if (!stream) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw tooLarge(c, limit);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Read the body as JSON. An empty body gives undefined when the route allows it. */
async function readJson(c: Context, optional: boolean, limit: number): Promise<unknown> {
  const text = await bodyText(c, limit);
  if (text.trim() === '') {
    if (optional) return undefined;
    throw malformedJson('request body is empty; a JSON object is required');
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw malformedJson(`malformed JSON: ${(e as Error).message}`);
  }
}

// Compiled once per route: the object schemas of its params and query.
const compiled = new WeakMap<AnyRoute, { params?: v.GenericSchema; query?: v.GenericSchema }>();

function schemasOf(route: AnyRoute) {
  let s = compiled.get(route);
  if (!s) {
    s = {
      params: route.params ? v.object(route.params) : undefined,
      // Query strings are lenient: unknown parameters (authtoken, cache busters) are ignored.
      query: route.query ? v.object(route.query) : undefined,
    };
    compiled.set(route, s);
  }
  return s;
}

export async function readInput(
  route: AnyRoute,
  c: Context,
  bodyLimit: number,
): Promise<{ params: unknown; query: unknown; body: unknown }> {
  const s = schemasOf(route);
  const params = s.params ? check(s.params, c.req.param(), 'path') : {};
  const query = s.query ? check(s.query, c.req.query(), 'query') : {};
  let body: unknown;
  if (route.body) {
    if (route.bodyType === 'text') {
      body = check(route.body, await bodyText(c, bodyLimit), 'body');
    } else if (route.textBody && (c.req.header('content-type') ?? '').toLowerCase().startsWith('text/plain')) {
      body = check(route.textBody, await bodyText(c, bodyLimit), 'body');
    } else {
      // An absent optional body is checked as {} (its fields are then all optional, as the key may be in the query).
      const raw = await readJson(c, route.bodyOptional ?? false, bodyLimit);
      // valibot's object schemas take an array (typeof 'object' too): "name: is required" or "0: unknown field"
      // would then answer `[1]`; an object body must be an object. A JSON `null` is a value, not an absent body:
      // refused too.
      if ((Array.isArray(raw) || raw === null) && OBJECT_SCHEMAS.has(route.body.type)) throw invalidBody('must be a JSON object');
      body = check(route.body, raw === undefined ? {} : raw, 'body');
    }
  }
  return { params, query, body };
}
