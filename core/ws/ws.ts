// GET /v1/ws?authtoken=...[&topics=core.,queue.]: a WebSocket that pushes the gateway's bus events as JSON
// ({"type","data","timestamp"}), optionally only those whose type starts with one of `topics`.
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
        if (!token || !auth.resolve(token)) return errorResponse(unauthorized('a valid ?authtoken= is required for the WebSocket'));
        await next();
      },
      upgrade((c) => {
        const topics = (c.req.query('topics') ?? '').split(',').map((t) => t.trim()).filter(Boolean);
        let unsubscribe: (() => void) | undefined;
        return {
          onOpen(_e, ws) {
            unsubscribe = bus.subscribe((m) => {
              if (topics.length && !topics.some((t) => m.type.startsWith(t))) return;
              ws.send(JSON.stringify(m));
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
