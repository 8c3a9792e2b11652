// Wires the gateway together: config -> store, accounts, tokens -> AMI client -> plugins -> HTTP app.
// Tests build a Gateway in-process the same way main.ts does.
import { AmiClient } from './ami/client.ts';
import { ConfigOptionCatalog } from './config-routes/options.ts';
import type { AmiMessage } from './ami/message.ts';
import { ignorableEvents } from './ami/ignorable.ts';
import type { AmiPort } from './ami/port.ts';
import { Accounts } from './auth/accounts.ts';
import { registerLoginRoutes } from './auth/login-routes.ts';
import { AuditLog } from './audit/audit.ts';
import { registerAuditRoutes } from './audit/routes.ts';
import path from 'node:path';
import { registerApiKeyRoutes } from './auth/apikey-routes.ts';
import { ApiKeys } from './auth/apikeys.ts';
import { DEFAULT_THROTTLE, LoginThrottle } from './auth/throttle.ts';
import { TokenStore } from './auth/tokens.ts';
import { EventBus } from './bus/bus.ts';
import { ConfigFileError, type GatewayConfig } from './config.ts';
import { ConfigFiles, registerConfigApplyRoute, UnappliedSchema } from './config-files.ts';
import { HttpApp } from './http/app.ts';
import { ok } from './http/envelope.ts';
import { ApiError } from './http/errors.ts';
import { route } from './contract/route.ts';
import { bool, int, line, list, named, nullable, obj, oneOf } from './contract/schema.ts';
import type { EventSpec } from './contract/events.ts';
import type { BrokerDoc } from './contract/asyncapi.ts';
import { registerDocsRoutes } from './docs/routes.ts';
import { runtime, serve, upgradeWebSocket, type RunningServer } from './http/serve.ts';
import { registerWebSocket, type SnapshotReader } from './ws/ws.ts';
import { createLogger, type Logger } from './log.ts';
import { serveMetrics, type MetricsListener } from './metrics/listener.ts';
import { Metrics } from './metrics/metrics.ts';
import { BUILTIN_PLUGINS } from './plugins/builtin.ts';
import type { BrokerLinkStats, PluginContext } from './plugins/contract.ts';
import { PluginHost } from './plugins/host.ts';
import { ProfileRegistry } from './plugins/profile.ts';
import { Store } from './store/store.ts';

export const StatusSchema = named(
  'Status',
  obj({
    gateway: obj({ runtime: oneOf(['node', 'bun']), uptime_s: int() }),
    ami: obj({ connected: bool(), host: line(), port: int(), ami_version: nullable(line()) }),
    asterisk: obj({
      version: nullable(line()),
      uptime_s: nullable(int()),
      startup: nullable(line('ISO 8601')),
      last_reload: nullable(line('ISO 8601')),
    }),
    plugins: list(obj({ name: line(), description: line(), live: bool(), error: nullable(line()) })),
    websocket: obj({
      connected: int('open WebSocket connections'),
      dropped_slow: int('sockets closed with 1013 (too much unsent data, or unsent data for too long), since start'),
      dropped_dead: int('sockets dropped for not answering a ping, since start'),
      run_id: line('this run of the gateway (?resume=<run>:<seq>)'),
      seq: int('the last event seq'),
      replay_buffer: obj({ depth: int('events kept for resume'), capacity: int('websocket.replay_buffer_events') }),
    }),
    // the nats plugin's broker link; null when the plugin is off
    nats: nullable(
      obj({
        connected: bool('linked to a NATS server'),
        buffered: int('events waiting for the broker (buffer_max_events bounds them)'),
        dropped: int('events that did not fit in the buffer, since start (consumers got gateway.resync)'),
        published: int('events JetStream acknowledged, since start'),
      }),
    ),
    config: obj({ unapplied: list(UnappliedSchema, 'config files written with ?reload=later: POST /v1/admin/config/apply reloads them') }),
  }),
);

export const ReadySchema = named('Ready', obj({ ready: bool(), ami_connected: bool(), plugins: list(line('an enabled plugin, live')) }));

