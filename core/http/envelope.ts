// The spec's response envelope, used by every answer, errors included: {"api_ver","statuscode","timestamp","result"}.
import { isoNow } from '../live/clock.ts';

export const API_VERSION = '0.1';

/** Build the envelope JSON text. `result` is left out when undefined, as the spec does for plain acknowledgements. */
export function envelopeText(status: number, result?: unknown): string {
  const ts = new Date().toISOString();
  if (result === undefined) return `{"api_ver":"${API_VERSION}","statuscode":${status},"timestamp":"${ts}"}`;
  return `{"api_ver":"${API_VERSION}","statuscode":${status},"timestamp":"${ts}","result":${JSON.stringify(result)}}`;
}

/**
 * Same envelope around a result that is already JSON text. Live state caches its serialised list per state version,
 * so a poll costs one string concatenation instead of a JSON.stringify of a thousand objects.
 */
export function envelopeRaw(status: number, resultJson: string): string {
  return `{"api_ver":"${API_VERSION}","statuscode":${status},"timestamp":"${new Date().toISOString()}","result":${resultJson}}`;
}

/**
 * JSON text of `value` where each of `realFields` is written with a decimal point even when whole (2 -> 2.0), as the
 * spec's `<real>` type wants. Only top-level-or-nested keys with exactly these names and a whole number are touched.
 */
export function realJson(value: unknown, realFields: readonly string[]): string {
  let text = JSON.stringify(value);
  for (const f of realFields) {
    text = text.replace(new RegExp(`("${f}":)(-?\\d+)(?=[,}])`, 'g'), '$1$2.0');
  }
  return text;
}

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8' };

export function jsonResponse(body: string, status: number, extraHeaders?: Record<string, string>): Response {
  return new Response(body, { status, headers: extraHeaders ? { ...JSON_HEADERS, ...extraHeaders } : JSON_HEADERS });
}

export function ok(result?: unknown, status = 200, headers?: Record<string, string>): Response {
  return jsonResponse(envelopeText(status, result), status, headers);
}

export function okRaw(resultJson: string, headers?: Record<string, string>): Response {
  return jsonResponse(envelopeRaw(200, resultJson), 200, headers);
}

const BYTES_TAIL = Buffer.from('}');

/**
 * The envelope around a result already encoded as UTF-8 JSON bytes (cached per state version by LiveTable). The
 * answer keeps its three parts: on Node the HTTP app writes them to the socket as they are (no copy of a list that
 * may be half a megabyte on every poll); elsewhere (Bun's fetch, in-process tests) `toResponse()` joins them.
 */
export class BytesAnswer {
  constructor(readonly parts: readonly Buffer[]) {}
  get length(): number {
    let n = 0;
    for (const p of this.parts) n += p.length;
    return n;
  }
  toResponse(): Response {
    return new Response(Buffer.concat(this.parts as Buffer[]), { status: 200, headers: JSON_HEADERS });
  }
}

/** `result`: the JSON bytes, or their parts in order (LiveTable.listBytes). */
export function okBytes(result: Buffer | readonly Buffer[]): BytesAnswer {
  const head = Buffer.from(`{"api_ver":"${API_VERSION}","statuscode":200,"timestamp":"${isoNow()}","result":`);
  return new BytesAnswer(Buffer.isBuffer(result) ? [head, result, BYTES_TAIL] : [head, ...result, BYTES_TAIL]);
}
