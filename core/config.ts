// gateway.yaml: load, substitute ${VAR}, check against its schema. The schema below is the one description of the
// file: every key at every depth, its default and its range; GatewayConfig is derived from it. A bad file stops
// start-up with one clear line naming the key (`gateway.yaml: http.ssl: unknown key`), so nothing ever starts
// half-configured.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { fieldOf } from './contract/validate.ts';
import { v, type Out } from './contract/schema.ts';
import { ROLES } from './auth/accounts.ts';
import { LEVELS } from './log.ts';
import { RESET_AT } from './live/windows.ts';

export class ConfigFileError extends Error {
  constructor(
    public readonly key: string,
    detail: string,
  ) {
    super(`gateway.yaml: ${key}: ${detail}`);
  }
}

// ---- the schema. A key left out, or given as null or '', takes its default (or is required when it has none). ----

const isMapping = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/** A mapping that refuses unknown keys (a typo must not be ignored). */
const mapping = <E extends v.ObjectEntries>(entries: E, description: string) =>
  v.pipe(
    v.custom<Record<string, unknown>>(isMapping, 'must be a mapping'),
    v.strictObject(entries, 'must be a mapping'),
    v.description(description),
  );

/** A one-line string; a YAML number is taken as its digits (secret: 1234). */
const str = (description: string) =>
  v.pipe(
    v.union([v.string(), v.pipe(v.number(), v.transform(String))], 'must be a string'),
    v.regex(/^[^\r\n\0]*$/, 'must not contain CR, LF or NUL characters'),
    v.description(description),
  );

/** An integer in a range, with a default; digits in a string count (port: ${HTTP_PORT}). */
const int = (def: number, min: number, max: number, description: string) => {
  const msg = `must be an integer from ${min} to ${max}`;
  return v.optional(
    v.pipe(
      v.union([v.number(msg), v.pipe(v.string(msg), v.regex(/^\d+$/, msg), v.transform(Number))], msg),
      v.integer(msg),
      v.minValue(min, msg),
      v.maxValue(max, msg),
      v.description(`${description} (${min} to ${max}; default ${def})`),
    ),
    def,
  );
};

/** true or false, with a default; the strings 'true' and 'false' count (enabled: ${METRICS_ENABLED}). */
const flag = (def: boolean, description: string) => {
  const msg = 'must be true or false';
  return v.optional(
    v.pipe(
      v.union(
        [
          v.boolean(msg),
          v.pipe(
            v.picklist(['true', 'false'], msg),
            v.transform((s) => s === 'true'),
          ),
        ],
        msg,
      ),
      v.description(`${description} (default ${def})`),
    ),
    def,
  );
};

/** File formats a recording may take (Asterisk's format modules the Debian package ships). */
export const RECORDING_FORMATS = ['wav', 'WAV', 'gsm', 'ulaw', 'alaw', 'sln', 'g722', 'wav16'] as const;

