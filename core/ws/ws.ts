// GET /v1/ws?authtoken=...: the event stream. Protocol (the AsyncAPI document at /v1/asyncapi.json describes every
// frame):
//   - ?topics=core.,queue. and in-band {"type":"subscribe","topic":"queue.","filter":{"queue_name":"sales"},
//     "snapshot":true} / {"type":"unsubscribe","topic":"queue."}, answered with {"type":"ack"} or {"type":"error"}.
//     A socket opened without ?topics= gets every event the user may receive until it subscribes in-band; from then
//     on what it names (unsubscribing the last topic leaves it with nothing, not with everything). A topic or filter that could never match (no
//     such event type, none the user may receive, a field the events lack or a value of another type) is refused
//     (topicProblem): 404/403/400 on ?topics=, an error frame in-band.
//   - every event frame carries `seq` (monotonic within one gateway run) and `run` (the run's id);
//   - ?snapshot=true (or "snapshot":true in a subscribe) first sends {"type":"snapshot","seq":N,"data":{...}}: the
//     current state of what is subscribed, as of seq N; the events that follow have seq > N (no gap, no duplicate:
//     the snapshot is read synchronously);
//   - ?resume=<run>:<seq> replays exactly the events after seq from a bounded buffer; when they are gone or the run
//     differs, the socket gets {"type":"gateway.resync"} and a fresh snapshot instead. After an AMI reconnect every
//     socket gets gateway.resync with the rebuilt state, and a resume from that point or before gets a resync too (a
//     replay would not remove calls that ended while Asterisk was away);
//   - ping every websocket.heartbeat_s; a socket that did not answer the last ping is dropped; with ?heartbeat=true
//     the socket also gets {"type":"heartbeat","seq":N} then (hello says how often), which a browser can see;
//   - a socket with more than websocket.max_buffered_bytes unsent (plus what is left of a snapshot or replay it was
//     sent: those go out whole), or that has had unsent data for
//     websocket.max_lag_s (seen at every frame sent and every check), is closed with 1013 (too slow) and counted.
// A socket receives only what its user may GET: each event carries its declared access (core/contract/events.ts),
// checked for every frame against the user's current roles. When the token ends (logout, expiry, the user deleted)
// the socket is closed with 4001; when the user loses a permission it had, with 4003; both within a second.
// Browsers cannot set headers on a WebSocket, so the token comes in the query string.
import type { Hono } from 'hono';
import type { UpgradeWebSocket, WSContext } from 'hono/ws';
import type { Role } from '../auth/accounts.ts';
import type { BusMessage, EventBus } from '../bus/bus.ts';
import type { EventAccess, EventSpec } from '../contract/events.ts';
import { requiredRole } from '../contract/route.ts';
import { bool, dict, line, named, obj, oneOf, opt, v } from '../contract/schema.ts';
import { issueError } from '../contract/validate.ts';
import type { AuthPort, GatewayEnv } from '../http/app.ts';
import { clientAddress, errorResponse, hasRole } from '../http/app.ts';
import { type ApiError, badRequest, forbidden, invalidField, notFound, unauthorized } from '../http/errors.ts';

/** Close codes the gateway uses (4000-4999 are the application's; 1013 is "try again later"). */
export const WS_CLOSE = {
  goingAway: { code: 1001, reason: 'the gateway is stopping: reconnect with ?resume= once it is back' },
  tokenEnded: { code: 4001, reason: 'token ended (logged out, expired, or the user was deleted): log in again' },
  permissionChanged: { code: 4003, reason: "the user's permissions changed: log in again" },
  tooSlow: { code: 1013, reason: 'too slow: too much unsent data; reconnect with ?resume=' },
  lagging: { code: 1013, reason: 'too slow: unsent data for too long; reconnect with ?resume=' },
} as const;