interface AsteriskInfo {
  version: string | null;
  startedAt: Date | null;
  reloadedAt: Date | null;
}

/** CoreStatus gives the Asterisk host's local date and time; the gateway runs on the same host. */
function localDate(date?: string, time?: string): Date | null {
  if (!date || !time) return null;
  const d = new Date(`${date}T${time}`);
  return Number.isNaN(d.getTime()) ? null : d;
}

export class Gateway {
  readonly log: Logger;
  readonly bus: EventBus;
  readonly ami: AmiClient;
  readonly http: HttpApp;
  readonly plugins: PluginHost;
  readonly tokens: TokenStore;
  readonly apiKeys: ApiKeys;
  readonly audit: AuditLog;
  readonly configFiles: ConfigFiles;
  readonly configOptions: ConfigOptionCatalog;
  /** Prometheus metrics, when gateway.yaml enables them (metrics.enabled); else nothing is counted. */
  readonly metrics: Metrics | undefined;
  private metricsListener: MetricsListener | null = null;
  /** What plugins add to GET /me/info. */
  readonly profile = new ProfileRegistry();
  private server: RunningServer | null = null;
  /** Set first thing in wire(), which create() runs before handing the gateway out. */
  private ws!: ReturnType<typeof registerWebSocket>;
  private snapshotReaders: SnapshotReader[] = [];
  /** Every event type the enabled plugins publish (for the AsyncAPI document). */
  events: EventSpec[] = [];
  private readonly startedAt = new Date();
  private asterisk: AsteriskInfo = { version: null, startedAt: null, reloadedAt: null };
  /** The broker link a plugin (nats) reports, when one is enabled. */
  private brokerLink: (() => BrokerLinkStats) | null = null;
  /** The broker sides plugins declare for the AsyncAPI document (nats). */
  private readonly brokerDocs: BrokerDoc[] = [];

  private constructor(
    readonly config: GatewayConfig,
    readonly store: Store,
    readonly accounts: Accounts,
    log: Logger,
  ) {
    this.log = log;
    // the secrets gateway.yaml holds are masked wherever they might appear in a message
    log.addSecret(config.ami.secret);
    if (config.auth.bootstrap_admin) log.addSecret(config.auth.bootstrap_admin.password);
    const metrics = config.metrics.enabled ? new Metrics() : undefined;
    this.metrics = metrics;
    if (metrics) store.onWrite = (ok, seconds) => metrics.storeWrite(ok, seconds);
    this.tokens = new TokenStore(config.auth.token_ttl_s * 1000);
    this.apiKeys = new ApiKeys(store, Date.now, (e) => log.error("could not write an API key's last_used:", e));
    this.bus = new EventBus(config.websocket.replay_buffer_events);
    this.audit = new AuditLog(path.join(config.data_dir, 'audit'), { maxBytes: config.audit.max_bytes, keep: config.audit.keep }, (e) =>
      log.error('could not write the audit log:', e),
    );
    this.ami = new AmiClient({
      host: config.ami.host,
      port: config.ami.port,
      username: config.ami.username,
      secret: config.ami.secret,
      reconnectMaxMs: config.ami.reconnect_max_ms,
      keepaliveMs: config.ami.keepalive_s * 1000,
      keepaliveTimeoutMs: config.ami.keepalive_timeout_s * 1000,
      logger: log.child('ami'),
      onActionDone: metrics && ((name, outcome, seconds) => metrics.amiAction(name, outcome, seconds)),
    });
    this.configFiles = new ConfigFiles(config, this.ami, log.child('config-files'), metrics);
    // Asterisk's option lists, read once per AMI connection (core/config-routes/options.ts).
    this.configOptions = new ConfigOptionCatalog(this.ami);
    this.ami.onConnect(() => this.configOptions.reset());
    this.ami.onDisconnect(() => this.configOptions.reset());
    this.plugins = new PluginHost(log.child('plugins'), () => this.ami.connected);
    this.http = new HttpApp({
      bodyLimitBytes: config.http.body_limit_bytes,
      auth: this.authPort(),
      liveness: (name) => this.plugins.liveness(name),
      logError: (e) => this.log.error('request failed:', e),
      audit: (entry) => void this.audit.record(entry),
      requestLog: log.level === 'debug' || log.level === 'info' ? log.child('http') : undefined,
      metrics,
    });
  }