export const GatewayYamlSchema = mapping(
  {
    http: v.optional(
      mapping(
        {
          host: v.optional(str('listen address (default 127.0.0.1)'), '127.0.0.1'),
          port: int(8081, 0, 65535, 'listen port'),
          body_limit_bytes: int(1024 * 1024, 1024, 256 * 1024 * 1024, 'larger request bodies are answered 413'),
          shutdown_timeout_s: int(10, 1, 600, 'on SIGTERM, requests under way get this long to finish before sockets are cut'),
          tls: v.optional(
            mapping(
              {
                cert_file: str('PEM certificate chain (the server certificate first)'),
                key_file: str('PEM private key of that certificate'),
                client_ca_file: v.optional(str('PEM CA bundle: when set, clients must present a certificate it signed')),
              },
              'serve HTTPS and WSS instead of HTTP; the files are read again on SIGHUP; relative paths are relative to gateway.yaml',
            ),
          ),
        },
        'the REST API and WebSocket listener',
      ),
      {},
    ),
    ami: v.optional(
      mapping(
        {
          host: v.optional(str('Asterisk Manager Interface host (default 127.0.0.1)'), '127.0.0.1'),
          port: int(5038, 1, 65535, 'AMI port'),
          username: str('the [user] of manager.conf'),
          secret: str('its secret'),
          reconnect_max_ms: int(10000, 100, 600000, 'reconnect backoff cap'),
          keepalive_s: int(10, 0, 3600, 'a Ping after this many seconds without data from Asterisk; 0: none'),
          keepalive_timeout_s: int(5, 1, 600, 'a keepalive Ping unanswered this long drops the connection, which reconnects'),
        },
        'the Asterisk Manager Interface (manager.conf)',
      ),
      {},
    ),
    asterisk: v.optional(
      mapping(
        {
          config_dir: v.optional(str('where extensions.conf, pjsip.conf, queues.conf, res_parking.conf are edited'), '/etc/asterisk'),
          modules_dir: v.optional(str("Asterisk's modules (default: astmoddir from asterisk.conf)")),
          reload_timeout_s: int(
            30,
            1,
            600,
            'a config reload (and the check that Asterisk took it) unanswered this long is answered 504 asterisk_timeout',
          ),
          log_file: v.optional(
            str(
              "Asterisk's log file with its warnings and errors (logger.conf); a write Asterisk refuses is answered with the lines it logged meanwhile (a file that cannot be read gives none)",
            ),
            '/var/log/asterisk/messages.log',
          ),
        },
        "Asterisk's own files; relative paths are relative to gateway.yaml",
      ),
      {},
    ),
    recordings: v.optional(
      mapping(
        {
          dir: v.optional(
            str('the folder recordings started over REST are written to, as Asterisk sees it (default: its monitor folder)'),
            '/var/spool/asterisk/monitor',
          ),
          format: v.optional(
            v.pipe(
              v.picklist(RECORDING_FORMATS, `must be one of ${RECORDING_FORMATS.join(', ')}`),
              v.description(`the default file format of a recording: ${RECORDING_FORMATS.join(', ')} (default wav)`),
            ),
            'wav',
          ),
        },
        'recordings started with POST /admin/core/channels/<unique_id>/recording (MixMonitor); a client never names the path',
      ),
      {},
    ),
    log: v.optional(
      mapping(
        {
          level: v.optional(
            v.pipe(
              v.picklist(LEVELS, `must be one of ${LEVELS.join(', ')}`),
              v.description('debug, info, warn, error or silent (default info); the LOG_LEVEL environment variable wins'),
            ),
            'info',
          ),
        },
        'JSON lines on stdout (or appended to the file named by LOG_FILE)',
      ),
      {},
    ),
    data_dir: v.optional(str("the gateway's own store (gateway.json) and config backups (data/backups)"), './data'),
    backups: v.optional(mapping({ retention: int(50, 1, 100000, 'backups kept per config file') }, 'config file backups'), {}),
    audit: v.optional(
      mapping(
        {
          max_bytes: int(10 * 1024 * 1024, 1024, 1024 * 1024 * 1024, 'audit.jsonl is rotated past this size'),
          keep: int(5, 1, 1000, 'rotated audit files kept (audit.jsonl.1 ...)'),
        },
        'the audit log under data_dir/audit',
      ),
      {},
    ),
    websocket: v.optional(
      mapping(
        {
          replay_buffer_events: int(10000, 0, 1_000_000, 'events kept for ?resume= (a resume older than this gets gateway.resync)'),
          max_buffered_bytes: int(1024 * 1024, 1024, 256 * 1024 * 1024, 'a socket with more unsent data is closed with 1013 (too slow)'),
          max_lag_s: int(30, 1, 3600, 'a socket that has had unsent data for this long is closed with 1013 (too slow)'),
          heartbeat_s: int(30, 1, 3600, 'ping interval; a socket that did not answer the last ping is dropped'),
        },
        'the event stream at /v1/ws',
      ),
      {},
    ),
    auth: v.optional(
      mapping(
        {
          token_ttl_s: int(3600, 1, 10 * 365 * 86400, 'a token expires after this long without use'),
          throttle: v.optional(
            mapping(
              {
                free_failures: int(3, 0, 1000, 'failed logins (per username, and per address) answered without delay'),
                lock_after: int(6, 1, 1000, 'from this failure on: 429 with Retry-After, doubling up to max_lock_s'),
                max_lock_s: int(900, 1, 86400, 'the longest lock'),
              },
              'login throttling',
            ),
            {},
          ),
          bootstrap_admin: v.optional(
            v.pipe(
              mapping(
                { username: v.optional(str('the first admin user')), password: v.optional(str('its password')) },
                'created on first start, when the store has no user',
              ),
              v.check((b) => (b.username === undefined) === (b.password === undefined), 'needs both username and password'),
              v.transform((b) =>
                b.username !== undefined && b.password !== undefined ? { username: b.username, password: b.password } : null,
              ),
            ),
            {},
          ),
        },
        'logins',
      ),
      {},
    ),
    metrics: v.optional(
      mapping(
        {
          enabled: flag(false, 'serve the metrics'),
          host: v.optional(
            str('listen address of the /metrics listener (default 127.0.0.1); not loopback: token is required'),
            '127.0.0.1',
          ),
          port: int(9464, 0, 65535, 'its own port, never the API port'),
          token: v.optional(
            v.pipe(str('when set, a scrape needs Authorization: Bearer <token>'), v.minLength(16, 'must be at least 16 characters')),
          ),
        },
        'Prometheus metrics at GET /metrics on their own listener (off by default)',
      ),
      {},
    ),
    queue_stats: v.optional(
      mapping(
        {
          reset_at: v.optional(
            v.pipe(
              str('local time "HH:MM" when the since_reset figures start again each day (default 00:00)'),
              v.regex(RESET_AT, 'must be a time of day as HH:MM (00:00 to 23:59)'),
            ),
            '00:00',
          ),
          save_interval_s: int(60, 5, 3600, 'how often the per-call records behind the statistics are saved to the store'),
        },
        'queue statistics and calls taken by members and agents (rolling 15/60 min windows and since the daily reset)',
      ),
      {},
    ),
    nats: v.optional(
      mapping(
        {
          servers: v.optional(
            v.pipe(
              v.array(
                v.pipe(str('a server'), v.regex(/^(nats|tls):\/\/[^\s/]+$/, 'must be nats://host:port or tls://host:port')),
                'must be a list of nats://host:port',
              ),
              v.minLength(1, 'must name at least one server'),
              v.description('NATS servers (nats://host:port); default nats://127.0.0.1:4222'),
            ),
            ['nats://127.0.0.1:4222'],
          ),
          pbx_id: v.optional(
            v.pipe(
              str('this PBX in subject names (asterisk.<pbx_id>.<event type>); default the host name'),
              v.regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1 to 64 letters, digits, _ or - (a single NATS subject token)'),
            ),
          ),
          stream: v.optional(
            v.pipe(
              str('the JetStream stream (created, or its subjects extended, at connect)'),
              v.regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1 to 64 letters, digits, _ or -'),
            ),
            'ASTERISK',
          ),
          max_age_s: int(7 * 86400, 0, 10 * 365 * 86400, "the stream's retention: events older than this are removed (0: no limit)"),
          max_bytes: int(1024 * 1024 * 1024, -1, Number.MAX_SAFE_INTEGER, "the stream's retention in bytes (-1: no limit)"),
          user: v.optional(str('user name, with password')),
          password: v.optional(str('password, with user')),
          token: v.optional(str('an authentication token (instead of user/password)')),
          creds_file: v.optional(str('a NATS .creds file (JWT and NKey seed; instead of user/password or token)')),
          tls: flag(false, 'require TLS to the servers (the system CAs check their certificates)'),
          buffer_max_events: int(
            10000,
            1,
            10_000_000,
            'events held while the broker is unreachable; past this they are dropped, counted, and consumers get gateway.resync',
          ),
          publish_timeout_ms: int(
            5000,
            100,
            60000,
            'a JetStream publish not acknowledged within this is sent again (same message id: no duplicate)',
          ),
          fleet_keys: v.optional(
            v.pipe(
              v.array(
                mapping(
                  {
                    name: v.pipe(
                      str('what the key is for (shown in the request log as fleet-key:<name>)'),
                      v.regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be 1 to 64 letters, digits, _, . or -'),
                    ),
                    sha256: v.pipe(
                      str('the key\'s SHA-256, hex (printf %s "$KEY" | sha256sum): never the key itself'),
                      v.regex(/^[0-9A-Fa-f]{64}$/, 'must be the 64 hex digits of a SHA-256 (sha256sum), not the key'),
                      v.transform((h) => h.toLowerCase()),
                    ),
                    role: v.pipe(
                      v.picklist(ROLES, `must be one of ${ROLES.join(', ')}`),
                      v.description('the role a fleet request with this key is served with'),
                    ),
                  },
                  'one fleet key',
                ),
                'must be a list of {name, sha256, role}',
              ),
              v.check((ks) => new Set(ks.map((k) => k.name)).size === ks.length, 'names must be unique'),
              v.check((ks) => new Set(ks.map((k) => k.sha256)).size === ks.length, 'the same key is listed twice'),
              v.description(
                'fleet credentials: the SHA-256 of keys installed on every gateway; a fleet request (asterisk.*.api.<path>) whose authtoken is one is served with its role',
              ),
            ),
            [],
          ),
        },
        'the nats plugin: every event to JetStream (asterisk.<pbx_id>.<event type>) and fleet queries (asterisk.<pbx_id or *>.api.<path>)',
      ),
      {},
    ),
    plugins: v.optional(
      v.pipe(
        v.array(v.string('must be a plugin name'), 'must be a list of plugin names'),
        v.transform((ps) => [...new Set(ps)]),
        v.description("enabled plugins; a disabled plugin's routes answer 404"),
      ),
      [],
    ),
  },
  'gateway.yaml',
);

