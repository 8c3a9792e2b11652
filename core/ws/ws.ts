// GET /v1/ws?authtoken=...[&topics=core.,queue.]: a WebSocket that pushes the gateway's bus events as JSON
// ({"type","data","timestamp"}), optionally only those whose type starts with one of `topics`. An event with an
// audience (e.g. a chat message: the room's members) reaches only those users' sockets.
// Browsers cannot set headers on a WebSocket, so the token comes in the query string.
import type { Hono } from 'hono';
import type { UpgradeWebSocket } from 'hono/ws';
import type { EventBus } from '../bus/bus.ts';
import type { GatewayEnv, AuthPort } from '../http/app.ts';
import { errorResponse } from '../http/app.ts';
import { unauthorized } from '../http/errors.ts';

export function registerWebSocket(hono: Hono<GatewayEnv>, upgrade: UpgradeWebSocket<unknown>, auth: AuthPort, bus: EventBus): void {
  for (const p of ['/v1/ws', '/ws']) {
    hono.get(
      p,
      async (c, next) => {
        const token = c.req.query('authtoken');
        const who = token ? auth.resolve(token) : undefined;
        if (!who) return errorResponse(unauthorized('a valid ?authtoken= is required for the WebSocket'));
        c.set('userUuid', who.userUuid);
        await next();
      },
      upgrade((c) => {
        const topics = (c.req.query('topics') ?? '')
          .split(',')
          .map((t) => t.trim())
          .filter(Boolean);
        const user = c.get('userUuid');
        let unsubscribe: (() => void) | undefined;
        return {
          onOpen(_e, ws) {
            unsubscribe = bus.subscribe((m) => {
              if (topics.length && !topics.some((t) => m.type.startsWith(t))) return;
              if (m.audience && !m.audience.includes(user)) return;
              const { audience: _audience, ...visible } = m;
              ws.send(JSON.stringify(visible));
            });
            ws.send(JSON.stringify({ type: 'hello', data: { topics }, timestamp: new Date().toISOString() }));
          },
          onClose() {
            unsubscribe?.();
          },
          onError() {
            unsubscribe?.();
          },
        };
      }),
    );
  }
}
