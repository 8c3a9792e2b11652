// The one place where Node and Bun differ: how a fetch handler is put on a socket, and how a WebSocket is upgraded.
import type { AddressInfo } from 'node:net';
import type { MiddlewareHandler } from 'hono';
import type { UpgradeWebSocket } from 'hono/ws';

export interface RunningServer {
  port: number;
  close(): Promise<void>;
}

type Fetch = (req: Request) => Response | Promise<Response>;

export interface RuntimeAdapter {
  name: 'bun' | 'node';
  upgradeWebSocket: UpgradeWebSocket<unknown>;
  serve(fetch: Fetch, host: string, port: number): Promise<RunningServer>;
}

declare const Bun: { serve(o: Record<string, unknown>): { port: number; stop(force?: boolean): void } } | undefined;

export const runtime: 'bun' | 'node' = typeof Bun !== 'undefined' ? 'bun' : 'node';

export async function loadRuntime(): Promise<RuntimeAdapter> {
  if (typeof Bun !== 'undefined') {
    const bun = Bun;
    const { upgradeWebSocket, websocket } = await import('hono/bun');
    return {
      name: 'bun',
      upgradeWebSocket: upgradeWebSocket as UpgradeWebSocket<unknown>,
      async serve(fetch, host, port) {
        const server = bun.serve({ fetch, hostname: host, port, websocket });
        return { port: server.port, close: async () => server.stop(true) };
      },
    };
  }
  const { serve: nodeServe, upgradeWebSocket } = await import('@hono/node-server');
  const { WebSocketServer } = await import('ws');
  return {
    name: 'node',
    upgradeWebSocket: upgradeWebSocket as unknown as UpgradeWebSocket<unknown>,
    serve(fetch, host, port) {
      const wss = new WebSocketServer({ noServer: true });
      return new Promise((resolve, reject) => {
        const server = nodeServe(
          { fetch, hostname: host, port, websocket: { server: wss as never } },
          (info: AddressInfo) =>
            resolve({
              port: info.port,
              close: () =>
                new Promise<void>((res) => {
                  for (const client of wss.clients) client.terminate();
                  wss.close();
                  (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
                  server.close(() => res());
                }),
            }),
        );
        server.once('error', reject);
      });
    },
  };
}

export type { MiddlewareHandler };