export type GatewayConfig = Out<typeof GatewayYamlSchema> & {
  /** where the file was read from, for relative paths */
  file: string;
};

// ---- reading ----

type Raw = Record<string, unknown>;

/**
 * `${NAME}` is replaced by the environment variable NAME; an unset variable is an error, not an empty string. A
 * mapping's value that is null or '' (after substitution) counts as left out: the key keeps its place, so an
 * unknown one is still named.
 */
function substituteEnv(value: unknown, key: string, env: NodeJS.ProcessEnv): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_m, name: string) => {
      const v = env[name];
      if (v === undefined) throw new ConfigFileError(key, `environment variable ${name} is not set`);
      return v;
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => substituteEnv(v, `${key}[${i}]`, env));
  if (value && typeof value === 'object') {
    const out: Raw = {};
    for (const [k, v] of Object.entries(value)) {
      const s = substituteEnv(v, key ? `${key}.${k}` : k, env);
      out[k] = s === null || s === '' ? undefined : s;
    }
    return out;
  }
  return value;
}

/** The problem to report: an unknown key first (a typo there is usually why something else is missing). */
function firstProblem(issues: readonly v.BaseIssue<unknown>[]): ConfigFileError {
  const unknown = issues.find((i) => (i.type === 'strict_object' || i.type === 'loose_object') && i.expected === 'never');
  const issue = unknown ?? issues[0]!;
  const key = fieldOf(issue) ?? '(file)';
  if (unknown) return new ConfigFileError(key, 'unknown key');
  if (issue.received === 'undefined') return new ConfigFileError(key, 'is required');
  return new ConfigFileError(key, issue.message);
}

