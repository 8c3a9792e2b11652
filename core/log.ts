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

export function createLogger(scope = 'gateway', level: Level = (process.env.LOG_LEVEL as Level) || 'info'): Logger {
  const min = Math.max(0, LEVELS.indexOf(level));
  const at = (l: Level, fn: (...a: unknown[]) => void) =>
    LEVELS.indexOf(l) >= min ? (...a: unknown[]) => fn(`${new Date().toISOString()} ${l} [${scope}]`, ...a) : () => {};
  return {
    debug: at('debug', console.debug),
    info: at('info', console.log),
    warn: at('warn', console.warn),
    error: at('error', console.error),
    child: (s: string) => createLogger(`${scope}:${s}`, level),
  };
}