  private authPort() {
    return {
      resolve: (token: string, from?: string) => {
        const userUuid = this.tokens.use(token);
        return userUuid ? { userUuid, roles: this.accounts.rolesOf(userUuid) } : this.apiKeys.resolve(token, from);
      },
    };
  }

  static async create(config: GatewayConfig, log: Logger = createLogger()): Promise<Gateway> {
    const store = await Store.open(config.data_dir);
    const accounts = new Accounts(store);
    const created = await accounts.bootstrap(config.auth.bootstrap_admin);
    if (created) log.info(`created bootstrap admin "${created.username}"`);
    const gw = new Gateway(config, store, accounts, log);
    await gw.wire();
    return gw;
  }

  private async wire(): Promise<void> {
    this.ws = registerWebSocket(this.http.hono, upgradeWebSocket, this.authPort(), this.bus, {
      maxBufferedBytes: this.config.websocket.max_buffered_bytes,
      maxLagMs: this.config.websocket.max_lag_s * 1000,
      heartbeatMs: this.config.websocket.heartbeat_s * 1000,
      snapshots: () => this.snapshotReaders,
      events: () => this.events,
    });
    const coreRouter = this.http.router('core');
    const t = this.config.auth.throttle;
    const throttle = new LoginThrottle({
      ...DEFAULT_THROTTLE,
      freeFailures: t.free_failures,
      lockAfter: Math.max(t.lock_after, t.free_failures + 1),
      maxLockMs: t.max_lock_s * 1000,
      lockBaseMs: Math.min(DEFAULT_THROTTLE.lockBaseMs, t.max_lock_s * 1000),
    });
    registerLoginRoutes(coreRouter, this.accounts, this.tokens, throttle, this.log.child('auth'));
    registerApiKeyRoutes(coreRouter, this.apiKeys);
    registerAuditRoutes(coreRouter, this.audit);
    registerConfigApplyRoute(coreRouter, this.configFiles);
    coreRouter.add(
      route({
        method: 'GET',
        path: '/status',
        summary: 'Gateway, AMI link, Asterisk and plugin status',
        tags: ['status'],
        public: true,
        responses: { 200: StatusSchema },
        handler: () => ok(this.status()),
      }),
    );
    coreRouter.add(
      route({
        method: 'GET',
        path: '/ready',
        summary: 'Ready to serve: AMI connected and every plugin live (for load balancers and service checks)',
        tags: ['status'],
        public: true,
        responses: { 200: ReadySchema },
        errors: [503],
        handler: () => {
          const waiting = this.plugins
            .status()
            .filter((p) => !p.live)
            .map((p) => p.name);
          const connected = this.ami.connected;
          if (!connected || waiting.length > 0) {
            throw new ApiError(
              503,
              connected
                ? `not ready: plugin(s) still reading their state: ${waiting.join(', ')}`
                : 'not ready: Asterisk is not connected (AMI)',
              { ami_connected: connected, waiting_for: waiting },
              'not_ready',
            );
          }
          return ok({ ready: true, ami_connected: true, plugins: this.plugins.names() });
        },
      }),
    );

    const ami = this.ami;
    const host = this.plugins;
    // Each plugin gets its own narrow AMI port; list answers report their seq so a resync can place its snapshot.
    const portFor = (plugin: string): AmiPort => ({
      get connected() {
        return ami.connected;
      },
      action: (n, h) => ami.action(n, h),
      list: async (n, h) => {
        const r = await ami.list(n, h);
        host.noteSnapshot(plugin, r.seq);
        return r;
      },
      command: (c) => ami.command(c),
    });
    const ctxFor = (name: string): PluginContext => ({
      name,
      router: this.http.router(name),
      ami: portFor(name),
      store: this.store,
      accounts: this.accounts,
      sessions: this.tokens,
      bus: this.bus,
      log: this.log.child(name),
      config: this.config,
      configFiles: this.configFiles,
      configOptions: this.configOptions,
      profile: this.profile,
      request: async (req, as) => (as ? this.http.fetchAs(req, as) : this.http.fetch(req)),
      authenticates: (token) => this.authPort().resolve(token) !== undefined,
      brokerLink: {
        report: (read) => {
          this.brokerLink = read;
        },
      },
      asyncApi: { broker: (doc) => void this.brokerDocs.push(doc) },
    });
    const defs = this.config.plugins.map((n) => {
      const def = BUILTIN_PLUGINS.find((p) => p.name === n);
      if (!def) throw new Error(`unknown plugin ${n}`);
      return def;
    });
    for (const d of defs) {
      for (const need of d.requires ?? []) {
        if (!this.config.plugins.includes(need)) {
          throw new ConfigFileError('plugins', `plugin ${d.name} needs plugin ${need}: enable both, or neither`);
        }
      }
    }
    await this.plugins.load(defs, ctxFor);
    this.events = defs.flatMap((d) => d.publishes ?? []);
    await registerDocsRoutes(this.http, {
      routes: () => this.http.routes,
      events: () => this.events,
      brokers: () => this.brokerDocs,
      plugins: () => this.plugins.names(),
    });
    this.http.seal();
    // Snapshot readers carry the access of the events they stand for (core.channel: like core.channel.*).
    this.snapshotReaders = this.plugins.snapshotReaders().map((r) => {
      const e = this.events.find((x) => x.type.startsWith(`${r.key}.`));
      if (!e) throw new Error(`plugin ${r.plugin}: snapshot ${r.key} matches no event it publishes`);
      return { key: r.key, access: e.access, read: r.read };
    });
    // Each event's access names the GET route that shows the same object: it must be one of this gateway's routes.
    const gets = new Set(this.http.routes.filter((r) => r.route.method === 'GET').map((r) => r.route.path));
    for (const e of this.events) {
      if ('like' in e.access && !gets.has(e.access.like)) {
        throw new Error(`event ${e.type}: its access names GET ${e.access.like}, which no enabled plugin serves`);
      }
    }
    ami.ignoreEvents(ignorableEvents(this.plugins.handledEvents()));

    const metrics = this.metrics;
    if (metrics) {
      metrics.readFrom({
        amiConnected: () => ami.connected,
        websocket: () => this.ws.stats(),
        brokerLink: () => this.brokerLink?.() ?? null,
      });
      ami.onEvent((m: AmiMessage) => metrics.amiEvent(m.fields.Event));
      let logins = 0;
      ami.onConnect(() => {
        if (logins++ > 0) metrics.amiReconnect();
      });
    }
    ami.onEvent((m: AmiMessage) => this.plugins.dispatch(m, ami.eventSeq));
    ami.onConnect(async () => {
      await this.readAsteriskInfo();
      await this.plugins.resyncAll('connect');
      // every socket starts over from the rebuilt state: no client keeps showing calls that ended while AMI was down
      this.ws.resyncAll('Asterisk (re)connected: the state was read again');
      await this.configFiles.flushPendingReloads();
    });
    ami.onDisconnect((reason: string) => {
      this.log.warn(`AMI disconnected: ${reason}`);
      this.asterisk = { version: null, startedAt: null, reloadedAt: null };
      this.plugins.disconnected();
    });
  }

