// A client for the event stream (/v1/ws) that does what the protocol asks of every dashboard, once: start from a
// snapshot, apply the events after it, and after a lost connection resume from the last seq seen, so nothing is
// missed and nothing comes twice; when the gateway answers gateway.resync (its buffer no longer holds the missed
// events, it restarted, or Asterisk reconnected), replace the state with the snapshot that follows.
//
//   import { eventStream } from './client/events.ts';
//   const stream = eventStream({
//     baseUrl: 'http://127.0.0.1:8081', token, topics: ['core.channel.'],
//     onSnapshot: (state) => { channels = new Map(state['core.channel']?.map((c) => [c.unique_id, c])) },
//     onEvent: (e) => { if (e.type === 'core.channel.updated') channels.set(e.data.unique_id, e.data) },   // typed
//     onEnd: (why) => showLogin(why.message),
//   });
//   stream.close();
//
// Frame types come from client/event-frames.d.ts, generated from the same event declarations as /v1/asyncapi.json. The
// WebSocket class is the runtime's (browsers, Bun, Node 22+); on Node 20 pass the `ws` package's: { WebSocket }.
import type { EventFrames, SocketFrames } from './event-frames.d.ts';

export type { EventFrames, SocketFrames };
export type EventType = keyof EventFrames;
export type EventFrame = EventFrames[EventType];

/** A snapshot's rows by object kind: data['core.channel'] holds what core.channel.* events carry. */
export type Snapshot = { [K in SnapshotKey]?: RowsOf<K>[] };
type SnapshotKey = EventType extends `${infer A}.${infer B}.${string}` ? `${A}.${B}` : never;
type RowsOf<K extends string> = EventFrames[Extract<EventType, `${K}.${string}`>]['data'];

/** Why the stream ended for good: the gateway refused it (bad token, topic or permission) or closed it for that. */
export interface StreamEnd {
  /** the close code (4001 token ended, 4003 permissions changed) or the HTTP status of the refused upgrade */
  code: number;
  message: string;
}

/** The constructor of a WebSocket with the browser's event-handler properties (the `ws` package has them too). */
export interface WebSocketClass {
  new (url: string): WebSocketLike;
}
interface WebSocketLike {
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  close(code?: number, reason?: string): void;
}

export interface EventStreamOptions {
  /** the gateway, http(s)://host:port */
  baseUrl: string;
  token: string;
  /** event-type prefixes; none: every event the user may receive */
  topics?: readonly string[];
  /** The state to show, as of the stream's position: at the start and after every gateway.resync. Replace, not merge. */
  onSnapshot(state: Snapshot, at: { run: string; seq: number }): void;
  /** Each event after the snapshot, in seq order, once. */
  onEvent(event: EventFrame): void;
  /** The gateway said why the state starts over (the snapshot follows). */
  onResync?(reason: string): void;
  /** Connected (again), or the connection was lost and a reconnect is due in `retryInMs`. */
  onStatus?(status: { connected: true } | { connected: false; retryInMs: number; code: number }): void;
  /** The stream ended for good (log in again, or fix the topics); no reconnect follows. */
  onEnd?(why: StreamEnd): void;
  /** default: globalThis.WebSocket */
  WebSocket?: WebSocketClass;
  /** default: globalThis.fetch (asks why an upgrade was refused) */
  fetch?: (url: string) => Promise<Response>;
  /** reconnect delay, doubled after each failed attempt: default 500 ms up to 30 s */
  retryMs?: { first: number; max: number };
}

export interface EventStream {
  /** The last position applied (the resume point): undefined before the first snapshot. */
  position(): { run: string; seq: number } | undefined;
  /** Stop: close the socket, no reconnect. */
  close(): void;
}

/** Close codes after which reconnecting cannot help: the token ended, or the user's permissions changed. */
const FINAL_CLOSE = new Set([4001, 4003]);