/** What a client may send. */
export const ClientMessageSchema = named(
  'WsClientMessage',
  v.variant('type', [
    obj({
      type: v.literal('subscribe'),
      topic: line(
        'an event type or prefix, e.g. "queue." or "core.channel.updated"; refused when no event type starts with it (not_found) or the user may receive none of them (forbidden)',
      ),
      filter: opt(
        dict(
          v.union([v.string(), v.number(), v.boolean()]),
          "only events (and snapshot rows) whose data has these values; a field none of the topic's events has, or a value of another type, is refused (invalid_field)",
        ),
      ),
      snapshot: opt(bool('send the current state of the topic first')),
    }),
    obj({ type: v.literal('unsubscribe'), topic: line() }),
  ]),
);
export const WsRequestType = oneOf(['subscribe', 'unsubscribe']);

type Filter = Record<string, string | number | boolean>;

/** Subscriptions one socket may hold (each event is checked against each of them). */
export const MAX_SUBSCRIPTIONS = 64;
/** The largest message a client may send (bytes): past it the socket is closed with 1009 (core/http/serve.ts). */
export const WS_MAX_CLIENT_MESSAGE = 64 * 1024;

interface Socket {
  ws: WSContext;
  raw: RawSocket | undefined;
  token: string;
  /** the client's address (API keys limited to networks are checked against it) */
  from: string | undefined;
  user: string;
  roles: Set<Role>;
  /** topic -> filter (see `everything`) */
  subs: Map<string, Filter | undefined>;
  /**
   * Opened without ?topics= and never subscribed in-band: every event the user may receive. Once the client names a
   * topic it gets what it names, and unsubscribing the last one leaves it with nothing, not with everything.
   */
  everything: boolean;
  awaitingPong: boolean;
  /** ?heartbeat=true: a heartbeat frame with the current seq at every ping (a browser cannot see pings). */
  heartbeat: boolean;
  closed: boolean;
  /** Since when (ms) the socket has had unsent data without a moment of none seen; undefined: caught up. */
  behindSince: number | undefined;
  /** Bytes of a snapshot or replay sent past the byte bound, allowed on top of it until the socket drains (sendBurst). */
  burst: number;
}

/** The `ws` package's socket under Hono's WSContext (Node and Bun both serve through @hono/node-server + ws). */
interface RawSocket {
  bufferedAmount: number;
  send(data: Buffer, opts: { binary: false }): void;
  ping(): void;
  terminate(): void;
  on(event: 'pong', fn: () => void): void;
}

export interface SnapshotReader {
  /** event-type prefix, e.g. core.channel */
  key: string;
  access: EventAccess;
  read(): readonly unknown[];
}

export interface WsOptions {
  maxBufferedBytes: number;
  /** A socket that has had unsent data for this long is closed as too slow. */
  maxLagMs: number;
  heartbeatMs: number;
  /** How often tokens and permissions are re-checked. */
  checkMs?: number;
  snapshots(): readonly SnapshotReader[];
  /** Every event type the enabled plugins publish: a topic or filter that can match none of them is refused. */
  events(): readonly EventSpec[];
}

/** Whether a user with `roles` may receive an event with this access (the same rule as its REST route). */
function allowed(access: EventAccess, audience: readonly string[] | undefined, user: string, roles: Set<Role>): boolean {
  if ('members' in access) return audience?.includes(user) ?? false;
  if (audience && !audience.includes(user)) return false;
  return roleAllows(access, roles);
}

/** The role rule alone: the event's REST route's role (members events pass here; their audience decides per message). */
function roleAllows(access: EventAccess, roles: Set<Role>): boolean {
  return 'members' in access || hasRole(roles, requiredRole(access.like));
}

export function mayReceive(m: BusMessage, user: string, roles: Set<Role>): boolean {
  return allowed(m.access, m.audience, user, roles);
}

function matches(data: unknown, filter: Filter | undefined): boolean {
  if (!filter) return true;
  if (!data || typeof data !== 'object') return false;
  const d = data as Record<string, unknown>;
  for (const [k, want] of Object.entries(filter)) if (d[k] !== want) return false;
  return true;
}

/** ?topics=core.,queue. as a list. */
const topicList = (q: string | undefined): string[] =>
  (q ?? '')
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);

/** Whether `topic` (a prefix or a full type) covers the objects of snapshot `key` (core.channel). */
function covers(topic: string, key: string): boolean {
  return key.startsWith(topic) || topic.startsWith(`${key}.`) || topic === key;
}

