// The caller's GET /me/info answer belongs to the users plugin, but other plugins add fields to it (the chat plugin
// its "chats"): each contributes a field with its schema and a function of the user's uuid, so the users plugin needs
// no import of theirs. Plugins contribute in setup(); answers and the OpenAPI document come after every setup.
import { obj, type v } from '../contract/schema.ts';

export interface Profile {
  /** Add `field` to GET /me/info: its schema (for the document) and its value for the calling user. */
  contribute<S extends v.GenericSchema>(
    field: string,
    schema: S,
    value: (userUuid: string) => v.InferOutput<S> | Promise<v.InferOutput<S>>,
  ): void;
  /** Every contributed field's value for this user. */
  fieldsFor(userUuid: string): Promise<Record<string, unknown>>;
  /**
   * The answer's schema: `base` plus every contributed field (a contribution replaces a base entry of the same name,
   * e.g. a default `"chats": []`). The object's entries follow the contributions made after this call too.
   */
  schema(base: v.ObjectEntries, description?: string): v.GenericSchema;
}

export class ProfileRegistry implements Profile {
  private readonly fields = new Map<string, { schema: v.GenericSchema; value: (userUuid: string) => unknown }>();
  private readonly schemas: v.ObjectEntries[] = [];

  contribute<S extends v.GenericSchema>(
    field: string,
    schema: S,
    value: (userUuid: string) => v.InferOutput<S> | Promise<v.InferOutput<S>>,
  ): void {
    if (this.fields.has(field)) throw new Error(`the /me/info field "${field}" is contributed twice`);
    this.fields.set(field, { schema, value });
    for (const entries of this.schemas) entries[field] = schema;
  }

  async fieldsFor(userUuid: string): Promise<Record<string, unknown>> {
    const out: Record<string, unknown> = {};
    for (const [field, f] of this.fields) out[field] = await f.value(userUuid);
    return out;
  }

  schema(base: v.ObjectEntries, description?: string): v.GenericSchema {
    // valibot and the JSON Schema converter read an object schema's entries when they run, so later contributions
    // show up in this schema.
    const entries: v.ObjectEntries = { ...base };
    for (const [field, f] of this.fields) entries[field] = f.schema;
    this.schemas.push(entries);
    return obj(entries, description);
  }
}
