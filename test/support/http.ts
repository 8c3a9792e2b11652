// Small helpers for calling the gateway in tests: in-process through fetch, or over a real socket. Every answer is
// checked against the gateway's own OpenAPI document (test/support/contract.ts): a test that gets an answer the
// document does not describe fails.
import { checkerFor, type ContractChecker } from './contract.ts';
import { noteFields, noteRequestSecrets } from './secrets.ts';
export interface Answer {
  status: number;
  body: { api_ver: string; statuscode: number; timestamp: string; result?: any };
  text: string;
  headers: Headers;
}

export type Fetch = (req: Request) => Response | Promise<Response>;

let instance = 0;
/** The latest client's checker per base URL, for getWithBody (a base may be reused by a later gateway). */
const latest = new Map<string, () => Promise<ContractChecker | null>>();

export function client(fetch: Fetch, base = 'http://gw.test') {
  let token: string | undefined;
  // In-process apps share the base 'http://gw.test', so each client keys its own document.
  const key = `${base}#${++instance}`;
  const contract = (): Promise<ContractChecker | null> => checkerFor(key, async () => fetch(new Request(`${base}/v1/openapi.json`)));
  latest.set(base, contract);
  async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
    const h: Record<string, string> = { ...headers };
    if (token && !h.authorization) h.authorization = `Bearer ${token}`;
    let payload: string | undefined;
    if (body !== undefined) {
      payload = typeof body === 'string' ? body : JSON.stringify(body);
      h['content-type'] ??= 'application/json';
    }
    noteRequestSecrets(h, body);
    const res = await fetch(new Request(base + path, { method, headers: h, body: payload }));
    const text = await res.text();
    (await contract())?.check(method, base + path, res.status, res.headers.get('content-type'), text);
    let parsed: Answer['body'];
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new Error(`${method} ${path}: answer is not JSON (${res.status}): ${text.slice(0, 200)}`);
    }
    noteFields(parsed.result);
    return { status: res.status, body: parsed, text, headers: res.headers };
  }
  return {
    call,
    get: (p: string, h?: Record<string, string>) => call('GET', p, undefined, h),
    post: (p: string, b?: unknown, h?: Record<string, string>) => call('POST', p, b, h),
    put: (p: string, b?: unknown, h?: Record<string, string>) => call('PUT', p, b, h),
    patch: (p: string, b?: unknown, h?: Record<string, string>) => call('PATCH', p, b, h),
    del: (p: string, b?: unknown, h?: Record<string, string>) => call('DELETE', p, b, h),
    async login(username: string, password: string, scope = 'admin'): Promise<string> {
      const a = await call('POST', `/v1/${scope}/login`, undefined, {
        authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`,
      });
      if (a.status !== 200) throw new Error(`login failed: ${a.text}`);
      token = a.body.result.authtoken;
      return token!;
    },
    setToken(t: string | undefined) {
      token = t;
    },
    get token() {
      return token;
    },
    /** The contract checker of this gateway (null for a bare app without a document). */
    contract,
  };
}

/** Retry `fn` until it returns a truthy value or `ms` pass; returns the last value. For AMI events that come later. */
export async function eventually<T>(fn: () => Promise<T> | T, ms = 10000, what = 'condition'): Promise<T> {
  const end = Date.now() + ms;
  let last: T;
  let lastErr: unknown;
  do {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      lastErr = e;
    }
    await new Promise((r) => setTimeout(r, 100));
  } while (Date.now() < end);
  throw new Error(`timed out after ${ms} ms waiting for ${what}${lastErr ? `: ${(lastErr as Error).message}` : ''}`);
}

/** GET with a JSON body, as the spec's detail routes do (curl -X GET -d ...). fetch() refuses that, node:http does not. */
export async function getWithBody(base: string, path: string, body: unknown, token?: string): Promise<Answer> {
  const http = await import('node:http');
  const url = new URL(base + path);
  const payload = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method: 'GET',
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(payload),
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const headers = new Headers();
          for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') headers.set(k, v);
          (latest.get(base)?.() ?? checkerFor(`${base}#get`, () => fetch(`${base}/v1/openapi.json`)))
            .then((checker) => {
              checker?.check('GET', base + path, res.statusCode ?? 0, headers.get('content-type'), text);
              resolve({ status: res.statusCode ?? 0, body: JSON.parse(text), text, headers });
            })
            .catch(reject);
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}
