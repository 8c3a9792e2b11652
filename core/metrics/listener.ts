// The /metrics listener: its own small node:http server (Node and Bun), never the API port. GET /metrics answers the
// exposition text; with a token configured, only to `Authorization: Bearer <token>` (compared in constant time).
// Who may reach the port at all is the metrics.host choice (loopback by default; core/config.ts refuses a
// non-loopback host without a token).
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Metrics } from './metrics.ts';

export interface MetricsListener {
  port: number;
  close(): Promise<void>;
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Whether the request carries the token: both sides hashed first, so the comparison takes the same time for any input. */
export function bearerMatches(header: string | undefined, tokenDigest: Buffer): boolean {
  const m = /^bearer\s+(.+)$/i.exec(header ?? '');
  const given = digest(m ? m[1]!.trim() : '');
  return timingSafeEqual(given, tokenDigest) && m !== null;
}

function answer(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', ...headers });
  res.end(text);
}

export function serveMetrics(
  metrics: Metrics,
  opts: { host: string; port: number; token?: string; onError?: (e: unknown) => void },
): Promise<MetricsListener> {
  const tokenDigest = opts.token === undefined ? undefined : digest(opts.token);
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics') return answer(res, 404, 'not found: the metrics are at /metrics\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') return answer(res, 405, 'method not allowed\n', { allow: 'GET, HEAD' });
    if (tokenDigest && !bearerMatches(req.headers.authorization, tokenDigest))
      return answer(res, 401, 'unauthorized: send Authorization: Bearer <metrics.token>\n', { 'www-authenticate': 'Bearer' });
    metrics.expose().then(
      ({ text, contentType }) => {
        res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' });
        res.end(req.method === 'HEAD' ? undefined : text);
      },
      (e: unknown) => {
        opts.onError?.(e);
        answer(res, 500, 'could not collect the metrics\n');
      },
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve({
        port: (server.address() as AddressInfo).port,
        close: () =>
          new Promise<void>((res) => {
            server.closeAllConnections?.();
            server.close(() => res());
          }),
      });
    });
  });
}
