// The HTTP side: one Hono app, every answer in the spec's envelope. Plugins declare routes (core/contract/route.ts);
// the app serves each at /v1/<path> and /<path>, checks the token and the role for that path, guards live routes,
// validates the input against the declared schemas, and keeps the declarations for the OpenAPI document.
import { Hono, type Context } from 'hono';
import type { Role } from '../auth/accounts.ts';
import { AmiError, AmiInputError, AmiNotConnectedError, AmiTimeoutError } from '../ami/errors.ts';
import { ConfigError } from '../../config-store/errors.ts';
import { type AnyRoute, type GatewayEnv, type Method, isOwnRecord, openApiPath, requiredRole } from '../contract/route.ts';
import type { AuditEntry } from '../audit/audit.ts';
import { readInput } from '../contract/validate.ts';
import { ApiError, amiUnavailable, forbidden, notFound, notReady, unauthorized } from './errors.ts';
import { BytesAnswer, envelopeText, jsonResponse } from './envelope.ts';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import type { Logger } from '../log.ts';
import { UNMATCHED, type Metrics } from '../metrics/metrics.ts';

export type { GatewayEnv };
export { requiredRole };

/** Who a request is answered for (what AuthPort.resolve finds behind a token). */
export type Identity = { userUuid: string; roles: Set<Role>; apiKey?: boolean };

export interface AuthPort {
  /**
   * The user and roles behind a token (a login token or an API key), or undefined if it is unknown, expired, revoked
   * or (API keys) used from outside its networks. `from` is the client address from the socket, when known.
   */
  resolve(token: string, from?: string): Identity | undefined;
}

/** The client address from the socket (@hono/node-server gives the IncomingMessage as c.env.incoming, under Node and Bun). */
export function clientAddress(c: Context): string | undefined {
  return (c.env as { incoming?: IncomingMessage } | undefined)?.incoming?.socket?.remoteAddress;
}

export function hasRole(roles: Set<Role>, need: Role | 'any'): boolean {
  if (need === 'any') return true;
  if (roles.has('admin')) return true; // an admin may do what a manager may
  return roles.has(need);
}

export function tokenOf(c: Context): string | undefined {
  const q = c.req.query('authtoken');
  if (q) return q;
  const h = c.req.header('authorization');
  if (h && /^bearer\s+/i.test(h)) return h.replace(/^bearer\s+/i, '').trim();
  return undefined;
}

/**
 * Errors from other modules, matched by class in one table: each becomes a status, a code and a message.
 * Anything not listed is a bug: 500, logged.
 */
const FOREIGN_ERRORS: { type: abstract new (...a: never[]) => Error; map(e: Error): ApiError }[] = [
  { type: AmiNotConnectedError, map: () => amiUnavailable() },
  { type: AmiInputError, map: (e) => new ApiError(400, e.message, { field: (e as AmiInputError).field }, 'invalid_field') },
  { type: AmiTimeoutError, map: (e) => new ApiError(504, `Asterisk did not answer in time: ${e.message}`) },
  { type: AmiError, map: (e) => new ApiError(502, `Asterisk refused: ${e.message}`, undefined, 'asterisk_refused') },
  {
    type: ConfigError,
    map: (e) => {
      const ce = e as ConfigError;
      return new ApiError(ce.status, ce.message, ce.problems ? { problems: ce.problems } : undefined);
    },
  },
];

/** Map anything thrown by a handler to an envelope with result.message and result.code. */
export function errorResponse(err: unknown, log?: (e: unknown) => void): Response {
  let api: ApiError | undefined;
  if (err instanceof ApiError) api = err;
  else if (err instanceof Error) api = FOREIGN_ERRORS.find((f) => err instanceof f.type)?.map(err);
  // A full disk is no bug: the writes that meet it (config files, the store) leave the old file in place.
  const errno = (err as NodeJS.ErrnoException | undefined)?.code;
  if (!api && (errno === 'ENOSPC' || errno === 'EDQUOT'))
    api = new ApiError(507, `no space left to write: ${(err as Error).message}; nothing was changed`, undefined, 'insufficient_storage');
  if (!api) {
    log?.(err);
    api = new ApiError(500, 'internal error', undefined, 'internal');
  }
  const headers: Record<string, string> | undefined =
    api.status === 405 && api.extra?.allow
      ? { allow: String(api.extra.allow) }
      : api.status === 429 && api.extra?.retry_after_s !== undefined
        ? { 'retry-after': String(api.extra.retry_after_s) }
        : undefined;
  const { allow: _allow, ...extra } = api.extra ?? {};
  return jsonResponse(envelopeText(api.status, { message: api.message, code: api.code, ...extra }), api.status, headers);
}