  private async readAsteriskInfo(): Promise<void> {
    try {
      const [settings, status] = await Promise.all([this.ami.action('CoreSettings'), this.ami.action('CoreStatus')]);
      this.asterisk = {
        version: settings.fields.AsteriskVersion ?? null,
        startedAt: localDate(status.fields.CoreStartupDate, status.fields.CoreStartupTime),
        reloadedAt: localDate(status.fields.CoreReloadDate, status.fields.CoreReloadTime),
      };
    } catch (e) {
      this.log.warn(`could not read Asterisk version: ${(e as Error).message}`);
    }
  }

  status() {
    const now = Date.now();
    const a = this.asterisk;
    return {
      gateway: { runtime, uptime_s: Math.round((now - this.startedAt.getTime()) / 1000) },
      ami: {
        connected: this.ami.connected,
        host: this.config.ami.host,
        port: this.config.ami.port,
        ami_version: this.ami.connected ? (this.ami.amiVersion ?? null) : null,
      },
      asterisk: {
        version: a.version,
        uptime_s: a.startedAt ? Math.max(0, Math.round((now - a.startedAt.getTime()) / 1000)) : null,
        startup: a.startedAt?.toISOString() ?? null,
        last_reload: a.reloadedAt?.toISOString() ?? null,
      },
      plugins: this.plugins.status(),
      nats: this.brokerLink?.() ?? null,
      config: { unapplied: this.configFiles.unappliedFiles() },
      websocket: this.ws.stats(),
    };
  }

