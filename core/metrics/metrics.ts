// The gateway's Prometheus metrics: one prom-client Registry per Gateway (never the global one, so several gateways in
// one process do not share counters), the metric objects, and the small methods the rest of core calls.
//
// Metrics carry no user data: HTTP requests are labelled with the declared route template (`/admin/core/channels/
// {unique_id}`), never the path asked for; no usernames, channel names or ids. Every label has a bounded set of
// values: route templates and methods come from the code, AMI event and action names from Asterisk and the code (and
// past LABEL_CAP distinct names, further ones share the label `other`), files are the few config files plugins edit.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Latency buckets in seconds: from a cached GET (sub-millisecond) to a reload Asterisk takes its time over. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** The label of a request that matched no declared route (404, 405): one label, whatever the path. */
export const UNMATCHED = 'unmatched';

/** Most distinct values one open-ended label (AMI event and action names) takes; the rest are counted as `other`. */
const LABEL_CAP = 500;

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

export type AmiActionOutcome = 'success' | 'error' | 'timeout' | 'disconnected';
export type ConfigWriteOutcome = 'written' | 'unchanged' | 'refused' | 'failed';
export type ReloadOutcomeLabel = 'done' | 'failed' | 'pending' | 'none' | 'timeout';

/** What the metrics read when scraped (the gauges that are state, not events). */
export interface MetricsSources {
  amiConnected(): boolean;
  websocket(): { connected: number; dropped_slow: number; dropped_dead: number };
  /** The nats plugin's broker link, null when it is off (its metrics then stay at 0). */
  brokerLink?(): { connected: boolean; buffered: number; dropped: number; published: number } | null;
}

/** A set of label values that stops growing at LABEL_CAP. */
class BoundedLabel {
  private readonly seen = new Set<string>();
  of(value: string): string {
    if (this.seen.has(value)) return value;
    if (this.seen.size >= LABEL_CAP) return 'other';
    this.seen.add(value);
    return value;
  }
}

export class Metrics {
  readonly registry = new Registry();
  private sources: MetricsSources | undefined;
  private readonly eventNames = new BoundedLabel();
  private readonly actionNames = new BoundedLabel();

