// Putting the fetch handler on a socket. Node and Bun both run @hono/node-server on node:http with `ws` for
// WebSocket upgrades: one code path, and the only one that keeps the JSON body of a GET, which the spec's detail
// queries use (/device_states/, /agents/); Bun.serve drops GET bodies.
//
// The WebSocket upgrade is wired here rather than with @hono/node-server's `websocket` option and upgradeWebSocket,
// for memory: that helper keeps, for the life of every socket, the upgrade request's Hono context (its request,
// headers, URLs and a dozen per-instance closures) and the IncomingMessage. Here an upgrade still goes through the
// app's fetch (routing, the token check, its refusals as the status line), and the open socket keeps only its events
// and a small context.
import type { IncomingMessage, Server } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { readFileSync } from 'node:fs';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { STATUS_CODES } from 'node:http';
import { defineWebSocketHelper, type UpgradeWebSocket, type WSEvents } from 'hono/ws';
import { serve as nodeServe } from '@hono/node-server';
import { type RawData, type WebSocket, WebSocketServer } from 'ws';
import { WS_MAX_CLIENT_MESSAGE } from '../ws/ws.ts';

export interface RunningServer {
  port: number;
  scheme: 'http' | 'https';
  /** Stop accepting connections and close idle keep-alive ones; requests under way go on. */
  stopAccepting(): void;
  /** Cut everything: open WebSockets and connections. */
  close(): Promise<void>;
  /** HTTPS: read the certificate files again and use them for new connections (SIGHUP); throws if they are bad. */
  reloadTls(): Promise<void>;
}

/** http.tls of gateway.yaml, paths resolved. */
export interface TlsFiles {
  cert_file: string;
  key_file: string;
  client_ca_file?: string;
}

/** Thrown when a TLS file cannot be read or does not make a usable certificate: start-up stops with its message. */
export class TlsConfigError extends Error {}

/**
 * Read and check the certificate, key and client CA. A file that cannot be read, a PEM that does not parse, or a key
 * that does not belong to the certificate is a TlsConfigError naming the key of gateway.yaml.
 */