  /** Connect to AMI (in the background, with reconnects) and serve HTTP. */
  async start(): Promise<RunningServer> {
    const stale = await this.configFiles.store.removeStaleTemps();
    if (stale.length > 0) this.log.warn(`removed ${stale.length} temp file(s) of an interrupted config write: ${stale.join(', ')}`);
    this.ami.start();
    this.server = await serve(this.http.fetch, this.config.http.host, this.config.http.port, this.config.http.tls);
    await this.startMetrics();
    this.log.info(
      `listening on ${this.server.scheme}://${this.config.http.host}:${this.server.port} (${runtime}); plugins: ${this.plugins.names().join(', ') || '(none)'}`,
    );
    return this.server;
  }

  /** SIGHUP: read the TLS certificate files again; open connections keep theirs. Throws (and keeps the old) if bad. */
  async reloadTls(): Promise<void> {
    await this.server?.reloadTls();
  }

  /** The /metrics listener, on its own port (gateway.yaml metrics:). */
  private async startMetrics(): Promise<void> {
    const m = this.config.metrics;
    if (!this.metrics) return;
    try {
      this.metricsListener = await serveMetrics(this.metrics, {
        host: m.host,
        port: m.port,
        token: m.token,
        onError: (e) => this.log.error('could not collect the metrics:', e),
      });
    } catch (e) {
      await this.server?.close(); // no gateway half started: the API port is let go too
      throw new Error(`metrics listener on ${m.host}:${m.port}: ${(e as Error).message}`);
    }
    this.log.info(`metrics at http://${m.host}:${this.metricsListener.port}/metrics${m.token ? ' (bearer token required)' : ''}`);
  }

  /** The port the /metrics listener got (metrics.port 0 picks a free one), or null when it is off. */
  get metricsPort(): number | null {
    return this.metricsListener?.port ?? null;
  }

  /**
   * A graceful stop: no new connections or requests (503 `stopping`), WebSockets closed with 1001, requests under
   * way (a config write and its reload, a store write) get http.shutdown_timeout_s to finish; then the rest is cut,
   * plugins let go of their calls, and the store and audit log are flushed.
   */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    server?.stopAccepting();
    this.ws.close();
    const boundMs = this.config.http.shutdown_timeout_s * 1000;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const drained = await Promise.race([
      this.http.drain().then(() => true),
      new Promise<false>((r) => {
        timer = setTimeout(() => r(false), boundMs);
      }),
    ]);
    clearTimeout(timer);
    if (!drained) this.log.warn(`stopping: ${this.http.requestsInFlight} request(s) still under way after ${boundMs / 1000} s are cut`);
    await server?.close();
    await this.metricsListener?.close();
    // Plugins close while AMI is still up, so they can let go of calls they drive (async AGI) cleanly.
    await this.plugins.close();
    await this.ami.stop();
    await this.store.flush();
    await this.audit.flush();
  }
}
