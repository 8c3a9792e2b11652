// gateway.yaml: load, substitute ${VAR}, validate. A bad file stops start-up with one clear line naming the key,
// so nothing ever starts half-configured.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';

export interface GatewayConfig {
  http: { host: string; port: number; body_limit_bytes: number };
  ami: { host: string; port: number; username: string; secret: string; reconnect_max_ms: number };
  asterisk: { config_dir: string; modules_dir?: string };
  data_dir: string;
  backups: { retention: number };
  auth: { token_ttl_s: number; bootstrap_admin: { username: string; password: string } | null };
  plugins: string[];
  /** where the file was read from, for relative paths */
  file: string;
}

export class ConfigFileError extends Error {
  constructor(public readonly key: string, detail: string) {
    super(`gateway.yaml: ${key}: ${detail}`);
  }
}

type Raw = Record<string, unknown>;

/** `${NAME}` is replaced by the environment variable NAME; an unset variable is an error, not an empty string. */
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
    for (const [k, v] of Object.entries(value)) out[k] = substituteEnv(v, key ? `${key}.${k}` : k, env);
    return out;
  }
  return value;
}

function section(raw: Raw, key: string): Raw {
  const v = raw[key];
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw new ConfigFileError(key, 'must be a mapping');
  return v as Raw;
}

function str(obj: Raw, key: string, full: string, def?: string): string {
  const v = obj[key];
  if (v === undefined || v === null || v === '') {
    if (def !== undefined) return def;
    throw new ConfigFileError(full, 'is required');
  }
  if (typeof v === 'number') return String(v);
  if (typeof v !== 'string') throw new ConfigFileError(full, 'must be a string');
  return v;
}

function int(obj: Raw, key: string, full: string, def: number, min: number, max: number): number {
  const v = obj[key];
  if (v === undefined || v === null) return def;
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    throw new ConfigFileError(full, `must be an integer from ${min} to ${max}`);
  }
  return n;
}

const KNOWN_TOP = new Set(['http', 'ami', 'asterisk', 'data_dir', 'backups', 'auth', 'plugins']);

export function parseConfig(text: string, file: string, knownPlugins: readonly string[], env = process.env): GatewayConfig {
  let doc: unknown;
  try {
    doc = YAML.parse(text);
  } catch (e) {
    throw new ConfigFileError('(file)', `not valid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw new ConfigFileError('(file)', 'must be a YAML mapping');
  const raw = substituteEnv(doc, '', env) as Raw;
  for (const k of Object.keys(raw)) if (!KNOWN_TOP.has(k)) throw new ConfigFileError(k, 'unknown key');

  const base = path.dirname(path.resolve(file));
  const http = section(raw, 'http');
  const ami = section(raw, 'ami');
  const asterisk = section(raw, 'asterisk');
  const auth = section(raw, 'auth');
  const backups = section(raw, 'backups');
  const boot = section(auth, 'bootstrap_admin');

  const plugins = raw.plugins ?? [];
  if (!Array.isArray(plugins) || plugins.some((p) => typeof p !== 'string')) {
    throw new ConfigFileError('plugins', 'must be a list of plugin names');
  }
  for (const p of plugins as string[]) {
    if (!knownPlugins.includes(p)) throw new ConfigFileError('plugins', `unknown plugin "${p}" (known: ${knownPlugins.join(', ')})`);
  }

  const bootUser = boot.username === undefined ? undefined : str(boot, 'username', 'auth.bootstrap_admin.username');
  const bootPass = boot.password === undefined ? undefined : str(boot, 'password', 'auth.bootstrap_admin.password');
  if ((bootUser === undefined) !== (bootPass === undefined)) {
    throw new ConfigFileError('auth.bootstrap_admin', 'needs both username and password');
  }

  return {
    http: {
      host: str(http, 'host', 'http.host', '127.0.0.1'),
      port: int(http, 'port', 'http.port', 8081, 0, 65535),
      body_limit_bytes: int(http, 'body_limit_bytes', 'http.body_limit_bytes', 1024 * 1024, 1024, 256 * 1024 * 1024),
    },
    ami: {
      host: str(ami, 'host', 'ami.host', '127.0.0.1'),
      port: int(ami, 'port', 'ami.port', 5038, 1, 65535),
      username: str(ami, 'username', 'ami.username'),
      secret: str(ami, 'secret', 'ami.secret'),
      reconnect_max_ms: int(ami, 'reconnect_max_ms', 'ami.reconnect_max_ms', 10000, 100, 600000),
    },
    asterisk: {
      config_dir: path.resolve(base, str(asterisk, 'config_dir', 'asterisk.config_dir', '/etc/asterisk')),
      modules_dir: asterisk.modules_dir === undefined ? undefined : path.resolve(base, str(asterisk, 'modules_dir', 'asterisk.modules_dir')),
    },
    data_dir: path.resolve(base, str(raw, 'data_dir', 'data_dir', './data')),
    backups: { retention: int(backups, 'retention', 'backups.retention', 50, 1, 100000) },
    auth: {
      token_ttl_s: int(auth, 'token_ttl_s', 'auth.token_ttl_s', 3600, 1, 10 * 365 * 86400),
      bootstrap_admin: bootUser !== undefined ? { username: bootUser, password: bootPass! } : null,
    },
    plugins: [...new Set(plugins as string[])],
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