export interface HttpAppOptions {
  bodyLimitBytes: number;
  auth: AuthPort;
  /** Whether a plugin's live state may be served now; returns the reason when not. */
  liveness(plugin: string): { reason: string; connected: boolean } | null;
  logError(e: unknown): void;
  /** Every successful change (a non-GET route that needs a login) is recorded here. */
  audit?(entry: AuditEntry): void;
  /** One line per request (req_id, method, route template, path, status, ms, user, ip); none when absent. */
  requestLog?: Logger;
  /** Counts every answer by route template (core/metrics); absent, requests are not timed at all. */
  metrics?: Pick<Metrics, 'httpRequest'>;
}

/**
 * What the request log line and the HTTP metrics say beyond method, status and duration: set by the route's handler
 * as it learns it. `route` is the declared template, or UNMATCHED when no route matched (the 404/405 answer); left
 * unset (a request the app answers outside its routes, e.g. the WebSocket upgrade), it is logged as unmatched and
 * not counted.
 */
interface RequestNote {
  route?: string;
  user?: string;
  apiKey?: boolean;
}

/** A client's X-Request-Id is kept when it is short and plain; otherwise the gateway makes one. */
const CLIENT_REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;
let requestCounter = 0;
const requestPrefix = Math.floor(Math.random() * 0xffffffff)
  .toString(16)
  .padStart(8, '0');
function requestId(given: string | null): string {
  if (given && CLIENT_REQUEST_ID.test(given)) return given;
  requestCounter = (requestCounter + 1) % Number.MAX_SAFE_INTEGER;
  return `${requestPrefix}-${requestCounter.toString(36)}`;
}

/** A declared route as registered: the declaration, its plugin and the role it needs. */
export interface RegisteredRoute {
  plugin: string;
  role: Role | 'any';
  route: AnyRoute;
}

/** What plugins get to add routes with. */
export interface Router {
  add(route: AnyRoute): void;
}

export class HttpApp {
  readonly hono = new Hono<GatewayEnv>();
  readonly routes: RegisteredRoute[] = [];
  private sealed = false;
  /**
   * Every declared path, any method, answering 405 with Allow: asked only when no route matched, so a request to a
   * route goes through exactly one handler (no middleware chain on the hot GETs).
   */
  private readonly allowed = new Hono();
  /** Per request, what its log line and metrics say beyond method and status (only while either is kept). */
  private readonly notes = new WeakMap<Request, RequestNote>();
  /** Requests answered for a given identity instead of their token (fetchAs: in-process transports like nats). */
  private readonly identities = new WeakMap<Request, Identity>();

  constructor(private readonly opts: HttpAppOptions) {
    const { hono } = this;
    // The body limit (413) is applied where a body is read: by the routes that declare one (core/contract/validate.ts).
    hono.notFound((c) => {
      const note = this.notes.get(c.req.raw);
      if (note) note.route = UNMATCHED;
      return this.allowed.fetch(c.req.raw);
    });
    hono.onError((err) => errorResponse(err, opts.logError));
    this.allowed.notFound((c) => errorResponse(notFound(`no such route: ${c.req.method} ${c.req.path}`)));
  }

  /** A Router bound to one plugin (for liveness), or to core. */
  router(plugin: string): Router {
    return { add: (route) => this.add(plugin, route) };
  }