export function readTls(files: TlsFiles): SecureContextOptions & { requestCert: boolean; rejectUnauthorized: boolean } {
  const read = (key: keyof TlsFiles): Buffer => {
    const file = files[key]!;
    try {
      return readFileSync(file);
    } catch (e) {
      throw new TlsConfigError(`http.tls.${key}: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  };
  const cert = read('cert_file');
  const key = read('key_file');
  const ca = files.client_ca_file ? read('client_ca_file') : undefined;
  const options = { cert, key, ...(ca ? { ca } : {}) };
  if (!/-----BEGIN CERTIFICATE-----/.test(cert.toString('latin1')))
    throw new TlsConfigError(`http.tls.cert_file: ${files.cert_file} holds no PEM certificate`);
  try {
    createSecureContext(options);
  } catch (e) {
    throw new TlsConfigError(
      `http.tls: ${files.cert_file} and ${files.key_file} do not make a usable certificate and key: ${(e as Error).message}`,
    );
  }
  return { ...options, requestCert: Boolean(ca), rejectUnauthorized: Boolean(ca) };
}

type Fetch = (req: Request, env?: unknown) => Response | Promise<Response>;

declare const Bun: unknown;
export const runtime: 'bun' | 'node' = typeof Bun !== 'undefined' ? 'bun' : 'node';

/** Set in the env of an upgrade request; upgradeWebSocket puts there what to do with the socket once accepted. */
const ACCEPT = Symbol('accept WebSocket');

interface UpgradeEnv {
  incoming: IncomingMessage;
  outgoing: undefined;
  [ACCEPT]: ((ws: WebSocket) => void) | null;
}

/** What the events get as `ws` (the shape of Hono's WSContext): the `ws` socket and nothing of the request. */
class SocketContext {
  readonly binaryType = 'arraybuffer';
  constructor(
    readonly raw: WebSocket,
    private readonly href: string,
  ) {}
  get url(): URL {
    return new URL(this.href);
  }
  get protocol(): string {
    return this.raw.protocol;
  }
  get readyState() {
    return this.raw.readyState as 0 | 1 | 2 | 3;
  }
  send(source: string | ArrayBuffer | Uint8Array, opts?: { compress?: boolean }): void {
    this.raw.send(source, { compress: opts?.compress });
  }
  close(code?: number, reason?: string): void {
    this.raw.close(code, reason);
  }
}

type Events = WSEvents<unknown>;
type Ctx = Parameters<NonNullable<Events['onOpen']>>[1];
type Close = Parameters<NonNullable<Events['onClose']>>[0];

function open(ws: WebSocket, href: string, events: Events, onError: (e: unknown) => void): void {
  const ctx = new SocketContext(ws, href) as unknown as Ctx;
  try {
    events.onOpen?.(new Event('open'), ctx);
  } catch (e) {
    onError(e);
  }
  ws.on('message', (data: RawData, isBinary: boolean) => {
    for (const d of Array.isArray(data) ? data : [data]) {
      try {
        const payload = isBinary
          ? d instanceof ArrayBuffer
            ? d
            : d.buffer.slice(d.byteOffset, d.byteOffset + d.byteLength)
          : Buffer.from(d as Buffer).toString('utf-8');
        events.onMessage?.(new MessageEvent('message', { data: payload as ArrayBuffer | string }), ctx);
      } catch (e) {
        onError(e);
      }
    }
  });
  ws.on('close', (code: number, reason: Buffer) => {
    try {
      events.onClose?.(Object.assign(new Event('close'), { code, reason: reason.toString(), wasClean: true }) as Close, ctx);
    } catch (e) {
      onError(e);
    }
  });
  ws.on('error', (error: Error) => {
    try {
      events.onError?.(Object.assign(new Event('error'), { error, message: error.message }), ctx);
    } catch (e) {
      onError(e);
    }
  });
}

/**
 * Hono's upgradeWebSocket for this server: a route answers an upgrade request with it; the socket is opened once the
 * app's answer is known. Nothing of the request context is kept: only the URL text and the events.
 */
export const upgradeWebSocket = defineWebSocketHelper<unknown, { onError?: (e: unknown) => void }>((c, events, options) => {
  if (c.req.header('upgrade')?.toLowerCase() !== 'websocket') return;
  const env = c.env as Partial<UpgradeEnv> | undefined;
  if (!env || !(ACCEPT in env)) return new Response(null, { status: 500 });
  const href = c.req.url;
  const onError = options?.onError ?? console.error;
  env[ACCEPT] = (ws) => open(ws, href, events, onError);
  return new Response();
}) as UpgradeWebSocket<unknown>;

/** The upgrade request as a fetch Request (the first value of a repeated header, as @hono/node-server does). */
function upgradeRequest(req: IncomingMessage): Request {
  const scheme = (req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http';
  const target = req.url ?? '/';
  if (target.includes('\\')) throw new TypeError('backslash in the request target');
  const url = /^https?:\/\//.test(target) ? new URL(target) : new URL(`${scheme}://${req.headers.host ?? 'localhost'}${target}`);
  const headers = new Headers();
  for (const key in req.headers) {
    const value = req.headers[key];
    if (value) headers.append(key, Array.isArray(value) ? value[0]! : value);
  }
  return new Request(url.href, { headers });
}

const SKIP_HEADERS = new Set([
  'connection',
  'content-length',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'sec-websocket-accept',
  'sec-websocket-extensions',
  'sec-websocket-protocol',
]);

function appendHeaders(lines: string[], headers: Headers | undefined): void {
  headers?.forEach((value, key) => {
    if (!SKIP_HEADERS.has(key.toLowerCase())) lines.push(`${key}: ${value}`);
  });
}

/** Answer a refused upgrade, with the route's body (the error envelope, so a client can show why) when it has one. */
function refuse(socket: Duplex, status: number, headers?: Headers, body = ''): void {
  if (socket.destroyed) return;
  const bytes = Buffer.from(body, 'utf8');
  const lines = ['Connection: close', `Content-Length: ${bytes.length}`];
  appendHeaders(lines, headers);
  socket.end(Buffer.concat([Buffer.from(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n${lines.join('\r\n')}\r\n\r\n`), bytes]));
}

export async function serve(fetch: Fetch, host: string, port: number, tls?: TlsFiles): Promise<RunningServer> {
  // A client sends only small control frames (subscribe / unsubscribe): a bigger message closes its socket with
  // 1009 instead of being buffered whole (the ws package's default allows 100 MiB).
  const wss = new WebSocketServer({ noServer: true, maxPayload: WS_MAX_CLIENT_MESSAGE });
  let secure = tls ? readTls(tls) : undefined;
  const onUpgrade = async (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (request.headers.upgrade?.toLowerCase() !== 'websocket') return;
    const ignore = () => {};
    socket.on('error', ignore);
    const env: UpgradeEnv = { incoming: request, outgoing: undefined, [ACCEPT]: null };
    let req: Request;
    try {
      req = upgradeRequest(request);
    } catch {
      refuse(socket, 400);
      return;
    }
    let status = 400;
    let headers: Headers | undefined;
    let body = '';
    try {
      const response = await fetch(req, env);
      if (response instanceof Response) {
        status = response.status;
        headers = response.headers;
        if (!env[ACCEPT]) body = await response.text();
      }
    } catch {
      refuse(socket, 500);
      return;
    }
    const accept = env[ACCEPT];
    if (socket.destroyed) return;
    if (!accept) {
      refuse(socket, status, headers, body);
      return;
    }
    const addHeaders = (lines: string[]) => appendHeaders(lines, headers);
    wss.on('headers', addHeaders);
    try {
      wss.handleUpgrade(request, socket, head, (ws) => {
        socket.off('error', ignore);
        accept(ws);
      });
    } finally {
      wss.off('headers', addHeaders);
    }
  };

  /** A listener with the current certificate; one at a time listens, older ones (after a Bun reload) only drain. */
  const listen = (p: number) =>
    new Promise<{ server: Server; port: number }>((resolve, reject) => {
      const options = { fetch, hostname: host, port: p, ...(secure ? { createServer: createHttpsServer, serverOptions: secure } : {}) };
      const server = nodeServe(options, (info: AddressInfo) => resolve({ server: server as Server, port: info.port })) as Server;
      server.on('upgrade', onUpgrade);
      server.once('error', reject);
    });
  const first = await listen(port);
  const servers: Server[] = [first.server];
  const closed = new WeakMap<Server, Promise<void>>();
  const closing = (server: Server) => {
    let done = closed.get(server);
    if (!done) {
      done = new Promise<void>((res) => server.close(() => res()));
      closed.set(server, done);
    }
    return done;
  };
  return {
    port: first.port,
    scheme: secure ? 'https' : 'http',
    stopAccepting: () => {
      for (const server of servers) {
        void closing(server);
        server.closeIdleConnections?.();
      }
    },
    close: async () => {
      // sockets already sent a close frame (1001) get a moment to finish the handshake before the rest is cut
      for (let i = 0; i < 20 && [...wss.clients].some((c) => c.readyState === c.CLOSING); i++) await new Promise((r) => setTimeout(r, 50));
      for (const client of wss.clients) client.terminate();
      wss.close();
      const done = Promise.all(servers.map(closing));
      // answers already handed to the server are still being written: idle connections close as they finish
      for (let i = 0; i < 50; i++) {
        let open = 0;
        for (const server of servers) {
          server.closeIdleConnections?.();
          open += await new Promise<number>((r) => server.getConnections((e, n) => r(e ? 0 : n)));
        }
        if (open === 0) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      for (const server of servers) server.closeAllConnections?.();
      await done;
    },
    reloadTls: async () => {
      if (!tls) return;
      const fresh = readTls(tls);
      const current = servers.at(-1) as unknown as HttpsServer;
      secure = fresh;
      // Node: the listening server takes the new context for new connections
      if (typeof current.setSecureContext === 'function') {
        current.setSecureContext(fresh);
        return;
      }
      // Bun has no setSecureContext on https servers: a new listener with the new certificate takes the port; the
      // old one stops listening and keeps its open connections (and WebSockets) until they end
      void closing(current as unknown as Server);
      for (let attempt = 1; ; attempt++) {
        try {
          servers.push((await listen(first.port)).server);
          return;
        } catch (e) {
          // the port is let go a moment after close(); after ~2 s something else holds it
          if (attempt >= 40)
            throw new Error(`could not listen again on port ${first.port} with the new certificate: ${(e as Error).message}`);
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    },
  };
}