/** The JSON types a payload field's schema allows; undefined when not known (then any filter value is taken). */
function jsonTypes(schema: v.GenericSchema): Set<string> | undefined {
  const out = new Set<string>();
  const walk = (x: { type: string } & Record<string, unknown>): boolean => {
    switch (x.type) {
      case 'string':
      case 'number':
      case 'boolean':
      case 'null':
        out.add(x.type);
        return true;
      case 'literal':
        out.add(x.literal === null ? 'null' : typeof x.literal);
        return true;
      case 'picklist':
        for (const o of x.options as unknown[]) out.add(typeof o);
        return true;
      case 'nullable':
      case 'nullish':
        out.add('null');
        return walk(x.wrapped as typeof x);
      case 'optional':
      case 'exact_optional':
      case 'undefinedable':
        return walk(x.wrapped as typeof x);
      case 'union':
      case 'variant':
        return (x.options as (typeof x)[]).every(walk);
      case 'object':
      case 'strict_object':
      case 'loose_object':
      case 'object_with_rest':
      case 'record':
        out.add('object');
        return true;
      case 'array':
      case 'tuple':
        out.add('array');
        return true;
      default:
        return false;
    }
  };
  return walk(schema as unknown as { type: string } & Record<string, unknown>) ? out : undefined;
}

/** A payload's declared fields, or undefined when it may carry others (objectWithRest: PJSIP's dumps). */
function payloadFields(schema: v.GenericSchema): Record<string, v.GenericSchema> | undefined {
  const x = schema as unknown as { type: string; entries?: Record<string, v.GenericSchema> };
  return x.type === 'strict_object' || x.type === 'object' ? x.entries : undefined;
}

const WHO = { admin: 'administrators', manager: 'managers and administrators' } as const;

/** The event types a subscription to `topic` delivers to a user with `roles` (the subscribe ack lists them). */
export function receivableTypes(events: readonly EventSpec[], topic: string, roles: Set<Role>): string[] {
  return events
    .filter((e) => e.type.startsWith(topic) && roleAllows(e.access, roles))
    .map((e) => e.type)
    .sort();
}

/**
 * Why a subscription to `topic` (with `filter`) could never deliver an event to a user with `roles`, or undefined
 * when it can: no declared event type starts with the topic (a typo, or the plugin is not enabled), none of those
 * the user may receive, or a filter field none of them has, or whose value is of another type. A dashboard would
 * otherwise wait for events that never come.
 */
export function topicProblem(
  events: readonly EventSpec[],
  topic: string,
  filter: Filter | undefined,
  roles: Set<Role>,
): ApiError | undefined {
  const covered = events.filter((e) => e.type.startsWith(topic));
  if (covered.length === 0) {
    const prefixes = [...new Set(events.map((e) => `${e.type.split('.')[0]}.`))].sort().join(', ');
    return notFound(
      `topic: ${JSON.stringify(topic)} matches no event this gateway publishes (event types start with ${prefixes}; /v1/asyncapi.json lists them)`,
    );
  }
  const receivable = covered.filter((e) => roleAllows(e.access, roles));
  if (receivable.length === 0) {
    const e = covered[0] as EventSpec & { access: { like: string } };
    const role = requiredRole(e.access.like) as keyof typeof WHO;
    return forbidden(`topic: ${JSON.stringify(topic)}: its events go to ${WHO[role]} only, who may GET /v1${e.access.like}`);
  }
  for (const [key, want] of Object.entries(filter ?? {})) {
    const schemas: v.GenericSchema[] = [];
    let open = false;
    for (const e of receivable) {
      const fields = payloadFields(e.payload);
      if (fields === undefined) open = true;
      else if (Object.hasOwn(fields, key)) schemas.push(fields[key] as v.GenericSchema);
    }
    if (schemas.length === 0 && !open) {
      const known = [...new Set(receivable.flatMap((e) => Object.keys(payloadFields(e.payload) ?? {})))].sort().join(', ');
      return invalidField(`filter.${key}`, `no event under ${JSON.stringify(topic)} has this field (they have: ${known})`);
    }
    const types = new Set<string>();
    for (const sc of schemas) {
      const t = jsonTypes(sc);
      if (t === undefined) open = true;
      else for (const x of t) types.add(x);
    }
    if (!open && !types.has(typeof want)) {
      return invalidField(
        `filter.${key}`,
        `is ${[...types].sort().join(' or ')} in these events, not ${typeof want}: it would match nothing`,
      );
    }
  }
  return undefined;
}

