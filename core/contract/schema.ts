// The schema kit every route, event and gateway.yaml key is declared with (valibot; see docs/design/contract.md for
// why). Each builder carries the gateway's own error wording, so a refused field reads the same everywhere:
// "paused: must be a boolean (true or false)", "name: must not contain CR, LF or NUL characters".
// Strings are single-line by default because most values end up in an AMI header or a config line, where a line
// break is an injection; `text()` is the multi-line exception (whole config files).
import * as v from 'valibot';

export { v };
export type Schema = v.GenericSchema;
export type Out<S extends v.GenericSchema> = v.InferOutput<S>;

const SINGLE_LINE = /^[^\r\n\0]*$/;
const NO_NUL = /^[^\0]*$/;
export const LINE_MESSAGE = 'must not contain CR, LF or NUL characters';

/** A single-line string: CR, LF and NUL are refused. */
export const line = (description?: string) =>
  withDescription(v.pipe(v.string('must be a string'), v.regex(SINGLE_LINE, LINE_MESSAGE)), description);

/** A non-empty single-line string. */
export const name = (description?: string) =>
  withDescription(
    v.pipe(v.string('must be a string'), v.regex(SINGLE_LINE, LINE_MESSAGE), v.minLength(1, 'must not be empty')),
    description,
  );

/** A string that may span lines (whole config files); only NUL is refused. */
export const text = (description?: string) =>
  withDescription(v.pipe(v.string('must be a string'), v.regex(NO_NUL, 'must not contain NUL characters')), description);

export const int = (description?: string) =>
  withDescription(v.pipe(v.number('must be an integer'), v.integer('must be an integer')), description);
export const nonNegInt = (description?: string) =>
  withDescription(
    v.pipe(v.number('must be an integer'), v.integer('must be an integer'), v.minValue(0, 'must not be negative')),
    description,
  );
export const num = (description?: string) =>
  withDescription(v.pipe(v.number('must be a number'), v.finite('must be a number')), description);
export const bool = (description?: string) => withDescription(v.boolean('must be a boolean (true or false)'), description);
export const list = <S extends v.GenericSchema>(item: S, description?: string) =>
  withDescription(v.array(item, 'must be a JSON array'), description);

/**
 * A JSON object that refuses unknown fields: in a request a typo should not pass silently, and in an answer a field
 * the code sends but the contract lacks fails the contract tests (answers are checked in tests, not in production).
 */
export const obj = <E extends v.ObjectEntries>(entries: E, description?: string) =>
  withDescription(v.strictObject(entries, 'must be a JSON object'), description);

/** An object whose keys are data (variables, config options): any key, values of one schema. */
export const dict = <S extends v.GenericSchema>(value: S, description?: string) =>
  withDescription(v.record(v.string(), value, 'must be a JSON object'), description);

/**
 * An object with declared fields whose other keys are data of one schema: a dump Asterisk makes of an object (PJSIP
 * endpoint options), whose keys depend on the Asterisk version. The declared fields are typed and documented; any
 * other key must hold a value of `rest`.
 */
export const objWithRest = <E extends v.ObjectEntries, R extends v.GenericSchema>(entries: E, rest: R, description?: string) =>
  withDescription(v.objectWithRest(entries, rest, 'must be a JSON object'), description);

/** The spec's list answer: `{"list": [...]}`. */
export const listOf = <S extends v.GenericSchema>(item: S, description?: string) => obj({ list: list(item) }, description);

/**
 * The spec's `<real>`: a number always written with a decimal point (0.0, 2.0), which clients with a float type test
 * rely on. JSON.stringify writes 2 for 2.0, so answers holding one go through `realJson` (core/http/envelope.ts).
 */
export const real = (description = 'a real number, always written with a decimal point (0.0, 2.0)') =>
  v.pipe(v.number('must be a number'), v.finite('must be a number'), v.description(description), v.metadata({ real: true }));

/** An optional field; an explicit JSON null counts as "not given", as the gateway always accepted. */
export const opt = <S extends v.GenericSchema>(s: S) =>
  v.optional(
    v.pipe(
      v.nullable(s),
      v.transform((x): v.InferOutput<S> | undefined => x ?? undefined),
    ),
  );

/** A field the answer contains that a client may send back (uuid, tm_update ...): accepted and ignored. */
export const ignored = (why = 'read-only; accepted and ignored') => v.optional(v.pipe(v.unknown(), v.description(why)));

/** A nullable value in an answer. */
export const nullable = <S extends v.GenericSchema>(s: S) => v.nullable(s);

/** A string enumeration. */
export const oneOf = <const T extends readonly [string, ...string[]]>(values: T, description?: string) =>
  withDescription(v.picklist(values, `must be one of ${values.join(', ')}`), description);

/** A URL path segment naming an object: one segment, no traversal, no control characters. */
export const pathName = (what: string) =>
  v.pipe(
    v.string('must be a string'),
    v.minLength(1, 'is required'),
    v.check(
      (s) => s !== '.' && !s.includes('..') && !/[/\\\0\r\n]/.test(s),
      `${what} must not contain path characters ("/", "\\", "..") or line breaks`,
    ),
    v.description(what),
  );

