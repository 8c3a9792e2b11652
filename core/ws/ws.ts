// GET /v1/ws?authtoken=...[&topics=core.,queue.]: a WebSocket that pushes the gateway's bus events as JSON
// ({"type","data","timestamp"}), optionally only those whose type starts with one of `topics`.
// A socket receives only what its user may GET: each event carries its declared access (core/contract/events.ts:
// the permission of the REST route that shows the same object, or the users it is addressed to), checked here for
// every frame against the user's current roles. When the token ends (logout, expiry, the user deleted) the socket is
// closed with 4001; when the user loses a permission it had, with 4003 (log in again); both within a second.
// Browsers cannot set headers on a WebSocket, so the token comes in the query string.
import type { Hono } from 'hono';
import type { UpgradeWebSocket, WSContext } from 'hono/ws';
import type { Role } from '../auth/accounts.ts';
import type { BusMessage, EventBus } from '../bus/bus.ts';
import { requiredRole } from '../contract/route.ts';
import type { AuthPort, GatewayEnv } from '../http/app.ts';
import { errorResponse, hasRole } from '../http/app.ts';
import { unauthorized } from '../http/errors.ts';

/** Close codes the gateway uses (4000-4999 are the application's). */
export const WS_CLOSE = {
  tokenEnded: { code: 4001, reason: 'token ended (logged out, expired, or the user was deleted): log in again' },
  permissionChanged: { code: 4003, reason: "the user's permissions changed: log in again" },
} as const;

interface Socket {
  ws: WSContext;
  token: string;
  user: string;
  roles: Set<Role>;
}

/** Whether a user with `roles` may receive `m` (the same rule as the REST route that shows the object). */
export function mayReceive(m: BusMessage, user: string, roles: Set<Role>): boolean {
  if ('members' in m.access) return m.audience?.includes(user) ?? false;
  if (m.audience && !m.audience.includes(user)) return false;
  return hasRole(roles, requiredRole(m.access.like));
}

export function registerWebSocket(
  hono: Hono<GatewayEnv>,
  upgrade: UpgradeWebSocket<unknown>,
  auth: AuthPort,
  bus: EventBus,
  opts: { checkMs?: number } = {},
): { sockets(): number; close(): void } {
  const sockets = new Set<Socket>();
  let timer: ReturnType<typeof setInterval> | undefined;

  // One timer for every socket: is each token still good, and has its user lost a permission?
  const check = () => {
    for (const s of sockets) {
      const who = auth.resolve(s.token);
      if (!who || who.userUuid !== s.user) {
        s.ws.close(WS_CLOSE.tokenEnded.code, WS_CLOSE.tokenEnded.reason);
        sockets.delete(s);
        continue;
      }
      if ([...s.roles].some((r) => !who.roles.has(r))) {
        s.ws.close(WS_CLOSE.permissionChanged.code, WS_CLOSE.permissionChanged.reason);
        sockets.delete(s);
        continue;
      }
      s.roles = who.roles;
    }
    if (sockets.size === 0 && timer) {
      clearInterval(timer);
      timer = undefined;
    }
  };

  for (const p of ['/v1/ws', '/ws']) {
    hono.get(
      p,
      async (c, next) => {
        const token = c.req.query('authtoken');
        const who = token ? auth.resolve(token) : undefined;
        if (!who || !token) return errorResponse(unauthorized('a valid ?authtoken= is required for the WebSocket'));
        c.set('userUuid', who.userUuid);
        c.set('roles', who.roles);
        c.set('token', token);
        await next();
      },
      upgrade((c) => {
        const topics = (c.req.query('topics') ?? '')
          .split(',')
          .map((t) => t.trim())
          .filter(Boolean);
        let socket: Socket | undefined;
        let unsubscribe: (() => void) | undefined;
        const end = () => {
          unsubscribe?.();
          if (socket) sockets.delete(socket);
        };
        return {
          onOpen(_e, ws) {
            const s: Socket = { ws, token: c.get('token'), user: c.get('userUuid'), roles: c.get('roles') };
            socket = s;
            sockets.add(s);
            timer ??= setInterval(check, opts.checkMs ?? 1000);
            timer.unref?.();
            unsubscribe = bus.subscribe((m) => {
              if (!sockets.has(s)) return;
              if (topics.length && !topics.some((t) => m.type.startsWith(t))) return;
              if (!mayReceive(m, s.user, s.roles)) return;
              ws.send(JSON.stringify({ type: m.type, data: m.data, timestamp: m.timestamp }));
            });
            ws.send(JSON.stringify({ type: 'hello', data: { topics }, timestamp: new Date().toISOString() }));
          },
          onClose: end,
          onError: end,
        };
      }),
    );
  }
  return {
    sockets: () => sockets.size,
    close: () => {
      if (timer) clearInterval(timer);
      timer = undefined;
    },
  };
}
