// Events are declared like routes: a type name, a summary and the payload's schema. Plugins list what they publish
// in their definition (`publishes`); the bus takes only declared events, typed by their schema, and the AsyncAPI
// document (core/contract/asyncapi.ts) is generated from the same declarations.
import type { v } from './schema.ts';

export interface EventSpec<S extends v.GenericSchema = v.GenericSchema> {
  /** `<plugin>.<object>.<what happened>`, e.g. `queue.member.added`. */
  type: string;
  summary: string;
  payload: S;
  /** Who may receive it over the WebSocket, in words (the REST route's rule), for the docs. */
  audience?: string;
}

export function event<S extends v.GenericSchema>(type: string, summary: string, payload: S, audience?: string): EventSpec<S> {
  return { type, summary, payload, audience };
}
