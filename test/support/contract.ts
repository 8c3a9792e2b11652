// The contract check every test request goes through (test/support/http.ts): the answer is validated against the
// schema that the gateway's own OpenAPI document gives for that operation and status. A field the code sends but
// the document lacks, a wrong type, or an undocumented status fails the test that made the request.
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020.js';

type Json = Record<string, any>;
interface Operation {
  method: string;
  template: string;
  exact: RegExp;
  loose: RegExp;
  responses: Record<string, Json>;
}

export class ContractChecker {
  private readonly ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: false });
  private readonly ops: Operation[] = [];
  private readonly compiled = new Map<Json, ValidateFunction>();
  /** How many answers were checked (a test can prove that checking happened). */
  checked = 0;

  constructor(readonly doc: Json) {
    this.ajv.addSchema({ $id: 'gw', components: doc.components }, 'gw');
    for (const [template, item] of Object.entries<Json>(doc.paths)) {
      const parts = template.split(/\{[^}]+\}/).map((p) => p.replace(/[.*+?^$()|[\]\\]/g, '\\$&'));
      const exact = new RegExp(`^${parts.join('[^/]+')}$`);
      const loose = new RegExp(`^${parts.join('.+')}$`);
      for (const [method, op] of Object.entries<Json>(item)) {
        this.ops.push({ method: method.toUpperCase(), template, exact, loose, responses: op.responses });
      }
    }
  }

  /** The documented operations for a path (legacy paths without /v1 map to their /v1 form). */
  private find(method: string, path: string): { op?: Operation; pathKnown: boolean } {
    const p = path.startsWith('/v1/') ? path : `/v1${path}`;
    const m = method === 'HEAD' ? 'GET' : method;
    const literal = (o: Operation) => !o.template.includes('{');
    for (const test of [
      (o: Operation) => literal(o) && o.template === p,
      (o: Operation) => o.exact.test(p),
      (o: Operation) => o.loose.test(p),
    ]) {
      const matching = this.ops.filter(test);
      if (matching.length) return { op: matching.find((o) => o.method === m), pathKnown: true };
    }
    return { pathKnown: false };
  }

  private validator(schema: Json): ValidateFunction {
    let v = this.compiled.get(schema);
    if (!v) {
      const rewritten = JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"gw#/components/'));
      v = this.ajv.compile(rewritten);
      this.compiled.set(schema, v);
    }
    return v;
  }

  /** Throws when the answer does not match the document. */
  check(method: string, url: string, status: number, contentType: string | null, text: string): void {
    const path = new URL(url, 'http://x').pathname;
    if (path === '/v1/ws' || path === '/ws') return;
    const { op, pathKnown } = this.find(method, path);
    let schema: Json | undefined;
    let isJson = true;
    if (op) {
      const r = op.responses[String(status)];
      if (!r)
        throw new Error(
          `contract: ${method} ${path} answered ${status}, a status its operation (${op.template}) does not document: ${text.slice(0, 300)}`,
        );
      const [type, media] = Object.entries<Json>(r.content ?? {})[0] ?? [];
      isJson = type === 'application/json';
      if (isJson && !contentType?.startsWith('application/json')) {
        throw new Error(`contract: ${method} ${path} ${status}: content-type ${contentType}, documented ${type}`);
      }
      schema = media?.schema;
    } else {
      // No operation: an unknown path is 404, a known path with another method 405, each in the error envelope.
      const want = pathKnown ? 405 : 404;
      if (status !== want)
        throw new Error(`contract: ${method} ${path} has no documented operation, but answered ${status} (expected ${want})`);
      schema = { $ref: `#/components/schemas/Error${want}` };
    }
    this.checked++;
    if (!isJson || !schema) return;
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new Error(`contract: ${method} ${path} ${status}: answer is not JSON: ${text.slice(0, 200)}`);
    }
    const validate = this.validator(schema);
    if (!validate(body)) {
      const e = validate.errors?.[0];
      throw new Error(
        `contract: ${method} ${path} ${status}: answer does not match the documented schema: ${e?.instancePath || '(root)'} ${e?.message}` +
          `${e?.params ? ` ${JSON.stringify(e.params)}` : ''}\n  answer: ${text.slice(0, 600)}`,
      );
    }
  }
}

const checkers = new Map<string, Promise<ContractChecker | null>>();

/**
 * The checker for a gateway, from its own /v1/openapi.json. null when the app under test serves no document (a unit
 * test's bare HttpApp); every gateway built by Gateway.create serves one.
 */
export function checkerFor(key: string, load: () => Promise<Response>): Promise<ContractChecker | null> {
  let c = checkers.get(key);
  if (!c) {
    c = load().then(async (res) => (res.status === 200 ? new ContractChecker((await res.json()) as Json) : null));
    checkers.set(key, c);
  }
  return c;
}