/** A URL parameter that may hold "/" and "@" (member interfaces, device names) but is one line. */
export const pathText = (what: string) =>
  v.pipe(v.string('must be a string'), v.minLength(1, 'must not be empty'), v.regex(SINGLE_LINE, LINE_MESSAGE), v.description(what));

/** A query parameter holding a non-negative integer, given as digits. */
export const queryInt = (description?: string) =>
  withDescription(v.pipe(v.string(), v.regex(/^\d{1,15}$/, 'must be a non-negative integer'), v.transform(Number)), description);

/** A query parameter holding true or false. */
export const queryBool = (description?: string) =>
  withDescription(
    v.pipe(
      v.picklist(['true', 'false', '1', '0'], 'must be true or false'),
      v.transform((s) => s === 'true' || s === '1'),
    ),
    description,
  );

function withDescription<S extends v.GenericSchema>(s: S, description?: string): S {
  return (description ? v.pipe(s, v.description(description)) : s) as S;
}

// ---- named schemas: emitted once under components/schemas and referred to by $ref ----
const NAMED = new Map<v.GenericSchema, string>();
const BY_NAME = new Map<string, v.GenericSchema>();

/** Give a schema a name in the generated documents (OpenAPI components, AsyncAPI). */
export function named<S extends v.GenericSchema>(title: string, s: S): S {
  const prior = BY_NAME.get(title);
  if (prior && prior !== s) throw new Error(`schema name ${title} is used twice`);
  NAMED.set(s, title);
  BY_NAME.set(title, s);
  return s;
}

export function namedSchemas(): ReadonlyMap<string, v.GenericSchema> {
  return BY_NAME;
}

// ---- objects whose keys are data written out as they are, and values of more than one shape ----

/**
 * An object whose keys are data the gateway writes out as they are (config options), with a schema for the keys:
 * like `dict`, but every own key is kept, `__proto__`, `constructor` and `prototype` included (valibot's record
 * skips those silently), in a null-prototype object. A refused key is reported on the object, its message naming
 * the key. Documented as the record it is.
 */
export function ownDict<K extends v.GenericSchema<string, string>, S extends v.GenericSchema>(key: K, value: S, description?: string) {
  const record = v.record(key, value, 'must be a JSON object');
  type Issue = v.BaseIssue<unknown>;
  type Dataset = { typed: boolean; value: unknown; issues?: Issue[] };
  const run = function (this: typeof record, dataset: Dataset, config: v.Config<Issue>): Dataset {
    const input = dataset.value;
    if (!input || typeof input !== 'object' || Array.isArray(input)) {
      v._addIssue(this, 'type', dataset as v.UnknownDataset, config);
      return dataset;
    }
    const out: Record<string, unknown> = Object.create(null);
    const issues: Issue[] = [];
    let typed = true;
    for (const k of Object.keys(input)) {
      const entry = (input as Record<string, unknown>)[k];
      const keyed = key['~run']({ value: k }, config);
      if (keyed.issues) issues.push(...keyed.issues); // on the object: the message names the key
      const valued = value['~run']({ value: entry }, config);
      if (valued.issues) {
        const item: v.ObjectPathItem = { type: 'object', origin: 'value', input: input as Record<string, unknown>, key: k, value: entry };
        for (const issue of valued.issues) (issue as { path?: unknown[] }).path = issue.path ? [item, ...issue.path] : [item];
        issues.push(...valued.issues);
      }
      if (!keyed.typed || !valued.typed) typed = false;
      else out[keyed.value] = valued.value;
      if (issues.length && config.abortEarly) break;
    }
    dataset.typed = typed && !(issues.length && config.abortEarly);
    dataset.value = out;
    if (issues.length) dataset.issues = [...(dataset.issues ?? []), ...issues];
    return dataset;
  };
  const schema = v._standardSchema<typeof record>({ ...record, '~run': run as unknown as (typeof record)['~run'] });
  return withDescription(schema, description);
}

/**
 * A value of more than one shape (an array or an object; `{"key": "value"}` or `{key, op, value}`), checked by the
 * shape `by(input)` picks, so that shape's own message reaches the client ("data[0].op: must be one of ..."), where
 * a plain union can only say that none matched. `docs` is the union as the documents show it (named, as they refer
 * to it); it also answers input no shape fits (`by` gives undefined), with its own message. Use the result in a
 * request body, not inside a named schema (the documents render each named schema with the others as references,
 * and a lazy schema there would point at an unnamed copy).
 */
export function choose<S extends v.GenericSchema>(docs: S, by: (input: unknown) => v.GenericSchema<unknown, v.InferOutput<S>> | undefined) {
  if (!NAMED.has(docs)) throw new Error('choose: name the documented union first (named)');
  return v.lazy((input) => (input === undefined ? docs : (by(input) ?? docs)) as S);
}