  private add(plugin: string, route: AnyRoute): void {
    if (this.sealed) throw new Error(`route ${route.method} ${route.path} added after the routes were sealed`);
    if (this.routes.some((r) => r.route.method === route.method && r.route.path === route.path)) {
      throw new Error(`route ${route.method} ${route.path} is declared twice`);
    }
    const need = requiredRole(route.path);
    this.routes.push({ plugin, role: need, route });
    const { auth, liveness, audit } = this.opts;
    const hasInput = Boolean(route.params || route.query || route.body);
    const ownRecord = isOwnRecord(route);
    const template = openApiPath(route.path);
    const handler = async (c: Context<GatewayEnv>) => {
      const note = this.notes.get(c.req.raw);
      if (note) note.route = template;
      if (!route.public) {
        const preset = this.identities.get(c.req.raw);
        const token = preset ? '' : tokenOf(c);
        if (!preset && !token) throw unauthorized();
        const who = preset ?? auth.resolve(token as string, clientAddress(c));
        if (!who) throw unauthorized('authtoken is invalid or expired; log in again');
        if (!hasRole(who.roles, need)) throw forbidden(`this route needs the ${need} permission`);
        // an API key belongs to no user: the caller's own records (/me/...) need a user's login
        if (who.apiKey && ownRecord)
          throw forbidden("an API key belongs to no user: routes on the caller's own record need a user login token");
        c.set('userUuid', who.userUuid);
        c.set('roles', who.roles);
        c.set('token', token as string);
        c.set('apiKey', who.apiKey === true);
        if (note) {
          note.user = who.userUuid;
          note.apiKey = who.apiKey === true;
        }
      }
      // Bad input is refused the same whether or not Asterisk is up; then the live guard.
      const input = hasInput ? await readInput(route, c, this.opts.bodyLimitBytes) : EMPTY_INPUT;
      if (route.live) {
        const down = liveness(plugin);
        if (down) throw down.connected ? notReady(down.reason) : new ApiError(503, down.reason, undefined, 'ami_unavailable');
      }
      let answer: Awaited<ReturnType<typeof route.handler>>;
      try {
        answer = await route.handler(c, input as never);
      } catch (e) {
        // Asterisk may still carry out an action it did not answer in time, and a config write whose reload timed out
        // did change the file: the attempt is recorded with its 504.
        if (audit && !route.public && route.method !== 'GET' && e instanceof AmiTimeoutError) await this.record(c, route, errorResponse(e));
        throw e;
      }
      if (answer instanceof BytesAnswer) return sendBytes(c, answer);
      if (audit && !route.public && route.method !== 'GET' && answer.status < 400) await this.record(c, route, answer);
      return answer;
    };
    for (const p of [`/v1${route.path}`, route.path]) this.hono.on(route.method, p, handler);
  }

  /** The audit entry of a change: who, which route and object, and a config write's backup and reload outcome. */
  private async record(c: Context<GatewayEnv>, route: AnyRoute, answer: Response): Promise<void> {
    let result: { backup?: unknown; reload?: unknown } | undefined;
    if (answer.headers.get('content-type')?.startsWith('application/json')) {
      result = (
        (await answer
          .clone()
          .json()
          .catch(() => undefined)) as { result?: typeof result } | undefined
      )?.result;
    }
    this.opts.audit?.({
      time: new Date().toISOString(),
      user: c.get('userUuid'),
      api_key: c.get('apiKey') ?? false,
      method: route.method as AuditEntry['method'],
      route: openApiPath(route.path),
      path: c.req.path.replace(/^\/v1(?=\/)/, ''),
      object: c.req.param() as Record<string, string>,
      status: answer.status,
      ...(result && typeof result === 'object' && 'backup' in result ? { backup: result.backup as string | null } : {}),
      ...(result && typeof result === 'object' && result.reload && typeof result.reload === 'object'
        ? { reload: result.reload as AuditEntry['reload'] }
        : {}),
    });
  }

  /** After every plugin has declared its routes: a known path with another method answers 405 with Allow. */
  seal(): void {
    if (this.sealed) return;
    this.sealed = true;
    const byPath = new Map<string, Set<Method>>();
    for (const { route } of this.routes) {
      const set = byPath.get(route.path) ?? new Set<Method>();
      set.add(route.method);
      byPath.set(route.path, set);
    }
    for (const [path, methods] of byPath) {
      const allow = [...methods, ...(methods.has('GET') ? ['HEAD'] : [])].join(', ');
      const answer = (c: Context) => {
        if (c.req.method === 'OPTIONS') return new Response(null, { status: 204, headers: { allow } });
        return errorResponse(
          new ApiError(405, `${c.req.method} is not allowed on ${c.req.path}; allowed: ${allow}`, { allow }, 'method_not_allowed'),
        );
      };
      for (const p of [`/v1${path}`, path]) this.allowed.all(p, answer);
    }
  }

