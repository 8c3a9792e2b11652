// Putting the fetch handler on a socket. Node and Bun both run @hono/node-server on node:http with `ws` for
// WebSocket upgrades: one code path, and the only one that keeps the JSON body of a GET, which the spec's detail
// queries use (/device_states/, /agents/); Bun.serve drops GET bodies.
import type { AddressInfo } from 'node:net';
import type { UpgradeWebSocket } from 'hono/ws';
import { serve as nodeServe, upgradeWebSocket as nodeUpgrade } from '@hono/node-server';
import { WebSocketServer } from 'ws';

export interface RunningServer {
  port: number;
  close(): Promise<void>;
}

type Fetch = (req: Request, env?: unknown) => Response | Promise<Response>;

declare const Bun: unknown;
export const runtime: 'bun' | 'node' = typeof Bun !== 'undefined' ? 'bun' : 'node';

export const upgradeWebSocket = nodeUpgrade as unknown as UpgradeWebSocket<unknown>;

export function serve(fetch: Fetch, host: string, port: number): Promise<RunningServer> {
  const wss = new WebSocketServer({ noServer: true });
  return new Promise((resolve, reject) => {
    const server = nodeServe({ fetch, hostname: host, port, websocket: { server: wss as never } }, (info: AddressInfo) =>
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
}
