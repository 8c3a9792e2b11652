import net from 'node:net';
import { encodeAction, type AmiHeaders } from './encoder.ts';
import { AmiError, AmiInputError, AmiNotConnectedError, AmiTimeoutError } from './errors.ts';
import { header, values, type AmiMessage } from './message.ts';
import { AmiParser } from './parser.ts';
import type { AmiListResult, AmiPort } from './port.ts';

export type { AmiListResult };

export interface AmiLogger {
  info(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
}

export interface AmiClientOptions {
  host: string;
  port: number;
  username: string;
  secret: string;
  /** Login `Events:` mask (e.g. 'on', 'off', 'call,agent'). Default 'on'. */
  events?: string;
  /** First reconnect delay; doubles per failed attempt up to reconnectMaxMs. Default 250. */
  reconnectMinMs?: number;
  /** Default 10000. */
  reconnectMaxMs?: number;
  /** Time allowed for an answer (for a list: between two of its messages), and for connect + login. Default 10000. */
  actionTimeoutMs?: number;
  /**
   * Keepalive: after this long with nothing received, a Ping is sent (checked every half of it); 0 turns it off.
   * Default 10000.
   */
  keepaliveMs?: number;
  /** A keepalive Ping not answered within this drops the connection (and reconnects). Default 5000. */
  keepaliveTimeoutMs?: number;
  /** Default: console. */
  logger?: AmiLogger;
  /** Told of every action once it is settled: its name, how, and how long after it was sent (for metrics). */
  onActionDone?(name: string, outcome: 'success' | 'error' | 'timeout' | 'disconnected', seconds: number): void;
}

/** One action waiting for its answer, keyed by its ActionID. */
/** Longest stretch of AMI parsing before the event loop gets a turn (see the 'data' handler). */
const SLICE_MS = 4;

interface PendingAction {
  readonly isList: boolean;
  readonly timer: ReturnType<typeof setTimeout>;
  response: AmiMessage | undefined;
  readonly events: AmiMessage[];
  /** eventSeq when the completion event was read, so a resync can tell which live events came after its snapshot */
  completedAtSeq?: number;
  resolve(message: AmiMessage, complete: AmiMessage | undefined): void;
  reject(error: Error): void;
}

/** Message text of an error response: Message, else the Output lines (Command), else a generic text. */
function errorText(response: AmiMessage): string {
  const message = header(response, 'Message');
  const output = values(response, 'Output');
  if (output.length > 0 && (message === undefined || message === 'Command output follows')) return output.join('\n');
  return message ?? 'Asterisk answered Response: Error';
}

function isCompletion(event: AmiMessage): boolean {
  const eventList = event.fields.EventList;
  if (eventList !== undefined) return eventList.toLowerCase() === 'complete';
  return (event.fields.Event ?? '').endsWith('Complete');
}

/** Whether a Success ack announces list events ("EventList: start", "... will follow", "Following are Events ..."). */
function announcesList(ack: AmiMessage): boolean {
  if ((header(ack, 'EventList') ?? '').toLowerCase() === 'start') return true;
  return /follow/i.test(header(ack, 'Message') ?? '');
}

type Listener<T extends unknown[]> = (...args: T) => unknown;

/**
 * AMI client on node:net (runs on Node and Bun): connects, logs in, keeps reconnecting with
 * capped exponential backoff, matches answers to actions by ActionID, collects list actions,
 * and hands every other event to onEvent listeners.
 */
export class AmiClient implements AmiPort {
  private readonly opts: Required<Omit<AmiClientOptions, 'logger' | 'onActionDone'>>;
  private readonly logger: AmiLogger;
  private readonly onActionDone: AmiClientOptions['onActionDone'];
  private readonly parser: AmiParser;
  private readonly actionIdPrefix = `gw${Math.random().toString(36).slice(2, 8)}-`;
  private actionCounter = 0;
  private deliveredEvents = 0;
  private readonly pending = new Map<string, PendingAction>();