  /** Requests being answered now (a graceful stop waits for them). */
  private inFlight = 0;
  private stopping = false;
  private idleWaiters: (() => void)[] = [];

  /** Refuse new requests (503 `stopping`) and resolve once the requests under way are answered. */
  drain(): Promise<void> {
    this.stopping = true;
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  get requestsInFlight(): number {
    return this.inFlight;
  }

  private settled = (): void => {
    this.inFlight--;
    if (this.inFlight === 0 && this.idleWaiters.length > 0) for (const w of this.idleWaiters.splice(0)) w();
  };

  /**
   * Answers `req` for `who` (its bearer token, if any, is not looked at): for a transport whose credential the app
   * does not know (the nats plugin's fleet keys). Only in process: nothing on the wire can set it.
   */
  fetchAs(req: Request, who: Identity): Response | Promise<Response> {
    this.identities.set(req, who);
    return this.fetch(req);
  }

  fetch = (req: Request, env?: unknown): Response | Promise<Response> => {
    if (this.stopping) {
      const res = errorResponse(new ApiError(503, 'the gateway is stopping; retry once it is back', undefined, 'stopping'));
      res.headers.set('connection', 'close');
      return res;
    }
    this.inFlight++;
    let r: Response | Promise<Response>;
    try {
      r = this.answer(req, env);
    } catch (e) {
      this.settled();
      throw e;
    }
    if (r instanceof Promise) return r.finally(this.settled);
    this.settled();
    return r;
  };

  /**
   * The one place a request is timed: its answer feeds the request log line and the HTTP metrics (by the route
   * template its handler noted). With neither kept, the request is not timed at all.
   */
  private answer(req: Request, env?: unknown): Response | Promise<Response> {
    const { requestLog: log, metrics } = this.opts;
    if (!log && !metrics) return this.hono.fetch(req, env);
    const t0 = performance.now();
    const note: RequestNote = {};
    this.notes.set(req, note);
    const node = env as { incoming?: IncomingMessage; outgoing?: ServerResponse } | undefined;
    const id = log ? requestId(req.headers.get('x-request-id')) : undefined;
    // On node:http the header goes on before any answer is written (answers written straight to the socket too).
    if (id) node?.outgoing?.setHeader('x-request-id', id);
    const done = (res: Response): Response => {
      const ms = performance.now() - t0;
      if (metrics && note.route !== undefined) metrics.httpRequest(note.route, req.method, res.status, ms / 1000);
      if (!log || !id) return res;
      if (!node?.outgoing) {
        try {
          res.headers.set('x-request-id', id);
        } catch {} // an immutable Response (none of ours): the line still carries the id
      }
      const line = {
        req_id: id,
        method: req.method,
        route: note.route ?? UNMATCHED,
        path: pathOf(req.url),
        status: res.status,
        ms: Math.round(ms * 10) / 10,
        ...(note.user ? { user: note.user, api_key: note.apiKey === true } : {}),
        ip: node?.incoming?.socket?.remoteAddress,
      };
      if (res.status >= 500) log.error(line, 'request');
      else log.info(line, 'request');
      return res;
    };
    const r = this.hono.fetch(req, env);
    return r instanceof Promise ? r.then(done) : done(r);
  }
}

/** The path of a URL without its query (a query may carry ?authtoken=). */
function pathOf(url: string): string {
  const start = url.indexOf('/', url.indexOf('//') + 2);
  if (start < 0) return '/';
  const q = url.indexOf('?', start);
  return url.slice(start, q < 0 ? undefined : q);
}

const EMPTY_INPUT = Object.freeze({ params: {}, query: {}, body: undefined });

/**
 * On Node (@hono/node-server gives the ServerResponse as c.env.outgoing) the parts go to the socket as they are,
 * corked into one write; anywhere else, and for HEAD, they are joined into a Response.
 */
function sendBytes(c: Context, answer: BytesAnswer): Response {
  const outgoing = (c.env as { outgoing?: ServerResponse } | undefined)?.outgoing;
  if (!outgoing || c.req.method !== 'GET' || outgoing.headersSent) return answer.toResponse();
  outgoing.cork();
  outgoing.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': answer.length });
  for (const p of answer.parts) outgoing.write(p);
  outgoing.end();
  outgoing.uncork();
  return RESPONSE_ALREADY_SENT;
}
export { amiUnavailable };