  private readonly httpRequests = new Counter({
    name: 'asterisk_gateway_http_requests_total',
    help: 'HTTP requests answered, by route template (unmatched: no declared route), method and status',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [this.registry],
  });
  private readonly httpDuration = new Histogram({
    name: 'asterisk_gateway_http_request_duration_seconds',
    help: 'Time from a request reaching its route to its answer, by route template and method',
    labelNames: ['route', 'method'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  private readonly amiEvents = new Counter({
    name: 'asterisk_gateway_ami_events_total',
    help: 'AMI events handed to the plugins, by Event name (events no plugin handles are dropped unparsed and not counted)',
    labelNames: ['event'] as const,
    registers: [this.registry],
  });
  private readonly amiReconnects = new Counter({
    name: 'asterisk_gateway_ami_reconnects_total',
    help: 'AMI logins after the first one (each is a reconnect after the link was lost)',
    registers: [this.registry],
  });
  private readonly amiActionDuration = new Histogram({
    name: 'asterisk_gateway_ami_action_duration_seconds',
    help: 'Time from sending an AMI action to its answer (or its timeout, or the link dropping), by action and outcome',
    labelNames: ['action', 'outcome'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  private readonly configWrites = new Counter({
    name: 'asterisk_gateway_config_writes_total',
    help: 'Writes of Asterisk config files: written, unchanged (nothing to write), refused (400/404/409/412), failed',
    labelNames: ['file', 'outcome'] as const,
    registers: [this.registry],
  });
  private readonly configReloads = new Counter({
    name: 'asterisk_gateway_config_reloads_total',
    help: 'Reloads after a config file write: done, failed (Asterisk refused), pending (AMI down), none, timeout',
    labelNames: ['file', 'outcome'] as const,
    registers: [this.registry],
  });
  private readonly storeWriteDuration = new Histogram({
    name: 'asterisk_gateway_store_write_duration_seconds',
    help: "Time to write the gateway's own store (data_dir/gateway.json), by outcome (ok, failed)",
    labelNames: ['outcome'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  constructor(opts: { processMetrics?: boolean } = {}) {
    const self = this;
    new Gauge({
      name: 'asterisk_gateway_ami_connected',
      help: '1 while the gateway is logged in to AMI, else 0',
      registers: [this.registry],
      collect() {
        this.set(self.sources?.amiConnected() ? 1 : 0);
      },
    });
    new Gauge({
      name: 'asterisk_gateway_websocket_connections',
      help: 'Open WebSocket connections on /v1/ws',
      registers: [this.registry],
      collect() {
        this.set(self.sources?.websocket().connected ?? 0);
      },
    });
    new Counter({
      name: 'asterisk_gateway_websocket_dropped_total',
      help: 'WebSocket connections dropped by the gateway: slow (1013, too much unsent data), dead (no answer to a ping)',
      labelNames: ['reason'] as const,
      registers: [this.registry],
      collect() {
        const ws = self.sources?.websocket();
        this.reset();
        this.inc({ reason: 'slow' }, ws?.dropped_slow ?? 0);
        this.inc({ reason: 'dead' }, ws?.dropped_dead ?? 0);
      },
    });
    new Gauge({
      name: 'asterisk_gateway_nats_connected',
      help: '1 while the nats plugin is linked to a NATS server, else 0 (also 0 when the plugin is off)',
      registers: [this.registry],
      collect() {
        this.set(self.sources?.brokerLink?.()?.connected ? 1 : 0);
      },
    });
    new Gauge({
      name: 'asterisk_gateway_nats_buffered_events',
      help: 'Events waiting for the NATS broker (bounded by nats.buffer_max_events)',
      registers: [this.registry],
      collect() {
        this.set(self.sources?.brokerLink?.()?.buffered ?? 0);
      },
    });
    new Counter({
      name: 'asterisk_gateway_nats_events_total',
      help: 'Events the nats plugin handled: published (JetStream acknowledged them), dropped (did not fit in the buffer)',
      labelNames: ['outcome'] as const,
      registers: [this.registry],
      collect() {
        const l = self.sources?.brokerLink?.();
        this.reset();
        this.inc({ outcome: 'published' }, l?.published ?? 0);
        this.inc({ outcome: 'dropped' }, l?.dropped ?? 0);
      },
    });
    // Process metrics (CPU, memory, file descriptors, event loop lag, GC). All of prom-client's default collectors
    // run under Bun too; some values there are approximations (Bun has no V8 heap spaces or GC performance entries).
    if (opts.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  /** What the scrape-time gauges read; set once the gateway's parts exist. */
  readFrom(sources: MetricsSources): void {
    this.sources = sources;
  }

  /** One answered HTTP request. `route` is the declared template (or UNMATCHED), never the path asked for. */
  httpRequest(route: string, method: string, status: number, seconds: number): void {
    const m = METHODS.has(method) ? method : 'other';
    this.httpRequests.inc({ route, method: m, status: String(status) });
    this.httpDuration.observe({ route, method: m }, seconds);
  }

  amiEvent(name: string | undefined): void {
    this.amiEvents.inc({ event: this.eventNames.of(name ?? '') });
  }

  amiReconnect(): void {
    this.amiReconnects.inc();
  }

  amiAction(name: string, outcome: AmiActionOutcome, seconds: number): void {
    this.amiActionDuration.observe({ action: this.actionNames.of(name), outcome }, seconds);
  }

  configWrite(file: string, outcome: ConfigWriteOutcome): void {
    this.configWrites.inc({ file, outcome });
  }

  configReload(file: string, outcome: ReloadOutcomeLabel): void {
    this.configReloads.inc({ file, outcome });
  }

  storeWrite(ok: boolean, seconds: number): void {
    this.storeWriteDuration.observe({ outcome: ok ? 'ok' : 'failed' }, seconds);
  }

  /** The exposition text and its content type. */
  async expose(): Promise<{ text: string; contentType: string }> {
    return { text: await this.registry.metrics(), contentType: this.registry.contentType };
  }
}