  private socket: net.Socket | undefined = undefined;
  private loggedIn = false;
  private running = false;
  private reconnectAttempt = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined = undefined;
  private version: string | undefined = undefined;
  /** performance.now() of the last bytes received (for the keepalive). */
  private lastDataAt = 0;

  private readonly eventListeners = new Set<Listener<[AmiMessage]>>();
  private readonly connectListeners = new Set<Listener<[]>>();
  private readonly disconnectListeners = new Set<Listener<[string]>>();
  /** Waiters of connectOnce(): settled by the next login attempt. */
  private attemptWaiters: Array<{ resolve(): void; reject(error: Error): void }> = [];

  constructor(opts: AmiClientOptions) {
    this.opts = {
      host: opts.host,
      port: opts.port,
      username: opts.username,
      secret: opts.secret,
      events: opts.events ?? 'on',
      reconnectMinMs: opts.reconnectMinMs ?? 250,
      reconnectMaxMs: opts.reconnectMaxMs ?? 10_000,
      actionTimeoutMs: opts.actionTimeoutMs ?? 10_000,
      keepaliveMs: opts.keepaliveMs ?? 10_000,
      keepaliveTimeoutMs: opts.keepaliveTimeoutMs ?? 5000,
    };
    this.logger = opts.logger ?? console;
    this.onActionDone = opts.onActionDone;
    this.parser = new AmiParser(
      (message) => this.handleMessage(message),
      (version) => {
        this.version = version;
      },
    );
  }

  /** Events nobody handles are dropped by the parser without being parsed (see AmiParser.ignoredEvents). */
  ignoreEvents(names: ReadonlySet<string>): void {
    this.parser.ignoredEvents = names.size > 0 ? names : undefined;
  }

  /** True only while logged in. */
  get connected(): boolean {
    return this.loggedIn;
  }

  /** AMI version from the banner of the current (or last) connection, e.g. '11.0.0' on Asterisk 22. */
  get amiVersion(): string | undefined {
    return this.version;
  }

  /** Connect and keep (re)connecting until stop(). */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.reconnectAttempt = 0;
    this.connect();
  }

  /**
   * Starts the client (as start()) and settles with the outcome of the next login attempt:
   * resolves once logged in and the onConnect listeners ran, rejects with that attempt's error
   * (AmiError for a refused login, AmiNotConnectedError otherwise). Retries go on in the background.
   */
  connectOnce(): Promise<void> {
    if (this.loggedIn) return Promise.resolve();
    const outcome = new Promise<void>((resolve, reject) => this.attemptWaiters.push({ resolve, reject }));
    this.start();
    return outcome;
  }

  /** Log off if possible, close, stop reconnecting, reject whatever is still pending. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.reconnectTimer !== undefined) {
      clearTimeout(this.reconnectTimer);
      this.reconnectTimer = undefined;
    }
    const socket = this.socket;
    if (socket !== undefined && this.loggedIn) {
      // Answers to earlier actions arrive before the Goodbye, so they still resolve.
      await this.request('Logoff', {}, false, Math.min(this.opts.actionTimeoutMs, 2000)).catch(() => undefined);
    }
    this.failPending(new AmiNotConnectedError('AMI client stopped'));
    this.settleAttempt(new AmiNotConnectedError('AMI client stopped'));
    if (socket !== undefined && !socket.destroyed) {
      const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      socket.destroy();
      await closed;
    }
  }

  /** Unsolicited events: everything that is neither an answer nor an item of a pending list. */
  onEvent(fn: (m: AmiMessage) => void): () => void {
    return this.addListener(this.eventListeners, fn);
  }

  /** Runs after every successful login (the first and each reconnect), one listener after another. */
  onConnect(fn: () => void | Promise<void>): () => void {
    return this.addListener(this.connectListeners, fn);
  }

  /** Runs when a logged-in session ends; pending actions have already been rejected. */
  onDisconnect(fn: (reason: string) => void): () => void {
    return this.addListener(this.disconnectListeners, fn);
  }

