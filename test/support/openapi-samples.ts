// Reading request schemas out of the gateway's own /v1/openapi.json, for the tests that generate requests from it
// (test/unit/contract.test.ts, test/integration/fuzz.test.ts): follow $refs, drop the null of a nullable, build a
// value a schema accepts, and a value of the wrong type for it.
type Json = Record<string, any>;

export function schemaTools(doc: () => Json) {
  function resolve(s: Json): Json {
    if (s?.$ref) return resolve(doc().components.schemas[s.$ref.split('/').pop()]);
    return s ?? {};
  }

  function nonNull(s: Json): Json {
    s = resolve(s);
    if (s.anyOf) return nonNull(s.anyOf.find((x: Json) => resolve(x).type !== 'null') ?? s.anyOf[0]);
    return s;
  }

  /** A value the schema accepts, built from its JSON Schema. */
  function sample(s: Json, key = ''): unknown {
    s = nonNull(s);
    if (s.const !== undefined) return s.const;
    if (s.enum) return s.enum[0];
    switch (s.type) {
      case 'string':
        return key === 'interface' || key === 'location' ? 'PJSIP/1001' : 'a1';
      case 'integer':
        return s.minimum ?? 1;
      case 'number':
        return 1;
      case 'boolean':
        return true;
      case 'array':
        return s.minItems ? [sample(s.items)] : [];
      case 'object': {
        const out: Json = {};
        for (const k of s.required ?? []) out[k] = sample(s.properties?.[k] ?? {}, k);
        return out;
      }
      default:
        return 'a1';
    }
  }

  /** A value of the wrong type for the schema. */
  function wrongValue(s: Json): unknown {
    // a union of scalars (a config option: string, number or boolean) refuses an object
    const flat = (x: Json): Json[] => (resolve(x).anyOf ? resolve(x).anyOf.flatMap(flat) : [resolve(x)]);
    const members = flat(s);
    if (members.length > 1 && members.every((x) => ['string', 'number', 'integer', 'boolean', 'null'].includes(x.type))) return { x: 1 };
    const t = nonNull(s);
    if (t.type === 'string' || t.enum || t.const !== undefined) return 12345;
    if (t.type === 'array') return 'not an array';
    return 'not the type';
  }

  return { resolve, nonNull, sample, wrongValue };
}
