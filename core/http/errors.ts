// One catalogue of failures a request can meet. Each becomes an envelope whose statuscode is the HTTP status and
// whose result.message says what was wrong.
export class ApiError extends Error {
  constructor(public readonly status: number, message: string, public readonly extra?: Record<string, unknown>) {
    super(message);
  }
}

export const badRequest = (msg: string, extra?: Record<string, unknown>) => new ApiError(400, msg, extra);
export const unauthorized = (msg = 'authentication required: log in and pass ?authtoken= or Authorization: Bearer') =>
  new ApiError(401, msg);
export const forbidden = (msg: string) => new ApiError(403, msg);
export const notFound = (msg: string) => new ApiError(404, msg);
export const conflict = (msg: string, extra?: Record<string, unknown>) => new ApiError(409, msg, extra);
export const preconditionFailed = (msg: string) => new ApiError(412, msg);
export const payloadTooLarge = (limit: number) => new ApiError(413, `request body is larger than ${limit} bytes`);
export const amiUnavailable = () => new ApiError(503, 'Asterisk is not connected (AMI down); live state is unavailable until it reconnects');
export const badGateway = (msg: string) => new ApiError(502, msg);