/** 127.0.0.0/8, ::1 (also as an IPv4-mapped address) and localhost: reachable from this host only. */
export function isLoopback(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  return h === 'localhost' || h === '::1' || /^(::ffff:)?127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

export function parseConfig(text: string, file: string, knownPlugins: readonly string[], env = process.env): GatewayConfig {
  let doc: unknown;
  try {
    doc = YAML.parse(text);
  } catch (e) {
    throw new ConfigFileError('(file)', `not valid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  if (!isMapping(doc)) throw new ConfigFileError('(file)', 'must be a YAML mapping');
  const parsed = v.safeParse(GatewayYamlSchema, substituteEnv(doc, '', env));
  if (!parsed.success) throw firstProblem(parsed.issues);
  const c = parsed.output;
  for (const p of c.plugins) {
    if (!knownPlugins.includes(p)) throw new ConfigFileError('plugins', `unknown plugin "${p}" (known: ${knownPlugins.join(', ')})`);
  }
  const m = c.metrics;
  if (m.enabled && m.token === undefined && !isLoopback(m.host))
    throw new ConfigFileError('metrics.token', `is required when metrics.host (${m.host}) is not a loopback address`);
  if (m.enabled && m.port !== 0 && m.port === c.http.port)
    throw new ConfigFileError('metrics.port', `must not be the API port (${c.http.port}): the metrics have their own listener`);
  const n = c.nats;
  if ((n.user === undefined) !== (n.password === undefined)) throw new ConfigFileError('nats.user', 'needs both user and password');
  if ([n.user, n.token, n.creds_file].filter((x) => x !== undefined).length > 1)
    throw new ConfigFileError('nats', 'give one of user/password, token or creds_file');
  const base = path.dirname(path.resolve(file));
  const tls = c.http.tls;
  return {
    ...c,
    http: {
      ...c.http,
      tls: tls && {
        cert_file: path.resolve(base, tls.cert_file),
        key_file: path.resolve(base, tls.key_file),
        client_ca_file: tls.client_ca_file === undefined ? undefined : path.resolve(base, tls.client_ca_file),
      },
    },
    asterisk: {
      config_dir: path.resolve(base, c.asterisk.config_dir),
      modules_dir: c.asterisk.modules_dir === undefined ? undefined : path.resolve(base, c.asterisk.modules_dir),
      reload_timeout_s: c.asterisk.reload_timeout_s,
      log_file: path.resolve(base, c.asterisk.log_file),
    },
    nats: { ...n, creds_file: n.creds_file === undefined ? undefined : path.resolve(base, n.creds_file) },
    data_dir: path.resolve(base, c.data_dir),
    file: path.resolve(file),
  };
}

export function loadConfigFile(file: string, knownPlugins: readonly string[]): GatewayConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigFileError('(file)', `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return parseConfig(text, file, knownPlugins);
}