  /** Sends an action; resolves with its answer, rejects AmiError on `Response: Error`. */
  action(name: string, headers: AmiHeaders = {}): Promise<AmiMessage> {
    return this.request(name, headers, false, this.opts.actionTimeoutMs).then((result) => result.response);
  }

  /** Sends a list action and collects its events up to the completion event. */
  list(name: string, headers: AmiHeaders = {}): Promise<AmiListResult> {
    return this.request(name, headers, true, this.opts.actionTimeoutMs);
  }

  /**
   * Runs a CLI command; resolves with its output lines ([] for no output).
   * Handles both the 14+ form (`Output:` lines) and the <=13 form (`Response: Follows`).
   * An unknown command (14+) rejects AmiError whose message is Asterisk's output text.
   */
  async command(cmd: string): Promise<string[]> {
    const response = await this.action('Command', { Command: cmd });
    const output = values(response, 'Output');
    return output.length === 1 && output[0] === '' ? [] : output;
  }

  private addListener<T extends unknown[]>(set: Set<Listener<T>>, fn: Listener<T>): () => void {
    set.add(fn);
    return () => {
      set.delete(fn);
    };
  }

  private nextActionId(): string {
    this.actionCounter += 1;
    return this.actionIdPrefix + this.actionCounter;
  }

  private request(name: string, headers: AmiHeaders, isList: boolean, timeoutMs: number): Promise<AmiListResult> {
    const actionId = this.nextActionId();
    let text: string;
    try {
      text = encodeAction(name, actionId, headers);
    } catch (error) {
      return Promise.reject(error instanceof AmiInputError ? error : new AmiInputError('Action', String(error)));
    }
    const socket = this.socket;
    if (!this.loggedIn || socket === undefined) {
      return Promise.reject(new AmiNotConnectedError(`AMI is not connected (action ${name})`));
    }
    return this.send(socket, name, actionId, text, isList, timeoutMs);
  }

