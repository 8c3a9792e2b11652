// Events are declared like routes: a type name, a summary, the payload's schema, and who may receive it. Plugins
// list what they publish in their definition (`publishes`); the bus takes only declared events, typed by their
// schema, and the AsyncAPI document (core/contract/asyncapi.ts) is generated from the same declarations.
//
// Who may receive an event is the permission of the REST route that shows the same object (`like`): a socket gets
// a `core.channel.*` event only if its user may GET /admin/core/channels. The WebSocket (core/ws/ws.ts) checks
// this one table for every frame; plugins never check permissions themselves. `members` events go only to the users
// the publisher names (a chat room's members).
import type { v } from './schema.ts';

export type EventAccess =
  /** The GET route (spec path without /v1) that shows the same object; its role applies. */
  | { like: string }
  /** Only the users named when the event is published, e.g. "the room's members". */
  | { members: string };

export interface EventSpec<S extends v.GenericSchema = v.GenericSchema> {
  /** `<plugin>.<object>.<what happened>`, e.g. `queue.member.added`. */
  type: string;
  summary: string;
  payload: S;
  access: EventAccess;
}

export function event<S extends v.GenericSchema>(type: string, summary: string, payload: S, access: EventAccess): EventSpec<S> {
  return { type, summary, payload, access };
}
