// Request bodies: parse JSON with a clear 400, then check each field's type. Strings refuse CR, LF and NUL by default,
// because most values end up in an AMI header or a config line, where a line break is an injection.
import type { Context } from 'hono';
import { ApiError, badRequest } from './errors.ts';

type Base = 'string' | 'text' | 'integer' | 'number' | 'boolean' | 'object' | 'array';
/** `text` is a string that may span lines (whole config files). A trailing `?` makes the field optional. */
export type FieldSpec = Base | `${Base}?`;
export type Shape = Record<string, FieldSpec>;

type TypeOf<B> = B extends 'string' | 'text' ? string
  : B extends 'integer' | 'number' ? number
  : B extends 'boolean' ? boolean
  : B extends 'object' ? Record<string, unknown>
  : B extends 'array' ? unknown[]
  : never;
type Required<S extends Shape> = { [K in keyof S as S[K] extends `${string}?` ? never : K]: TypeOf<S[K]> };
type Optional<S extends Shape> = { [K in keyof S as S[K] extends `${infer B}?` ? (B extends Base ? K : never) : never]?:
  S[K] extends `${infer B}?` ? TypeOf<B> : never };
export type Parsed<S extends Shape> = Required<S> & Optional<S>;

const LINE_BREAK = /[\r\n\0]/;

export function assertSingleLine(value: string, field: string): void {
  if (LINE_BREAK.test(value)) throw badRequest(`${field}: must not contain CR, LF or NUL characters`, { field });
}

/** Read the raw body as JSON. An empty body gives `{}` when allowed (GET detail routes take an optional body). */
export async function readJson(c: Context, opts: { allowEmpty?: boolean } = {}): Promise<unknown> {
  const text = c.req.method === 'GET' ? await getBodyText(c) : await c.req.text();
  if (text.trim() === '') {
    if (opts.allowEmpty) return {};
    throw badRequest('request body is empty; a JSON object is required');
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw badRequest(`malformed JSON: ${(e as Error).message}`);
  }
}

const GET_BODY_LIMIT = 64 * 1024;

/**
 * The spec sends some detail queries as a GET with a JSON body. The Node adapter builds its Request without a body
 * for GET, so read it from the raw IncomingMessage there; Bun keeps it on the Request.
 */
async function getBodyText(c: Context): Promise<string> {
  const incoming = (c.env as { incoming?: AsyncIterable<Buffer> & { readableEnded?: boolean; headers?: Record<string, unknown> } } | undefined)?.incoming;
  if (!incoming) return c.req.text();
  if (!incoming.headers?.['content-length'] && !incoming.headers?.['transfer-encoding']) return '';
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of incoming) {
    size += chunk.length;
    if (size > GET_BODY_LIMIT) throw new ApiError(413, `request body is larger than ${GET_BODY_LIMIT} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Check `body` against `shape`. Unknown fields are refused (a typo should not pass silently), except those in `ignore`. */
export function validate<S extends Shape>(body: unknown, shape: S, opts: { ignore?: string[]; where?: string } = {}): Parsed<S> {
  const where = opts.where ? `${opts.where}.` : '';
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw badRequest(`${opts.where ?? 'body'}: must be a JSON object`);
  const obj = body as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(obj)) {
    if (!(key in shape) && !opts.ignore?.includes(key)) throw badRequest(`${where}${key}: unknown field`, { field: key });
  }
  for (const [key, spec] of Object.entries(shape)) {
    const optional = spec.endsWith('?');
    const type = (optional ? spec.slice(0, -1) : spec) as Base;
    const v = obj[key];
    if (v === undefined || v === null) {
      if (!optional) throw badRequest(`${where}${key}: is required`, { field: key });
      continue;
    }
    checkType(v, type, `${where}${key}`);
    out[key] = v;
  }
  return out as Parsed<S>;
}

export function checkType(v: unknown, type: Base, field: string): void {
  const fail = (what: string) => badRequest(`${field}: must be ${what}`, { field });
  switch (type) {
    case 'string':
      if (typeof v !== 'string') throw fail('a string');
      assertSingleLine(v, field);
      return;
    case 'text':
      if (typeof v !== 'string') throw fail('a string');
      if (v.includes('\0')) throw badRequest(`${field}: must not contain NUL characters`, { field });
      return;
    case 'integer':
      if (typeof v !== 'number' || !Number.isInteger(v)) throw fail('an integer');
      return;
    case 'number':
      if (typeof v !== 'number' || !Number.isFinite(v)) throw fail('a number');
      return;
    case 'boolean':
      if (typeof v !== 'boolean') throw fail('a boolean (true or false)');
      return;
    case 'object':
      if (!v || typeof v !== 'object' || Array.isArray(v)) throw fail('a JSON object');
      return;
    case 'array':
      if (!Array.isArray(v)) throw fail('a JSON array');
      return;
  }
}

export async function readBody<S extends Shape>(c: Context, shape: S, opts: { ignore?: string[]; allowEmpty?: boolean } = {}): Promise<Parsed<S>> {
  return validate(await readJson(c, opts), shape, opts);
}

/** A name taken from the URL: one path segment, no traversal, no control characters. */
export function pathName(value: string | undefined, what: string): string {
  if (value === undefined || value === '') throw badRequest(`${what}: is required`);
  if (value === '.' || value === '..' || /[\/\\\0\r\n]/.test(value) || value.includes('..')) {
    throw badRequest(`${what}: "${value.replace(/[\r\n\0]/g, '?')}" must not contain path characters ("/", "\\", "..") or line breaks`);
  }
  return value;
}

/** A route parameter that the route pattern guarantees; Hono types it as possibly undefined. */
export function param(c: Context, name: string): string {
  const v = c.req.param(name);
  if (v === undefined || v === '') throw badRequest(`${name}: is required in the URL`);
  return v;
}

/**
 * The key of a spec-style detail query (`GET /agents/` with `{"id": ...}`, `GET /device_states/` with
 * `{"device": ...}`): from the JSON body, else from `?<field>=`, for clients that cannot send a GET body.
 */
export async function detailKey(c: Context, field: string, alternative: string): Promise<string> {
  const body = validate(await readJson(c, { allowEmpty: true }), { [field]: 'string?' } as Shape) as Record<string, string | undefined>;
  const key = body[field] ?? c.req.query(field);
  if (!key) throw badRequest(`${field}: is required (in the JSON body, as ?${field}=, or use ${alternative})`);
  assertSingleLine(key, field);
  return key;
}
