// A route is declared once, as data: method, path, docs, role (from the path), liveness, request schemas and
// response schemas. The HTTP app derives from the declaration the auth and role check, the live guard and the
// validation; the OpenAPI document (core/contract/openapi.ts) derives from the same object. Handlers get typed
// input (`{ params, query, body }`), already checked: no casts, no hand validators.
import type { Context } from 'hono';
import type { Role } from '../auth/accounts.ts';
import type { BytesAnswer } from '../http/envelope.ts';
import type { v } from './schema.ts';

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** What a handler returns: a Response, or a cached list's bytes in the envelope (core/http/envelope.ts). */
export type Answer = Response | BytesAnswer;

/** The Hono context every handler gets: after the auth check, who is calling. */
export type GatewayEnv = { Variables: { userUuid: string; roles: Set<Role>; token: string; apiKey: boolean } };
export type GatewayContext = Context<GatewayEnv>;

type Entries = v.ObjectEntries;
type EntriesOut<E> = E extends Entries ? v.InferOutput<v.ObjectSchema<E, undefined>> : Record<string, never>;
type BodyOut<B> = B extends v.GenericSchema ? v.InferOutput<B> : undefined;

export interface RouteInput<P, Q, B> {
  params: EntriesOut<P>;
  query: EntriesOut<Q>;
  body: BodyOut<B>;
}

/**
 * A response: the `result` schema inside the envelope (null: the envelope has no result), optionally with what it
 * means. With `contentType`, the answer is that content as is, not an envelope (the documents, the docs page).
 */
export type ResponseSpec = v.GenericSchema | null | { schema: v.GenericSchema | null; description: string; contentType?: string };

export function responseParts(spec: ResponseSpec): { schema: v.GenericSchema | null; description?: string; contentType?: string } {
  if (spec === null) return { schema: null };
  if ('kind' in spec && spec.kind === 'schema') return { schema: spec as v.GenericSchema };
  return spec as { schema: v.GenericSchema | null; description: string; contentType?: string };
}

export interface RouteSpec<
  P extends Entries | undefined = Entries | undefined,
  Q extends Entries | undefined = Entries | undefined,
  B extends v.GenericSchema | undefined = v.GenericSchema | undefined,
> {
  method: Method;
  /** The spec's path without /v1, in Hono's syntax (`/admin/core/channels/:id`, `:name{[\s\S]+}` for any text). */
  path: string;
  summary: string;
  description?: string;
  tags: string[];
  /** Answered from live AMI state: 503 while AMI is down or the plugin has not finished reading its state. */
  live?: boolean;
  /** Needs no token (login, status, the documents). Otherwise the role follows the path: /admin, /manager, other. */
  public?: boolean;
  /**
   * Acts on the caller's own user record: an API key (which belongs to no user) gets 403. Default: the /me/ routes.
   */
  ownRecord?: boolean;
  /** Takes HTTP Basic credentials instead of a token (the login routes). */
  basicAuth?: boolean;
  params?: P;
  query?: Q;
  /** The request body's schema. JSON unless `bodyType` is 'text' (the whole body is the string). */
  body?: B;
  bodyType?: 'json' | 'text';
  /**
   * A JSON route that also takes a text/plain body, checked by this schema, which maps the text to the same input
   * as the JSON body (a whole config file: `{"data": "<text>"}`, or the text itself).
   */
  textBody?: v.GenericSchema<string, BodyOut<B>>;
  /** The body may be absent (the spec's GET detail queries: the key in a JSON body, or in the query string). */
  bodyOptional?: boolean;
  /** Success answers by status; error answers (400, 401, 403, 404, 405, 503 ...) are documented by the app. */
  responses: Record<number, ResponseSpec>;
  /** Other error statuses this route can answer, beyond the ones derived from the declaration. */
  errors?: number[];
  handler(c: GatewayContext, input: RouteInput<P, Q, B>): Answer | Promise<Answer>;
}

/** The erased form every declaration is stored as. */
export type AnyRoute = RouteSpec<any, any, any>;

/** Declare a route; the identity function that gives the handler its input types. */
export function route<
  P extends Entries | undefined = undefined,
  Q extends Entries | undefined = undefined,
  B extends v.GenericSchema | undefined = undefined,
>(spec: RouteSpec<P, Q, B>): RouteSpec<P, Q, B> {
  return spec;
}

/** Whether a route acts on the caller's own user record (refused to API keys). */
export function isOwnRecord(route: { path: string; ownRecord?: boolean }): boolean {
  return route.ownRecord ?? route.path.startsWith('/me/');
}

/** Which role a path needs: the spec groups routes by who may call them. */
export function requiredRole(path: string): Role | 'any' {
  if (path.startsWith('/admin/')) return 'admin';
  if (path.startsWith('/manager/')) return 'manager';
  return 'any';
}

/** `/admin/queue/members/:name{[\s\S]+}` -> `/admin/queue/members/{name}` (OpenAPI's template form). */
export function openApiPath(path: string): string {
  return path.replace(/:([A-Za-z_][A-Za-z0-9_]*)(\{(?:[^{}]|\{[^{}]*\})*\})?/g, '{$1}');
}