export function eventStream(opts: EventStreamOptions): EventStream {
  const WS = opts.WebSocket ?? (globalThis as { WebSocket?: WebSocketClass }).WebSocket;
  if (!WS) throw new Error('eventStream: no WebSocket class here; pass { WebSocket } (e.g. from the ws package)');
  const fetchFn = opts.fetch ?? ((url: string) => globalThis.fetch(url));
  const retry = opts.retryMs ?? { first: 500, max: 30_000 };
  const httpBase = opts.baseUrl.replace(/\/+$/, '');
  const wsBase = httpBase.replace(/^http/, 'ws');
  let run: string | undefined;
  let seq = -1;
  let socket: WebSocketLike | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  let failures = 0;
  /** Checks that frames keep coming: a heartbeat at least every heartbeat_s (the hello says how often). */
  let watchdog: ReturnType<typeof setInterval> | undefined;

  const query = (): URLSearchParams => {
    const q = new URLSearchParams({ authtoken: opts.token, heartbeat: 'true' });
    if (opts.topics?.length) q.set('topics', opts.topics.join(','));
    // resume once there is a position; before the first snapshot, ask for one
    if (run !== undefined) q.set('resume', `${run}:${seq}`);
    else q.set('snapshot', 'true');
    return q;
  };

  const end = (why: StreamEnd) => {
    if (stopped) return;
    stopped = true;
    opts.onEnd?.(why);
  };

  /** A socket that closed before it opened: the gateway may have refused the upgrade; its answer says why. */
  const whyRefused = async (): Promise<StreamEnd | undefined> => {
    try {
      const r = await fetchFn(`${httpBase}/v1/ws?${query()}`);
      if (r.status === 400 || r.status === 401 || r.status === 403 || r.status === 404) {
        const body = (await r.json().catch(() => null)) as { result?: { message?: string } } | null;
        return { code: r.status, message: body?.result?.message ?? `HTTP ${r.status}` };
      }
    } catch {
      // the gateway is not reachable: keep retrying
    }
    return undefined;
  };

  const connect = () => {
    timer = undefined;
    if (stopped) return;
    let opened = false;
    let lastFrame = Date.now();
    const ws = new WS(`${wsBase}/v1/ws?${query()}`);
    socket = ws;
    ws.onopen = () => {
      opened = true;
      failures = 0;
      opts.onStatus?.({ connected: true });
    };
    ws.onmessage = (ev) => {
      lastFrame = Date.now();
      const frame = JSON.parse(String(ev.data)) as EventFrame | SocketFrames[keyof SocketFrames];
      switch (frame.type) {
        case 'hello': {
          // no frame for two heartbeats and a second: the link is dead even if the socket does not know it yet
          // (a browser sees no pings, and a silent network drop can take minutes to close a TCP connection)
          const limitMs = ((frame.data.heartbeat_s ?? 30) * 2 + 1) * 1000;
          if (watchdog) clearInterval(watchdog);
          watchdog = setInterval(
            () => {
              if (socket === ws && Date.now() - lastFrame > limitMs) giveUp();
            },
            Math.min(1000, limitMs),
          );
          return;
        }
        case 'heartbeat':
          // every event up to its seq that this socket may receive was sent before it: a later resume point
          if (frame.run === run && frame.seq > seq) seq = frame.seq;
          return;
        case 'ack':
        case 'error':
          return;
        case 'gateway.resync':
          opts.onResync?.(frame.data.reason);
          return;
        case 'snapshot':
          run = frame.run;
          seq = frame.seq;
          opts.onSnapshot(frame.data as Snapshot, { run, seq });
          return;
        default:
          // an event at or before the position was applied already (cannot happen after a resume, which replays
          // exactly what came after it; kept as a guard, it costs one comparison)
          if (frame.run === run && frame.seq <= seq) return;
          run = frame.run;
          seq = frame.seq;
          opts.onEvent(frame);
      }
    };
    ws.onerror = () => {};
    /** The socket is gone (closed, or given up by the watchdog): end for good, or reconnect. */
    const lost = (code: number, reason: string) => {
      if (socket !== ws) return;
      socket = undefined;
      if (watchdog) clearInterval(watchdog);
      watchdog = undefined;
      if (stopped) return;
      if (FINAL_CLOSE.has(code)) {
        end({ code, message: reason });
        return;
      }
      const again = () => {
        const retryInMs = Math.min(retry.max, retry.first * 2 ** failures++);
        opts.onStatus?.({ connected: false, retryInMs, code });
        timer = setTimeout(connect, retryInMs);
      };
      if (opened) again();
      else
        void whyRefused().then((why) => {
          if (stopped) return;
          if (why) end(why);
          else again();
        });
    };
    ws.onclose = (ev) => lost(ev.code, ev.reason);
    /** The watchdog's verdict: the link is dead. */
    const giveUp = () => {
      // a closing handshake over a dead link waits for its own timeout: reconnect now, let the old socket go
      lost(4000, 'no heartbeat');
      ws.onclose = null;
      ws.onmessage = null;
      try {
        ws.close(4000, 'no heartbeat');
      } catch {
        /* already closing */
      }
    };
  };

  connect();
  return {
    position() {
      const at = run;
      return at === undefined ? undefined : { run: at, seq };
    },
    close() {
      stopped = true;
      if (timer) clearTimeout(timer);
      if (watchdog) clearInterval(watchdog);
      socket?.close(1000, 'closed by the client');
      socket = undefined;
    },
  };
}