export function registerWebSocket(
  hono: Hono<GatewayEnv>,
  upgrade: UpgradeWebSocket<unknown>,
  auth: AuthPort,
  bus: EventBus,
  opts: WsOptions,
) {
  const sockets = new Set<Socket>();
  const counters = { dropped_slow: 0, dropped_dead: 0 };
  let timer: ReturnType<typeof setInterval> | undefined;
  let lastPing = Date.now();
  const checkMs = opts.checkMs ?? 1000;

  const close = (s: Socket, c: { code: number; reason: string }) => {
    if (s.closed) return;
    s.closed = true;
    sockets.delete(s);
    s.ws.close(c.code, c.reason);
  };

  const encode = (frame: unknown): Buffer => (Buffer.isBuffer(frame) ? frame : Buffer.from(JSON.stringify(frame)));

  /** Write one encoded frame; `pending` is the socket's unsent bytes before it (the lag bound resets at 0). */
  const write = (s: Socket, bytes: Buffer, pending: number): void => {
    // nothing unsent before this frame: the client has caught up (see tick for the lag bound)
    if (pending === 0) s.behindSince = undefined;
    // a text frame from bytes already encoded (the same bytes go to every socket)
    if (s.raw) s.raw.send(bytes, { binary: false });
    else s.ws.send(bytes.toString('utf8'));
  };

  /** The socket's unsent bytes; a burst (see sendBurst) that has drained back within the bound stops counting. */
  const pendingOf = (s: Socket): number => {
    if (!s.raw) return 0;
    const pending = s.raw.bufferedAmount;
    if (s.burst > 0 && pending <= opts.maxBufferedBytes) s.burst = 0;
    return pending;
  };

  /**
   * Send one frame (an object, or its UTF-8 JSON bytes), or drop a socket that cannot keep up: one whose unsent data
   * would pass websocket.max_buffered_bytes, plus what is left of a snapshot or replay it was sent (see sendBurst).
   */
  const send = (s: Socket, frame: unknown): void => {
    if (s.closed) return;
    const bytes = encode(frame);
    const pending = pendingOf(s);
    if (s.raw && pending + bytes.length > opts.maxBufferedBytes + s.burst) {
      counters.dropped_slow++;
      close(s, WS_CLOSE.tooSlow);
      return;
    }
    write(s, bytes, pending);
  };

  /**
   * A snapshot, or a resume's replay: sent whole, even past the byte bound, which then counts it on top until it has
   * drained (a snapshot of a large PBX is a few MB: 10,000 channels ~7 MB, more than the 1 MB default bound, and it
   * must not get its socket closed as too slow). One burst at a time: a second one while the first is still unsent
   * is held to the bound like any frame, so a client cannot pile snapshots up in the gateway's memory. Its size is
   * that of a REST list of the same objects, or of the replay buffer at most.
   */
  const sendBurst = (s: Socket, frames: unknown[]): void => {
    if (s.closed) return;
    let pending = pendingOf(s);
    if (s.burst > 0 || pending > opts.maxBufferedBytes) {
      for (const f of frames) send(s, f);
      return;
    }
    for (const f of frames) {
      const bytes = encode(f);
      s.burst += bytes.length;
      write(s, bytes, pending);
      pending = s.raw ? s.raw.bufferedAmount : 0;
    }
  };

  const wants = (s: Socket, m: BusMessage): boolean => {
    if (!allowed(m.access, m.audience, s.user, s.roles)) return false;
    if (s.everything) return true;
    for (const [topic, filter] of s.subs) if (m.type.startsWith(topic) && matches(m.data, filter)) return true;
    return false;
  };

  // An event's frame is the same for every socket: serialised and encoded once while it is handed to each of them
  // (the bus calls every socket's listener with one message in turn). Only the last one is kept: frames kept for
  // every message the bus holds for resume (10,000 by default) were ~10 MB of Buffers nobody sent again; a resume
  // replay encodes its frames anew.
  let lastMessage: BusMessage | undefined;
  let lastFrame: Buffer | undefined;
  const eventFrame = (m: BusMessage): Buffer => {
    if (m !== lastMessage || lastFrame === undefined) {
      lastFrame = Buffer.from(JSON.stringify({ type: m.type, seq: m.seq, run: bus.runId, data: m.data, timestamp: m.timestamp }));
      lastMessage = m;
    }
    return lastFrame;
  };

  /**
   * Snapshot frames encoded in this turn of the event loop, by what they hold. After an AMI reconnect every socket
   * gets one (resyncAll), and most dashboards subscribe alike: each distinct snapshot is serialised once and the same
   * bytes go to every socket that asked for it. Encoding one per socket was ~7 MB and ~50 ms of CPU per socket at
   * 10,000 channels, held in memory until each client had read it.
   */
  let snapshotCache: Map<string, Buffer> | undefined;
  /**
   * The bus seq at the last resyncAll (AMI reconnect): a resume from it or before gets a resync, not a replay. The
   * resync frames carry this seq too, so a client that got them and resumes from there gets a second resync: one
   * snapshot too many, where telling the two apart would need a seq the NATS stream would see as a gap.
   */
  let resyncedAt = -1;
  let resyncReason = '';
  let snapshotsEncoded = 0;

  /** The current state of what the socket subscribed to (or of `only`), as of the bus's current seq, encoded. */
  const snapshotFrame = (s: Socket, only?: string): Buffer => {
    // what it holds: for each snapshot the user may read, every row (null) or the rows matching one of the filters
    const picks: [SnapshotReader, Filter[] | null][] = [];
    for (const r of opts.snapshots()) {
      if (!allowed(r.access, undefined, s.user, s.roles)) continue;
      const topics: [string, Filter | undefined][] = only !== undefined ? [[only, s.subs.get(only)]] : [...s.subs];
      if (only === undefined && s.everything) {
        picks.push([r, null]);
        continue;
      }
      const hit = topics.filter(([t]) => covers(t, r.key));
      if (hit.length === 0) continue;
      picks.push([r, hit.some(([, f]) => f === undefined) ? null : hit.map(([, f]) => f as Filter)]);
    }
    const key = JSON.stringify([bus.seq, picks.map(([r, filters]) => [r.key, filters])]);
    if (snapshotCache === undefined) {
      snapshotCache = new Map();
      queueMicrotask(() => {
        snapshotCache = undefined;
      });
    }
    let bytes = snapshotCache.get(key);
    if (bytes === undefined) {
      const data: Record<string, unknown[]> = {};
      for (const [r, filters] of picks) {
        data[r.key] = filters === null ? [...r.read()] : r.read().filter((row) => filters.some((f) => matches(row, f)));
      }
      bytes = Buffer.from(JSON.stringify({ type: 'snapshot', seq: bus.seq, run: bus.runId, data, timestamp: new Date().toISOString() }));
      snapshotsEncoded++;
      snapshotCache.set(key, bytes);
    }
    return bytes;
  };

  const resync = (s: Socket, reason: string) => {
    sendBurst(s, [
      { type: 'gateway.resync', seq: bus.seq, run: bus.runId, data: { reason }, timestamp: new Date().toISOString() },
      snapshotFrame(s),
    ]);
  };

  // One timer for every socket: tokens and permissions every checkMs, a ping every heartbeat.
  const tick = () => {
    const now = Date.now();
    const ping = now - lastPing >= opts.heartbeatMs;
    if (ping) lastPing = now;
    for (const s of sockets) {
      const who = auth.resolve(s.token, s.from);
      if (!who || who.userUuid !== s.user) {
        close(s, WS_CLOSE.tokenEnded);
        continue;
      }
      if ([...s.roles].some((r) => !who.roles.has(r))) {
        close(s, WS_CLOSE.permissionChanged);
        continue;
      }
      s.roles = who.roles;
      // The lag bound: unsent data at every frame sent and every check since behindSince. A client that reads, but
      // slower than events come, stays under max_buffered_bytes for a long time at a quiet PBX; its view is old.
      if (s.raw && s.raw.bufferedAmount > 0) {
        s.behindSince ??= now;
        if (now - s.behindSince >= opts.maxLagMs) {
          counters.dropped_slow++;
          close(s, WS_CLOSE.lagging);
          continue;
        }
      } else s.behindSince = undefined;
      if (ping && s.raw) {
        if (s.awaitingPong) {
          counters.dropped_dead++;
          s.closed = true;
          sockets.delete(s);
          s.raw.terminate();
          continue;
        }
        s.awaitingPong = true;
        s.raw.ping();
      }
      // every event up to bus.seq this socket may get has been handed to it (the bus publishes synchronously), so
      // the heartbeat's seq is a resume point: a client on a quiet topic moves it on without events
      if (ping && s.heartbeat) send(s, { type: 'heartbeat', seq: bus.seq, run: bus.runId, timestamp: new Date().toISOString() });
    }
    if (sockets.size === 0 && timer) {
      clearInterval(timer);
      timer = undefined;
    }
  };

  const onClientMessage = (s: Socket, text: string) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      send(s, { type: 'error', code: 'malformed_json', message: `malformed JSON: ${(e as Error).message}` });
      return;
    }
    const r = v.safeParse(ClientMessageSchema, parsed, { abortEarly: true });
    if (!r.success) {
      const err = issueError(r.issues, 'message');
      send(s, { type: 'error', code: err.code, message: err.message });
      return;
    }
    const msg = r.output;
    if (msg.type === 'subscribe') {
      const problem = topicProblem(opts.events(), msg.topic, msg.filter, s.roles);
      if (problem) {
        send(s, { type: 'error', code: problem.code, message: problem.message });
        return;
      }
      if (!s.subs.has(msg.topic) && s.subs.size >= MAX_SUBSCRIPTIONS) {
        // every event is checked against each of a socket's subscriptions: their number is bounded
        const message = `topic: a socket has at most ${MAX_SUBSCRIPTIONS} subscriptions; unsubscribe one, or subscribe to a wider prefix`;
        send(s, { type: 'error', code: 'bad_request', message });
        return;
      }
      s.subs.set(msg.topic, msg.filter);
      s.everything = false;
      const types = receivableTypes(opts.events(), msg.topic, s.roles);
      send(s, { type: 'ack', request: 'subscribe', topic: msg.topic, types, seq: bus.seq, run: bus.runId });
      if (msg.snapshot) sendBurst(s, [snapshotFrame(s, msg.topic)]);
    } else {
      const had = s.subs.delete(msg.topic);
      if (had) send(s, { type: 'ack', request: 'unsubscribe', topic: msg.topic, seq: bus.seq, run: bus.runId });
      else send(s, { type: 'error', code: 'not_found', message: `topic: not subscribed to ${JSON.stringify(msg.topic)}` });
    }
  };

  for (const p of ['/v1/ws', '/ws']) {
    hono.get(
      p,
      async (c, next) => {
        const token = c.req.query('authtoken');
        const who = token ? auth.resolve(token, clientAddress(c)) : undefined;
        if (!who || !token) return errorResponse(unauthorized('a valid ?authtoken= is required for the WebSocket'));
        const resume = c.req.query('resume');
        if (resume !== undefined && !/^[0-9a-f-]{36}:\d{1,15}$/.test(resume)) {
          return errorResponse(badRequest('resume: must be <run>:<seq> as the last event frame gave them', { field: 'resume' }));
        }
        for (const flag of ['snapshot', 'heartbeat']) {
          const value = c.req.query(flag);
          if (value !== undefined && value !== 'true' && value !== 'false') {
            return errorResponse(badRequest(`${flag}: must be true or false`, { field: flag }));
          }
        }
        const listed = topicList(c.req.query('topics'));
        if (new Set(listed).size > MAX_SUBSCRIPTIONS) {
          return errorResponse(badRequest(`topics: at most ${MAX_SUBSCRIPTIONS} topics`, { field: 'topics' }));
        }
        for (const topic of listed) {
          const problem = topicProblem(opts.events(), topic, undefined, who.roles);
          if (problem) return errorResponse(problem);
        }
        c.set('userUuid', who.userUuid);
        c.set('roles', who.roles);
        c.set('token', token);
        await next();
      },
      upgrade((c) => {
        const topics = topicList(c.req.query('topics'));
        const resume = c.req.query('resume');
        const snapshot = c.req.query('snapshot') === 'true';
        const heartbeat = c.req.query('heartbeat') === 'true';
        // read now: the closures below outlive the request and must not keep its context
        const token = c.get('token');
        const user = c.get('userUuid');
        const roles = c.get('roles');
        const from = clientAddress(c);
        let socket: Socket | undefined;
        let unsubscribe: (() => void) | undefined;
        const end = () => {
          unsubscribe?.();
          if (socket) {
            socket.closed = true;
            sockets.delete(socket);
          }
        };
        return {
          onOpen(_e, ws) {
            const raw = ws.raw as RawSocket | undefined;
            const s: Socket = {
              ws,
              raw: raw && typeof raw.ping === 'function' ? raw : undefined,
              token,
              from,
              user,
              roles,
              subs: new Map(topics.map((t) => [t, undefined])),
              everything: topics.length === 0,
              awaitingPong: false,
              heartbeat,
              closed: false,
              behindSince: undefined,
              burst: 0,
            };
            socket = s;
            sockets.add(s);
            s.raw?.on('pong', () => {
              s.awaitingPong = false;
            });
            timer ??= setInterval(tick, checkMs);
            timer.unref?.();
            // Everything below runs synchronously: no event can fall between the replay or snapshot and the live
            // events that follow.
            const hello = heartbeat ? { topics, heartbeat_s: opts.heartbeatMs / 1000 } : { topics };
            send(s, { type: 'hello', seq: bus.seq, run: bus.runId, data: hello, timestamp: new Date().toISOString() });
            if (resume !== undefined) {
              const [run, seqText] = resume.split(':');
              const from = Number(seqText);
              // a resume point before the last resync: replaying events would not remove what the resync removed
              // (calls that ended while Asterisk was away are not events), so the client starts over from a snapshot
              const missed = run === bus.runId && from > resyncedAt ? bus.since(from) : undefined;
              if (missed) {
                sendBurst(s, missed.filter((m) => wants(s, m)).map(eventFrame));
              } else {
                resync(
                  s,
                  run !== bus.runId
                    ? 'the gateway restarted since'
                    : from <= resyncedAt
                      ? `the state was read again from Asterisk since (${resyncReason})`
                      : 'the events after the resume point are no longer kept',
                );
              }
            } else if (snapshot) {
              sendBurst(s, [snapshotFrame(s)]);
            }
            unsubscribe = bus.subscribe((m) => {
              if (!s.closed && wants(s, m)) send(s, eventFrame(m));
            });
          },
          onMessage(e) {
            if (socket && !socket.closed) onClientMessage(socket, typeof e.data === 'string' ? e.data : String(e.data));
          },
          onClose: end,
          onError: end,
        };
      }),
    );
  }

  return {
    sockets: () => sockets.size,
    /** Snapshot frames serialised since start (tests: one per distinct snapshot in a resync, not one per socket). */
    snapshotsEncoded: () => snapshotsEncoded,
    stats: () => ({
      connected: sockets.size,
      ...counters,
      run_id: bus.runId,
      seq: bus.seq,
      replay_buffer: { depth: bus.replayDepth, capacity: bus.replayCapacity },
    }),
    /** After an AMI reconnect: every socket gets gateway.resync and the rebuilt state. */
    resyncAll(reason: string) {
      resyncedAt = bus.seq;
      resyncReason = reason;
      for (const s of sockets) resync(s, reason);
    },
    /** The gateway is stopping: every socket is closed with 1001 (going away); clients reconnect and resume. */
    close() {
      if (timer) clearInterval(timer);
      timer = undefined;
      for (const s of [...sockets]) close(s, WS_CLOSE.goingAway);
    },
  };
}
