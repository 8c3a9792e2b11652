// Live state of the pjsip plugin: the tables of endpoints, AORs, auths, contacts and outbound registrations, rebuilt
// from the PJSIPShow* actions and kept current from ContactStatus, DeviceStateChange and Registry events. What each
// AMI message becomes as a row is rows.ts; this file keeps the tables and the links between them (AOR and auth
// owners, contact counts, contact indexes).
import type { AmiMessage } from '../../core/ami/message.ts';
import { LiveTable } from '../../core/live/table.ts';
import { clockMs, isoNow } from '../../core/live/clock.ts';
import {
  aorRow,
  authRow,
  contactFromDetail,
  contactFromList,
  deviceStateText,
  endpointRow,
  names,
  registrationFrom,
  staticContact,
  urisOfContactsField,
  type Registration,
} from './rows.ts';
import type { Aor, Auth, Contact, Endpoint } from './schemas.ts';

function sameExceptTime(a: object, b: object): boolean {
  const ea = Object.entries(a),
    eb = Object.entries(b);
  if (ea.length !== eb.length) return false;
  const bb = b as Record<string, unknown>;
  for (const [k, v] of ea) if (k !== 'tm_update' && bb[k] !== v) return false;
  return true;
}

function keepTimes<T extends object>(table: LiveTable<T>, before: Map<string, T>, key: (row: T) => string): void {
  for (const row of table.values()) {
    const old = before.get(key(row));
    if (old && sameExceptTime(old, row)) (row as { tm_update: unknown }).tm_update = (old as { tm_update: unknown }).tm_update;
  }
  table.touch();
}

/** Everything one full read of Asterisk returns (PJSIPShow* lists plus one PJSIPShowEndpoint per endpoint). */
export interface Snapshot {
  endpoints: AmiMessage[];
  /** endpoint name -> its PJSIPShowEndpoint events; missing when the endpoint vanished between list and detail */
  details: Map<string, AmiMessage[]>;
  aors: AmiMessage[];
  auths: AmiMessage[];
  contacts: AmiMessage[];
  registrations: AmiMessage[];
}

const LINK_FIELDS = ['aors', 'auth', 'outbound_auth'] as const;

export class PjsipState {
  readonly endpoints = new LiveTable<Endpoint>();
  readonly aors = new LiveTable<Aor>();
  readonly auths = new LiveTable<Auth>();
  readonly contacts = new LiveTable<Contact>();
  readonly registrations = new LiveTable<Registration>();
  /** aor name -> ids of its contacts */
  private readonly byAor = new Map<string, Set<string>>();
  /** `${aor}\n${uri}` -> contact id (ContactStatus names a contact by AOR and URI only) */
  private readonly byUri = new Map<string, string>();
  /** endpoint name -> ms since epoch of its last PJSIPShowEndpoint read (how old its contacts' round trips are) */
  private readonly readAt = new Map<string, number>();

  reset(): void {
    this.endpoints.clear();
    this.aors.clear();
    this.auths.clear();
    this.contacts.clear();
    this.registrations.clear();
    this.byAor.clear();
    this.byUri.clear();
    this.readAt.clear();
  }

  /** The contacts of an AOR (registered and static), in id order. */
  contactsOfAor(aor: string): Contact[] {
    const out: Contact[] = [];
    for (const id of [...(this.byAor.get(aor) ?? [])].sort()) {
      const c = this.contacts.get(id);
      if (c) out.push(c);
    }
    return out;
  }

  /** When the endpoint was last read (PJSIPShowEndpoint, which reports its contacts' last round trips), or 0. */
  endpointReadAt(name: string): number {
    return this.readAt.get(name) ?? 0;
  }

  // ---- full load ----