  /** Registers the pending action, then writes it. Used for Login too, before `loggedIn`. */
  private send(
    socket: net.Socket,
    name: string,
    actionId: string,
    text: string,
    isList: boolean,
    timeoutMs: number,
  ): Promise<AmiListResult> {
    const observe = this.onActionDone;
    const sentAt = observe ? performance.now() : 0;
    const done = observe
      ? (error: Error | undefined) => {
          const outcome =
            error === undefined
              ? 'success'
              : error instanceof AmiTimeoutError
                ? 'timeout'
                : error instanceof AmiNotConnectedError
                  ? 'disconnected'
                  : 'error';
          observe(name, outcome, (performance.now() - sentAt) / 1000);
        }
      : undefined;
    return new Promise<AmiListResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (this.pending.get(actionId) === entry) {
          this.pending.delete(actionId);
          const error = new AmiTimeoutError(name, actionId, timeoutMs);
          done?.(error);
          reject(error);
        }
      }, timeoutMs);
      const entry: PendingAction = {
        isList,
        timer,
        response: undefined,
        events: [],
        resolve: (response, complete) => {
          clearTimeout(timer);
          done?.(undefined);
          resolve({ response, events: entry.events, complete, seq: entry.completedAtSeq ?? this.deliveredEvents });
        },
        reject: (error) => {
          clearTimeout(timer);
          done?.(error);
          reject(error);
        },
      };
      this.pending.set(actionId, entry);
      socket.write(text);
    });
  }

  private handleMessage(message: AmiMessage): void {
    const fields = message.fields;
    if (fields.Event !== undefined) {
      this.handleEvent(message);
      return;
    }
    const actionId = header(message, 'ActionID');
    const entry = actionId === undefined ? undefined : this.pending.get(actionId);
    if (entry === undefined || actionId === undefined) return; // late answer (timed out), or not ours
    const response = (header(message, 'Response') ?? '').toLowerCase();
    if (response === 'error') {
      this.pending.delete(actionId);
      entry.reject(new AmiError(errorText(message), message));
      return;
    }
    if (entry.isList && announcesList(message)) {
      entry.response = message;
      // The list may take a while; the timeout now counts from the latest message.
      entry.timer.refresh();
      return;
    }
    // Success, Goodbye, Follows (old Command), or a Success ack that announced no list.
    this.pending.delete(actionId);
    entry.resolve(message, undefined);
  }

  /** How many unsolicited events have been handed to onEvent listeners; the seq of the one being delivered. */
  get eventSeq(): number {
    return this.deliveredEvents;
  }

  private handleEvent(event: AmiMessage): void {
    const actionId = event.fields.ActionID;
    if (actionId !== undefined) {
      const entry = this.pending.get(actionId);
      if (entry?.isList) {
        if (isCompletion(event)) {
          this.pending.delete(actionId);
          entry.completedAtSeq = this.deliveredEvents;
          entry.resolve(entry.response ?? event, event);
        } else {
          entry.events.push(event);
          entry.timer.refresh();
        }
        return;
      }
    }
    this.deliveredEvents += 1;
    for (const listener of this.eventListeners) {
      try {
        listener(event);
      } catch (error) {
        this.logger.error('AMI onEvent listener failed:', error);
      }
    }
  }

  private connect(): void {
    this.reconnectTimer = undefined;
    if (!this.running) return;
    const { host, port } = this.opts;
    const socket = net.createConnection({ host, port });
    this.socket = socket;
    this.parser.reset();
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 30_000);

    // Connect + login must finish in time, or the attempt counts as failed.
    const handshakeTimer = setTimeout(() => {
      if (this.socket === socket && !this.loggedIn) this.dropSocket(socket, 'connect/login timed out');
    }, this.opts.actionTimeoutMs);

    socket.on('connect', () => {
      this.login(socket).finally(() => clearTimeout(handshakeTimer));
    });
    // Fairness: in an event flood libuv hands us chunk after chunk in one loop pass, and HTTP requests wait behind
    // them. After SLICE_MS of continuous parsing, pause the socket until the loop has gone round once.
    let sliceStart = 0;
    socket.on('data', (chunk: Buffer) => {
      if (this.socket !== socket) return;
      this.lastDataAt = performance.now();
      try {
        this.parser.push(chunk);
      } catch (error) {
        this.logger.error('AMI message handling failed:', error);
      }
      const now = performance.now();
      if (sliceStart === 0) {
        sliceStart = now;
        setImmediate(() => (sliceStart = 0));
      } else if (now - sliceStart > SLICE_MS && !socket.isPaused()) {
        socket.pause();
        setImmediate(() => {
          if (this.socket === socket) socket.resume();
        });
      }
    });
    socket.on('error', (error: Error) => {
      clearTimeout(handshakeTimer);
      this.dropSocket(socket, error.message);
    });
    socket.on('end', () => this.dropSocket(socket, 'closed by Asterisk'));
    socket.on('close', () => {
      clearTimeout(handshakeTimer);
      this.dropSocket(socket, 'connection closed');
    });
  }

  private async login(socket: net.Socket): Promise<void> {
    const { username, secret, events } = this.opts;
    const actionId = this.nextActionId();
    let text: string;
    try {
      text = encodeAction('Login', actionId, { Username: username, Secret: secret, Events: events });
    } catch (error) {
      this.logger.error('AMI login not sent: invalid credentials option:', error);
      this.settleAttempt(error instanceof Error ? error : new Error(String(error)));
      this.dropSocket(socket, 'invalid login options');
      return;
    }
    try {
      await this.send(socket, 'Login', actionId, text, false, this.opts.actionTimeoutMs);
    } catch (error) {
      if (error instanceof AmiError) {
        // Asterisk closes the connection itself after a failed login; we retry with backoff.
        this.logger.error(`AMI login as "${username}" to ${this.opts.host}:${this.opts.port} failed: ${error.message}`);
        this.settleAttempt(error);
        this.dropSocket(socket, `login failed: ${error.message}`);
      }
      // Otherwise the socket dropped or timed out; dropSocket has handled it.
      return;
    }
    if (this.socket !== socket) return;
    this.loggedIn = true;
    this.reconnectAttempt = 0;
    this.logger.info(`AMI logged in to ${this.opts.host}:${this.opts.port} (AMI ${this.version ?? 'unknown'})`);
    this.keepalive(socket);
    for (const listener of [...this.connectListeners]) {
      if (this.socket !== socket || !this.loggedIn) return; // dropped meanwhile; the next login runs them again
      try {
        await listener();
      } catch (error) {
        this.logger.error('AMI onConnect listener failed:', error);
      }
    }
    if (this.socket === socket && this.loggedIn) this.settleAttempt(undefined);
  }

  /**
   * A link that stops carrying packets without closing (a dead NAT entry, a silent firewall) is found by a Ping sent
   * after keepaliveMs of silence: no answer within keepaliveTimeoutMs drops the socket, and the reconnect follows.
   */
  private keepalive(socket: net.Socket): void {
    const { keepaliveMs, keepaliveTimeoutMs } = this.opts;
    if (keepaliveMs <= 0) return;
    let inFlight = false;
    const timer = setInterval(
      () => {
        if (this.socket !== socket || !this.loggedIn) {
          clearInterval(timer);
          return;
        }
        if (inFlight || performance.now() - this.lastDataAt < keepaliveMs) return;
        inFlight = true;
        this.request('Ping', {}, false, keepaliveTimeoutMs)
          .catch((error: unknown) => {
            if (error instanceof AmiTimeoutError && this.socket === socket)
              this.dropSocket(socket, `no answer to a keepalive Ping within ${keepaliveTimeoutMs} ms`);
          })
          .finally(() => {
            inFlight = false;
          });
      },
      Math.max(50, keepaliveMs / 2),
    );
    timer.unref?.();
  }

  /** Ends the session on this socket: reject pending at once, reset the parser, schedule a reconnect. */
  private dropSocket(socket: net.Socket, reason: string): void {
    if (!socket.destroyed) socket.destroy();
    if (this.socket !== socket) return; // already handled
    this.socket = undefined;
    const wasLoggedIn = this.loggedIn;
    this.loggedIn = false;
    this.parser.reset();
    this.failPending(new AmiNotConnectedError(`AMI connection lost: ${reason}`));
    this.settleAttempt(new AmiNotConnectedError(`AMI connection failed: ${reason}`));
    if (wasLoggedIn) {
      this.logger.warn(`AMI disconnected: ${reason}`);
      for (const listener of [...this.disconnectListeners]) {
        try {
          listener(reason);
        } catch (error) {
          this.logger.error('AMI onDisconnect listener failed:', error);
        }
      }
    }
    if (this.running) this.scheduleReconnect(reason);
  }

  private scheduleReconnect(reason: string): void {
    const { reconnectMinMs, reconnectMaxMs } = this.opts;
    const base = Math.min(reconnectMaxMs, reconnectMinMs * 2 ** Math.min(this.reconnectAttempt, 30));
    // Up to 20 % jitter, so several gateways do not hammer a restarting Asterisk in step.
    const delay = Math.round(Math.min(reconnectMaxMs, base * (1 + Math.random() * 0.2)));
    this.reconnectAttempt += 1;
    this.logger.warn(`AMI ${this.opts.host}:${this.opts.port}: ${reason}; reconnecting in ${delay} ms`);
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
  }

  private failPending(error: AmiNotConnectedError): void {
    const entries = [...this.pending.values()];
    this.pending.clear();
    for (const entry of entries) entry.reject(error);
  }

  /** Settles connectOnce() waiters: undefined = logged in. */
  private settleAttempt(error: Error | undefined): void {
    const waiters = this.attemptWaiters;
    if (waiters.length === 0) return;
    this.attemptWaiters = [];
    for (const waiter of waiters) {
      if (error === undefined) waiter.resolve();
      else waiter.reject(error);
    }
  }
}
