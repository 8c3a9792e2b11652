// A tiny leveled logger; each line says which part of the gateway speaks. Tests silence it with LOG_LEVEL=silent.
export interface Logger {
  debug(...a: unknown[]): void;
  info(...a: unknown[]): void;
  warn(...a: unknown[]): void;
  error(...a: unknown[]): void;
  child(scope: string): Logger;
}

const LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
type Level = (typeof LEVELS)[number];

/** Where lines go: the console, or a test's collector. */
export type Sink = Pick<Console, 'debug' | 'log' | 'warn' | 'error'>;

export function createLogger(scope = 'gateway', level: Level = (process.env.LOG_LEVEL as Level) || 'info', sink: Sink = console): Logger {
  const min = Math.max(0, LEVELS.indexOf(level));
  const at = (l: Level, fn: (...a: unknown[]) => void) =>
    LEVELS.indexOf(l) >= min ? (...a: unknown[]) => fn(`${new Date().toISOString()} ${l} [${scope}]`, ...a) : () => {};
  return {
    debug: at('debug', (...a) => sink.debug(...a)),
    info: at('info', (...a) => sink.log(...a)),
    warn: at('warn', (...a) => sink.warn(...a)),
    error: at('error', (...a) => sink.error(...a)),
    child: (s: string) => createLogger(`${scope}:${s}`, level, sink),
  };
}