  load(s: Snapshot): void {
    const now = isoNow();
    const before = {
      endpoints: new Map([...this.endpoints.values()].map((r) => [r.object_name, r])),
      aors: new Map([...this.aors.values()].map((r) => [r.object_name, r])),
      auths: new Map([...this.auths.values()].map((r) => [r.object_name, r])),
      contacts: new Map([...this.contacts.values()].map((c) => [c.id, c])),
    };
    const eps: [string, Endpoint][] = [];
    const detailContacts: Contact[] = [];
    const nowMs = Date.now();
    this.readAt.clear();
    for (const m of s.endpoints) {
      if (m.fields.Event !== 'EndpointList') continue;
      const name = m.fields.ObjectName ?? '';
      const detail = s.details.get(name);
      const ep = detail?.find((d) => d.fields.Event === 'EndpointDetail');
      if (!ep) continue; // deleted between the list and its detail read
      eps.push([name, endpointRow(ep, now)]);
      this.readAt.set(name, nowMs);
      for (const d of detail!) if (d.fields.Event === 'ContactStatusDetail') detailContacts.push(contactFromDetail(d, now));
    }
    this.endpoints.replaceAll(eps);

    const aorEvents = s.aors.filter((m) => m.fields.Event === 'AorList');
    this.aors.replaceAll(aorEvents.map((m) => [m.fields.ObjectName ?? '', aorRow(m, now)]));
    this.auths.replaceAll(s.auths.filter((m) => m.fields.Event === 'AuthList').map((m) => [m.fields.ObjectName ?? '', authRow(m, now)]));
    this.loadRegistrations(s.registrations, now);

    // contacts: registered ones from PJSIPShowContacts, then what the endpoints report (static ones included,
    // with status), then static contacts of AORs that no endpoint uses
    const contacts = new Map<string, Contact>();
    for (const m of s.contacts) {
      if (m.fields.Event !== 'ContactList') continue;
      const c = contactFromList(m, now);
      contacts.set(c.id, c);
    }
    for (const c of detailContacts) contacts.set(c.id, c);
    const seen = new Set([...contacts.values()].map((c) => `${c.aor}\n${c.uri}`));
    for (const m of aorEvents) {
      const name = m.fields.ObjectName ?? '';
      const aor = this.aors.get(name);
      if (!aor) continue;
      for (const uri of urisOfContactsField(name, m.fields.Contacts ?? '')) {
        if (seen.has(`${name}\n${uri}`)) continue;
        const c = staticContact(aor, uri, now);
        contacts.set(c.id, c);
      }
    }
    this.contacts.replaceAll([...contacts].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)));
    this.byAor.clear();
    this.byUri.clear();
    for (const c of this.contacts.values()) this.index(c);
    this.relink();
    for (const name of [...this.aors.values()].map((a) => a.object_name)) this.recount(name);
    // tm_update is the time of the last change: a re-read that finds an object as it was keeps its time
    keepTimes(this.endpoints, before.endpoints, (r) => r.object_name);
    keepTimes(this.aors, before.aors, (r) => r.object_name);
    keepTimes(this.auths, before.auths, (r) => r.object_name);
    keepTimes(this.contacts, before.contacts, (c) => c.id);
  }

  loadRegistrations(events: AmiMessage[], now = isoNow()): void {
    const nowMs = Date.now();
    const next: [string, Registration][] = [];
    for (const m of events) {
      if (m.fields.Event !== 'OutboundRegistrationDetail') continue; // its AuthDetail events follow each one
      const name = m.fields.ObjectName ?? '';
      const r = registrationFrom(m, nowMs, now);
      const old = this.registrations.get(name);
      const kept = old && sameExceptTime(old.row, r.row) ? old.row.tm_update : undefined;
      if (kept !== undefined) r.row.tm_update = kept;
      // when the last registration was seen is the gateway's own knowledge: a re-read keeps it
      if (old && old.row.client_uri === r.row.client_uri && old.row.server_uri === r.row.server_uri) r.registered_at = old.registered_at;
      next.push([name, r]);
    }
    this.registrations.replaceAll(next);
  }

  // ---- one endpoint re-read ----

  /**
   * Apply one PJSIPShowEndpoint answer (null: Asterisk no longer knows the endpoint). Updates the endpoint, its
   * AORs and auths, and replaces the contacts of its AORs. Returns the contacts that are new or changed.
   */
  applyEndpoint(name: string, events: AmiMessage[] | null): Contact[] {
    const now = isoNow();
    if (!events) {
      this.readAt.delete(name);
      if (this.endpoints.delete(name)) this.relink();
      return [];
    }
    const ep = events.find((d) => d.fields.Event === 'EndpointDetail');
    if (!ep) return [];
    this.readAt.set(name, Date.now());
    const old = this.endpoints.get(name);
    const row = endpointRow(ep, now);
    if (!old || !sameExceptTime(old, row)) this.endpoints.set(name, row);
    let relink = !old || LINK_FIELDS.some((k) => old[k] !== row[k]);

    const aorNames: string[] = [];
    for (const d of events) {
      const ev = d.fields.Event;
      const id = d.fields.ObjectName ?? '';
      if (ev === 'AorDetail') {
        aorNames.push(id);
        if (this.upsertRow(this.aors, id, aorRow(d, now))) relink = true;
      } else if (ev === 'AuthDetail' && d.fields.EndpointName !== undefined) {
        if (this.upsertRow(this.auths, id, authRow(d, now))) relink = true;
      }
    }
    const changed: Contact[] = [];
    const fresh = new Map<string, Contact>();
    for (const d of events) {
      if (d.fields.Event !== 'ContactStatusDetail') continue;
      const c = contactFromDetail(d, now);
      fresh.set(c.id, c);
    }
    for (const aor of aorNames) {
      for (const id of [...(this.byAor.get(aor) ?? [])]) if (!fresh.has(id)) this.removeContact(id);
    }
    for (const c of fresh.values()) {
      const had = this.contacts.get(c.id);
      if (had && sameExceptTime(had, c)) continue;
      this.putContact(c);
      changed.push(c);
    }
    if (relink) this.relink();
    for (const aor of aorNames) this.recount(aor);
    return changed;
  }

  /**
   * Store an AOR or auth from a detail read, keeping its derived fields (endpoint_name, contact counts; they are
   * recomputed after) and its tm_update when nothing Asterisk reports changed. True when the row is new.
   */
  private upsertRow<T extends Aor | Auth>(table: LiveTable<T>, id: string, row: T): boolean {
    const old = table.get(id);
    if (old) {
      for (const k of ['endpoint_name', 'contacts', 'contacts_registered', 'total_contacts']) if (k in old && k in row) row[k] = old[k]!;
      if (sameExceptTime(old, row)) return false;
    }
    table.set(id, row);
    return !old;
  }

  // ---- events ----

  /**
   * ContactStatus (URI, ContactStatus, AOR, EndpointName, RoundtripUsec). A known contact gets its status; Removed
   * drops it. An unknown one (a new registration) cannot be added from the event, which lacks its id and
   * registration details: `unknown` tells the caller to re-read its endpoint.
   */
  contactStatus(m: AmiMessage): { contact?: Contact; removed?: Contact; unknown: boolean } {
    const f = m.fields;
    const aor = f.AOR ?? '';
    const id = this.byUri.get(`${aor}\n${f.URI ?? ''}`);
    const status = f.ContactStatus ?? '';
    const c = id === undefined ? undefined : this.contacts.get(id);
    if (!c) return { unknown: status !== 'Removed' };
    if (status === 'Removed') {
      this.removeContact(c.id);
      this.recount(aor);
      return { removed: c, unknown: false };
    }
    c.status = status;
    // PJSIPShowEndpoint says N/A unless the contact is Reachable; the event says 0 then
    c.round_trip_usec = status === 'Reachable' ? (f.RoundtripUsec ?? c.round_trip_usec) : 'N/A';
    c.tm_update = isoNow();
    this.contacts.touch();
    return { contact: c, unknown: false };
  }

  /** DeviceStateChange for PJSIP/<endpoint>: the endpoint's device_state, in PJSIPShowEndpoint's words. */
  deviceState(m: AmiMessage): Endpoint | undefined {
    const device = m.fields.Device ?? '';
    if (!device.startsWith('PJSIP/')) return undefined;
    const ep = this.endpoints.get(device.slice(6));
    if (!ep) return undefined;
    const text = deviceStateText(m.fields.State);
    if (ep.device_state === text) return ep;
    ep.device_state = text;
    ep.tm_update = isoNow();
    this.endpoints.touch();
    return ep;
  }

  /** Registry (ChannelType PJSIP, Username = client_uri, Domain = server_uri, Status). */
  registry(m: AmiMessage): Registration | undefined {
    const f = m.fields;
    if (f.ChannelType !== 'PJSIP') return undefined;
    for (const r of this.registrations.values()) {
      if (r.row.client_uri !== f.Username || r.row.server_uri !== f.Domain) continue;
      r.row.status = f.Status ?? '';
      r.row.tm_update = isoNow();
      // Asterisk publishes Registry after every answer, re-registrations included
      if (r.row.status === 'Registered') r.registered_at = Math.floor(clockMs() / 1000);
      this.registrations.touch();
      return r;
    }
    return undefined;
  }

  // ---- contacts and links ----

  private index(c: Contact): void {
    let set = this.byAor.get(c.aor);
    if (!set) this.byAor.set(c.aor, (set = new Set()));
    set.add(c.id);
    this.byUri.set(`${c.aor}\n${c.uri}`, c.id);
  }

  private putContact(c: Contact): void {
    const old = this.contacts.get(c.id);
    if (old) this.unindex(old);
    this.contacts.set(c.id, c);
    this.index(c);
  }

  private unindex(c: Contact): void {
    this.byAor.get(c.aor)?.delete(c.id);
    if (this.byUri.get(`${c.aor}\n${c.uri}`) === c.id) this.byUri.delete(`${c.aor}\n${c.uri}`);
  }

  private removeContact(id: string): void {
    const c = this.contacts.get(id);
    if (!c) return;
    this.unindex(c);
    this.contacts.delete(id);
  }

  /** The contacts of registered AORs expire; the earliest reg_expire (s since epoch) after `afterS`, or 0. */
  nextExpiry(afterS: number): number {
    let min = 0;
    for (const c of this.contacts.values()) if (c.reg_expire > afterS && (min === 0 || c.reg_expire < min)) min = c.reg_expire;
    return min;
  }

  /** An AOR's contacts, contacts_registered and total_contacts, as Asterisk computes them (ids in strcmp order). */
  private recount(aorName: string): void {
    const aor = this.aors.get(aorName);
    if (!aor) return;
    const list = [...(this.byAor.get(aorName) ?? [])]
      .sort()
      .map((id) => this.contacts.get(id)!)
      .filter(Boolean);
    const contacts = list.map((c) => `${aorName}/${c.uri}`).join(',');
    const registered = list.filter((c) => !c.id.startsWith(`${aorName}@@`)).length;
    if (aor.contacts === contacts && aor.total_contacts === list.length && aor.contacts_registered === registered) return;
    aor.contacts = contacts;
    aor.total_contacts = list.length;
    aor.contacts_registered = registered;
    aor.tm_update = isoNow();
    this.aors.touch();
  }

  /** endpoint_name of AORs and auths: the first endpoint (in Asterisk's order) that names them. */
  private owners(): { aor: Map<string, string>; auth: Map<string, string> } {
    const aor = new Map<string, string>(),
      auth = new Map<string, string>();
    for (const ep of this.endpoints.values()) {
      const name = ep.object_name;
      for (const a of names(ep.aors)) if (!aor.has(a)) aor.set(a, name);
      for (const a of [...names(ep.auth), ...names(ep.outbound_auth)]) if (!auth.has(a)) auth.set(a, name);
    }
    return { aor, auth };
  }

  private relink(): void {
    const o = this.owners();
    const now = isoNow();
    const apply = (table: LiveTable<Aor | Auth>, owner: Map<string, string>) => {
      let changed = false;
      for (const [id, row] of [...table.values()].map((r) => [r.object_name, r] as const)) {
        const want = owner.get(id) ?? '';
        if (row.endpoint_name === want) continue;
        row.endpoint_name = want;
        row.tm_update = now;
        changed = true;
      }
      if (changed) table.touch();
    };
    apply(this.aors, o.aor);
    apply(this.auths, o.auth);
  }
}
