// One catalogue of failures a request can meet. Each becomes an envelope whose statuscode is the HTTP status,
// whose result.message says what was wrong, and whose result.code is a stable machine-readable name (the README's
// table lists every code).
export const ERROR_CODES = {
  malformed_json: 'the body is not JSON (or is empty where a JSON object is required)',
  invalid_field: 'a field (body, query or path) has the wrong type or value; result.field names it',
  unknown_field: 'the body has a field the route does not know; result.field names it',
  unknown_option:
    'a config option Asterisk does not list for that object (pjsip.conf, res_parking.conf, queues.conf); result.option names it, result.suggestion the closest valid name',
  bad_request: 'the request cannot be carried out as sent (the message says why)',
  unauthorized: 'no token, or a wrong or expired one; log in again',
  forbidden: 'the token is valid but the user lacks the permission the route needs',
  not_found: 'no such route, or no such object',
  method_not_allowed: 'the path exists but not with this method; the Allow header lists the methods',
  conflict: 'the object already exists, or the change clashes with its current state',
  precondition_failed: 'If-Match did not match the current ETag: someone else changed it first',
  payload_too_large: 'the body is larger than http.body_limit_bytes',
  too_many_requests: 'too many failed logins for this username or address: wait Retry-After seconds',
  asterisk_refused: 'Asterisk answered the AMI action with an error (its message is quoted)',
  ami_unavailable: 'Asterisk is not connected (AMI down)',
  not_ready: 'the plugin is still reading its state from Asterisk, or could not; try again shortly',
  stopping: 'the gateway is stopping (SIGTERM): requests under way finish, new ones are refused; retry after it restarts',
  asterisk_timeout: 'Asterisk did not answer the AMI action in time',
  reload_rejected:
    'Asterisk did not take a config write (its reload failed, or an object written is not listed after it): the previous file was put back and reloaded; result.errors says what was wrong',
  insufficient_storage: 'the disk (or quota) is full: nothing was changed; free some space and retry',
  internal: 'a bug in the gateway; the log has the details',
} as const;
export type ErrorCode = keyof typeof ERROR_CODES;

const CODE_BY_STATUS: Record<number, ErrorCode> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  409: 'conflict',
  412: 'precondition_failed',
  413: 'payload_too_large',
  422: 'reload_rejected',
  429: 'too_many_requests',
  502: 'asterisk_refused',
  503: 'ami_unavailable',
  504: 'asterisk_timeout',
  507: 'insufficient_storage',
};

export function codeForStatus(status: number): ErrorCode {
  return CODE_BY_STATUS[status] ?? (status >= 500 ? 'internal' : 'bad_request');
}

export class ApiError extends Error {
  readonly code: ErrorCode;
  constructor(
    public readonly status: number,
    message: string,
    public readonly extra?: Record<string, unknown>,
    code?: ErrorCode,
  ) {
    super(message);
    this.code = code ?? codeForStatus(status);
  }
}

export const badRequest = (msg: string, extra?: Record<string, unknown>) =>
  new ApiError(400, msg, extra, extra && 'field' in extra ? 'invalid_field' : 'bad_request');
export const invalidField = (field: string, msg: string) => new ApiError(400, `${field}: ${msg}`, { field }, 'invalid_field');
export const malformedJson = (msg: string) => new ApiError(400, msg, undefined, 'malformed_json');
export const unauthorized = (msg = 'authentication required: log in and pass ?authtoken= or Authorization: Bearer') =>
  new ApiError(401, msg);
export const forbidden = (msg: string) => new ApiError(403, msg);
export const notFound = (msg: string) => new ApiError(404, msg);
export const conflict = (msg: string, extra?: Record<string, unknown>) => new ApiError(409, msg, extra);
export const preconditionFailed = (msg: string) => new ApiError(412, msg);
export const payloadTooLarge = (limit: number) => new ApiError(413, `request body is larger than ${limit} bytes`);
export const amiUnavailable = () =>
  new ApiError(503, 'Asterisk is not connected (AMI down); live state is unavailable until it reconnects', undefined, 'ami_unavailable');
export const notReady = (msg: string) => new ApiError(503, msg, undefined, 'not_ready');
export const tooManyRequests = (retryAfterS: number) =>
  new ApiError(429, `too many failed logins: try again in ${retryAfterS} s`, { retry_after_s: retryAfterS }, 'too_many_requests');
export const badGateway = (msg: string) => new ApiError(502, msg);
