/**
 * The one error type of config-store. `status` is the HTTP status the gateway answers with
 * (core/http maps any Error that carries a numeric `status`).
 */
export type ConfigErrorStatus = 400 | 404 | 409 | 412;

export interface ConfigProblem {
  /** 1-based physical line number. */
  line: number;
  severity: 'error' | 'warning';
  message: string;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    public readonly status: ConfigErrorStatus,
    message: string,
    /** Every problem found, when the error comes from whole-file validation. */
    public readonly problems?: ConfigProblem[],
  ) {
    super(message);
  }
}

export const badConfig = (message: string, problems?: ConfigProblem[]) => new ConfigError(400, message, problems);
export const configNotFound = (message: string) => new ConfigError(404, message);
export const configConflict = (message: string) => new ConfigError(409, message);
export const configPrecondition = (message: string) => new ConfigError(412, message);
