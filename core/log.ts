// Structured JSON logs (pino): one JSON object per line on stdout, or appended to LOG_FILE. Each line says which part
// of the gateway speaks (`scope`); request lines carry req_id, user, route, status and duration (core/http/app.ts).
//
// Callers keep the simple form `log.warn('text', err)`: strings make `msg`, an Error becomes `err` (message and
// stack), a plain object adds its fields. The level comes from LOG_LEVEL, else gateway.yaml's `log.level`, else info.
//
// Secrets never reach a line: fields named like a secret (password, secret, token, authtoken, authorization, key)
// are redacted by pino, and values registered with addSecret (the AMI secret, the bootstrap password) are masked
// wherever they appear in a message. pino runs without its worker-thread transports: plain synchronous writes work
// the same on Node, Bun and inside the compiled binary.
import { pino, type DestinationStream, type Logger as Pino } from 'pino';

export interface Logger {
  debug(...a: unknown[]): void;
  info(...a: unknown[]): void;
  warn(...a: unknown[]): void;
  error(...a: unknown[]): void;
  child(scope: string): Logger;
  /** Mask this value wherever it appears in a message from now on (every logger of the same root). */
  addSecret(value: string): void;
  readonly level: Level;
}

export const LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
export type Level = (typeof LEVELS)[number];

/** Where lines go: anything with write(line). Tests collect lines with one. */
export type Sink = { write(line: string): void };

export function isLevel(x: unknown): x is Level {
  return typeof x === 'string' && (LEVELS as readonly string[]).includes(x);
}

/** The level from the environment (LOG_LEVEL), else the given one. */
export function levelFromEnv(fallback: Level = 'info', env = process.env): Level {
  const l = env.LOG_LEVEL?.trim().toLowerCase();
  return isLevel(l) ? l : fallback;
}

const REDACT = ['password', 'secret', 'token', 'authtoken', 'authorization', 'key', '*.password', '*.secret', '*.token', '*.authorization'];

function destination(sink?: Sink): DestinationStream {
  if (sink) return { write: (s: string) => sink.write(s) };
  const file = process.env.LOG_FILE;
  return pino.destination(file ? { dest: file, append: true, sync: true, mkdir: true } : { dest: 1, sync: true });
}

/** Turn `('text', err, {field})` into pino's (fields, msg). */
function shape(args: unknown[], mask: (s: string) => string): [Record<string, unknown>, string] {
  const fields: Record<string, unknown> = {};
  const words: string[] = [];
  for (const a of args) {
    if (a instanceof Error) {
      fields.error = { type: a.constructor.name, message: mask(a.message), stack: a.stack ? mask(a.stack) : undefined };
    } else if (a && typeof a === 'object' && !Array.isArray(a)) {
      Object.assign(fields, a);
    } else {
      words.push(typeof a === 'string' ? a : String(a));
    }
  }
  return [fields, mask(words.join(' '))];
}

function wrap(p: Pino, scope: string, secrets: Set<string>, level: Level): Logger {
  const mask = (s: string) => {
    for (const x of secrets) if (s.includes(x)) s = s.split(x).join('[redacted]');
    return s;
  };
  const at = (l: Exclude<Level, 'silent'>) =>
    p.isLevelEnabled(l)
      ? (...a: unknown[]) => {
          const [fields, msg] = shape(a, mask);
          p[l]({ scope, ...fields }, msg);
        }
      : () => {};
  return {
    level,
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (s: string) => wrap(p, `${scope}:${s}`, secrets, level),
    addSecret: (value: string) => {
      if (value.length >= 4) secrets.add(value); // masking "a" everywhere would garble every line
    },
  };
}

export function createLogger(scope = 'gateway', level: Level = levelFromEnv(), sink?: Sink): Logger {
  const p = pino(
    {
      level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACT, censor: '[redacted]' },
    },
    destination(sink),
  );
  return wrap(p, scope, new Set(), level);
}
