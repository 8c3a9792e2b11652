// The HTTP side: one Hono app, every answer in the spec's envelope. Plugins register routes through a Router that
// serves each path at /v1/<path> and /<path>, checks the token and role for that path, and guards live routes.
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { Handler, RouteOptions, Router } from '../plugins/contract.ts';
import type { Role } from '../auth/accounts.ts';
import { ApiError, amiUnavailable, forbidden, notFound, payloadTooLarge, unauthorized } from './errors.ts';
import { envelopeText, jsonResponse } from './envelope.ts';

export interface AuthPort {
  /** The user and roles behind a token, or undefined if the token is unknown or expired. */
  resolve(token: string): { userUuid: string; roles: Set<Role> } | undefined;
}

export type GatewayEnv = { Variables: { userUuid: string; roles: Set<Role>; token: string } };

/** Which role a path needs: the spec groups routes by who may call them. */
export function requiredRole(path: string): Role | 'any' {
  if (path.startsWith('/admin/')) return 'admin';
  if (path.startsWith('/manager/')) return 'manager';
  return 'any';
}

function hasRole(roles: Set<Role>, need: Role | 'any'): boolean {
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

/** Map anything thrown by a handler to an envelope. Errors from other modules carry `status` (ConfigError, AMI errors). */
export function errorResponse(err: unknown, log?: (e: unknown) => void): Response {
  let status = 500;
  let message = 'internal error';
  let extra: Record<string, unknown> | undefined;
  if (err instanceof ApiError) {
    status = err.status;
    message = err.message;
    extra = err.extra;
  } else if (err instanceof Error && typeof (err as { status?: unknown }).status === 'number') {
    status = (err as unknown as { status: number }).status;
    message = err.message;
  } else if (err instanceof Error && err.name === 'AmiNotConnectedError') {
    status = 503;
    message = amiUnavailable().message;
  } else if (err instanceof Error && err.name === 'AmiInputError') {
    status = 400;
    message = err.message;
  } else if (err instanceof Error && err.name === 'AmiTimeoutError') {
    status = 504;
    message = `Asterisk did not answer in time: ${err.message}`;
  } else if (err instanceof Error && err.name === 'AmiError') {
    status = 502;
    message = `Asterisk refused: ${err.message}`;
  } else {
    log?.(err);
  }
  return jsonResponse(envelopeText(status, { message, ...extra }), status);
}

export interface HttpAppOptions {
  bodyLimitBytes: number;
  auth: AuthPort;
  /** Whether a plugin's live state may be served now; returns the reason when not. */
  liveness(plugin: string): string | null;
  logError(e: unknown): void;
}

export class HttpApp {
  readonly hono = new Hono<GatewayEnv>();

  constructor(private readonly opts: HttpAppOptions) {
    const { hono } = this;
    hono.use(
      '*',
      bodyLimit({ maxSize: opts.bodyLimitBytes, onError: () => errorResponse(payloadTooLarge(opts.bodyLimitBytes)) }),
    );
    hono.notFound((c) => errorResponse(notFound(`no such route: ${c.req.method} ${c.req.path}`)));
    hono.onError((err) => errorResponse(err, opts.logError));
  }

  /** A Router bound to one plugin (for liveness), or to core. */
  router(plugin: string): Router {
    const add = (method: string) => (path: string, handler: Handler, ro: RouteOptions = {}) => this.add(plugin, method, path, handler, ro);
    return { get: add('GET'), post: add('POST'), put: add('PUT'), delete: add('DELETE') };
  }

  private add(plugin: string, method: string, path: string, handler: Handler, ro: RouteOptions): void {
    const need = requiredRole(path);
    const { auth, liveness } = this.opts;
    const guarded: Handler = async (c) => {
      if (!ro.public) {
        const token = tokenOf(c);
        if (!token) throw unauthorized();
        const who = auth.resolve(token);
        if (!who) throw unauthorized('authtoken is invalid or expired; log in again');
        if (!hasRole(who.roles, need)) throw forbidden(`this route needs the ${need} permission`);
        c.set('userUuid', who.userUuid);
        c.set('roles', who.roles);
        c.set('token', token);
      }
      if (ro.live) {
        const reason = liveness(plugin);
        if (reason) throw new ApiError(503, reason);
      }
      return handler(c);
    };
    for (const p of [`/v1${path}`, path]) this.hono.on(method, p, guarded);
  }

  fetch = (req: Request, env?: unknown): Response | Promise<Response> => this.hono.fetch(req, env);
}

export { amiUnavailable };
