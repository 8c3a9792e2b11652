// Live state of the pjsip plugin: endpoints, AORs, auths, contacts and outbound registrations, rebuilt from the
// PJSIPShow* actions and kept current from ContactStatus, DeviceStateChange and Registry events.
//
// Field mapping. Asterisk dumps each sorcery object with CamelCased option names (`max_contacts` -> `MaxContacts`,
// res/res_pjsip.c ast_sip_sorcery_object_to_ami). Rows are built generically from that dump: every key turned back
// into snake_case (snakeKey), so options the spec does not list (Asterisk 22 has many more than the spec's 2017
// example) are shown too; then the fields the spec types as numbers are made numbers (NUMBERS). Everything else
// stays the string Asterisk gave ("true"/"false", "yes"/"no", lists joined with ","), as in the spec's examples.
// Keys are in alphabetical order, like the spec's examples. Contacts do not come from a dump (Asterisk's contact
// list misses static contacts), so they have the spec's fields exactly (see Contact).
import { createHash } from 'node:crypto';
import type { AmiMessage } from '../../core/ami/message.ts';
import { LiveTable } from '../../core/live/table.ts';
import { isoNow } from '../../core/live/clock.ts';

export type Value = string | number;
/** An endpoint, AOR or auth as the API shows it. Keys are sorted; in-place updates keep that order. */
export type Row = Record<string, Value>;

export interface Contact {
  aor: string;
  authentication_qualify: number;
  call_id: string;
  endpoint_name: string;
  id: string;
  outbound_proxy: string;
  path: string;
  qualify_frequency: number;
  /** The spec's spelling (sic). */
  qualify_timout: number;
  reg_expire: number;
  round_trip_usec: string;
  status: string;
  tm_update: string;
  uri: string;
  user_agent: string;
  via_address: string;
}

export interface Registration {
  /** The dump without NextReg, keys sorted. */
  row: Row;
  /** ms since epoch of the next REGISTER as Asterisk reported it (NextReg is "seconds from now"), or 0. */
  next_reg_at: number;
}

/**
 * Spec names that the plain CamelCase split would not give: the spec renamed some Asterisk options
 * (accountcode -> account_code, callerid* -> caller_id*, 100rel -> rel_100, g726_non_standard -> g_726_non_standard,
 * fax_detect_timeout -> fax_detect_time), and Asterisk's camel-casing drops the "_" before a digit
 * (ignore_183_without_sdp -> Ignore183WithoutSdp).
 */
const RENAMES: Record<string, string> = {
  Accountcode: 'account_code',
  Callerid: 'caller_id',
  CalleridPrivacy: 'caller_id_privacy',
  CalleridTag: 'caller_id_tag',
  G726NonStandard: 'g_726_non_standard',
  '100rel': 'rel_100',
  FaxDetectTimeout: 'fax_detect_time',
  Ignore183WithoutSdp: 'ignore_183_without_sdp',
  Qualify2xxOnly: 'qualify_2xx_only',
};

const snakeCache = new Map<string, string>();

/** An AMI key as the API names it: `MaxContacts` -> `max_contacts`, `T38UdptlIpv6` -> `t38_udptl_ipv6`. */
export function snakeKey(key: string): string {
  let s = snakeCache.get(key);
  if (s === undefined) {
    s = RENAMES[key] ?? key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
    snakeCache.set(key, s);
  }
  return s;
}

export type Kind = 'endpoint' | 'aor' | 'auth' | 'registration';

/** The fields the spec shows as JSON numbers; every other field is a string. Registrations follow their neighbours. */
export const NUMBERS: Record<Kind, ReadonlySet<string>> = {
  endpoint: new Set([
    'cos_audio', 'cos_video', 'device_state_busy_at', 'dtls_rekey', 'fax_detect_time', 'max_audio_streams',
    'max_video_streams', 'rtp_keepalive', 'rtp_timeout', 'rtp_timeout_hold', 't38_udptl_maxdatagram',
    'timers_sess_expires', 'tos_audio', 'tos_video',
  ]),
  aor: new Set([
    'contacts_registered', 'total_contacts', 'default_expiration', 'max_contacts', 'maximum_expiration',
    'minimum_expiration', 'qualify_frequency', 'qualify_timeout',
  ]),
  auth: new Set(['nonce_lifetime']),
  registration: new Set([
    'expiration', 'fatal_retry_interval', 'forbidden_retry_interval', 'max_random_initial_delay', 'max_retries',
    'next_reg', 'retry_interval',
  ]),
};

/**
 * Auth options that hold a secret. The project never returns passwords: they are answered as "" (the key stays, so
 * the shape is the spec's). Asterisk 22 adds password_digest, oauth_secret and refresh_token to password/md5_cred.
 */
export const AUTH_SECRETS: ReadonlySet<string> = new Set(['password', 'md5_cred', 'password_digest', 'oauth_secret', 'refresh_token']);

/** "3.000000" -> 3; "" -> 0; a value that is not a number stays the string Asterisk sent (never silently 0). */
export function toNumber(v: string): Value {
  if (v.trim() === '') return 0;
  const n = Number(v);
  return Number.isFinite(n) ? n : v;
}

/** DeviceStateChange gives NOT_INUSE, ...; endpoints show the text PJSIPShowEndpoint(s) uses (ast_devstate2str). */
const DEVICE_STATE_TEXT: Record<string, string> = {
  UNKNOWN: 'Unknown',
  NOT_INUSE: 'Not in use',
  INUSE: 'In use',
  BUSY: 'Busy',
  INVALID: 'Invalid',
  UNAVAILABLE: 'Unavailable',
  RINGING: 'Ringing',
  RINGINUSE: 'Ring+Inuse',
  ONHOLD: 'On Hold',
};

const ENVELOPE = new Set(['Event', 'ActionID', 'Privilege']);
/** Keys of AorDetail/AorList that this state derives itself from its contacts and endpoints. */
const AOR_DERIVED = new Set(['Contacts', 'TotalContacts', 'ContactsRegistered', 'EndpointName']);
const AUTH_DERIVED = new Set(['EndpointName']);
const REG_SKIP = new Set(['NextReg']);

function sortedRow(entries: [string, Value][]): Row {
  entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const row: Row = {};
  for (const [k, v] of entries) row[k] = v;
  return row;
}

/** The generic mapping: every field of the dump, snake_cased; repeated keys joined with ","; numbers per NUMBERS. */
export function dumpEntries(m: AmiMessage, kind: Kind, skip?: ReadonlySet<string>): [string, Value][] {
  const numbers = NUMBERS[kind];
  const out: [string, Value][] = [];
  for (const k in m.fields) {
    if (ENVELOPE.has(k) || skip?.has(k)) continue;
    const key = snakeKey(k);
    const all = m.multi?.[k];
    const raw = all && all.length > 1 ? all.join(',') : (m.fields[k] as string);
    out.push([key, numbers.has(key) ? toNumber(raw) : raw]);
  }
  return out;
}

export function endpointRow(m: AmiMessage, now = isoNow()): Row {
  const e = dumpEntries(m, 'endpoint');
  // Asterisk folds `disallow` into `allow` and dumps no Disallow; the spec lists the field, so it is there, empty
  if (!e.some(([k]) => k === 'disallow')) e.push(['disallow', '']);
  e.push(['tm_update', now]);
  return sortedRow(e);
}

export function aorRow(m: AmiMessage, now = isoNow()): Row {
  const e = dumpEntries(m, 'aor', AOR_DERIVED);
  e.push(['contacts', ''], ['contacts_registered', 0], ['endpoint_name', ''], ['total_contacts', 0], ['tm_update', now]);
  return sortedRow(e);
}

export function authRow(m: AmiMessage, now = isoNow()): Row {
  const e = dumpEntries(m, 'auth', AUTH_DERIVED).map(([k, v]): [string, Value] => [k, AUTH_SECRETS.has(k) ? '' : v]);
  e.push(['endpoint_name', ''], ['tm_update', now]);
  return sortedRow(e);
}

export function registrationFrom(m: AmiMessage, nowMs = Date.now(), now = isoNow()): Registration {
  const e = dumpEntries(m, 'registration', REG_SKIP);
  e.push(['tm_update', now]);
  const next = Number(m.fields.NextReg);
  return { row: sortedRow(e), next_reg_at: Number.isFinite(next) && next > 0 ? nowMs + next * 1000 : 0 };
}

/** A registration as the API shows it: next_reg counts down from what Asterisk said at the last read. */
export function renderRegistration(r: Registration, nowMs = Date.now()): Row {
  const next = r.next_reg_at > 0 ? Math.max(0, Math.round((r.next_reg_at - nowMs) / 1000)) : 0;
  return sortedRow([...Object.entries(r.row), ['next_reg', next]]);
}

const yesNumber = (v: string | undefined): number => (/^(1|yes|true|on|y|t)$/i.test(v ?? '') ? 1 : 0);
const num = (v: string | undefined): number => {
  const n = Number(v);
  return v !== undefined && v !== '' && Number.isFinite(n) ? n : 0;
};

/** The AOR part of a contact id: `<aor>;@<hash>` (registered) or `<aor>@@<hash>` (static). */
export function aorOfContactId(id: string): string {
  const dyn = id.lastIndexOf(';@');
  if (dyn >= 0) return id.slice(0, dyn);
  const perm = id.lastIndexOf('@@');
  return perm >= 0 ? id.slice(0, perm) : id;
}

/** ContactStatusDetail (from PJSIPShowEndpoint): static and registered contacts of the endpoint's AORs. */
export function contactFromDetail(m: AmiMessage, now = isoNow()): Contact {
  const f = m.fields;
  return {
    aor: f.AOR ?? '',
    authentication_qualify: yesNumber(f.AuthenticateQualify),
    call_id: f.CallID ?? '',
    endpoint_name: f.EndpointName ?? '',
    id: f.ID ?? '',
    outbound_proxy: f.OutboundProxy ?? '',
    path: f.Path ?? '',
    qualify_frequency: num(f.QualifyFrequency),
    qualify_timout: num(f.QualifyTimeout),
    reg_expire: num(f.RegExpire),
    round_trip_usec: f.RoundtripUsec ?? 'N/A',
    status: f.Status ?? 'Unknown',
    tm_update: now,
    uri: f.URI ?? '',
    user_agent: f.UserAgent ?? '',
    via_address: f.ViaAddress ?? '',
  };
}

/** ContactList (from PJSIPShowContacts): the sorcery dump of a registered contact, then Status and RoundtripUsec. */
export function contactFromList(m: AmiMessage, now = isoNow()): Contact {
  const f = m.fields;
  const id = f.ObjectName ?? '';
  const port = f.ViaPort ?? '';
  return {
    aor: aorOfContactId(id),
    authentication_qualify: yesNumber(f.AuthenticateQualify),
    call_id: f.CallId ?? '',
    endpoint_name: f.Endpoint ?? '',
    id,
    outbound_proxy: f.OutboundProxy ?? '',
    path: f.Path ?? '',
    qualify_frequency: num(f.QualifyFrequency),
    qualify_timout: num(f.QualifyTimeout),
    reg_expire: num(f.ExpirationTime),
    round_trip_usec: f.RoundtripUsec ?? 'N/A',
    status: f.Status ?? 'Unknown',
    tm_update: now,
    uri: f.Uri ?? '',
    user_agent: f.UserAgent ?? '',
    via_address: f.ViaAddr ? (port && port !== '0' ? `${f.ViaAddr}:${port}` : f.ViaAddr) : '',
  };
}

/**
 * A static contact (`contact=` on an AOR) that no endpoint reports: PJSIPShowContacts lists only registered
 * contacts, and only PJSIPShowEndpoint shows the static ones, so an AOR without an endpoint gives just `aor/uri` in
 * its Contacts field. Asterisk names such a contact `<aor>@@<md5 of the uri>` (res/res_pjsip/location.c).
 */
export function staticContact(aor: Row, uri: string, now = isoNow()): Contact {
  const name = String(aor.object_name);
  const freq = typeof aor.qualify_frequency === 'number' ? aor.qualify_frequency : 0;
  return {
    aor: name,
    authentication_qualify: yesNumber(String(aor.authenticate_qualify ?? '')),
    call_id: '',
    endpoint_name: '',
    id: `${name}@@${createHash('md5').update(uri).digest('hex')}`,
    outbound_proxy: String(aor.outbound_proxy ?? ''),
    path: '',
    qualify_frequency: freq,
    qualify_timout: typeof aor.qualify_timeout === 'number' ? aor.qualify_timeout : 0,
    reg_expire: 0,
    round_trip_usec: 'N/A',
    // not qualified: Asterisk reports NonQualified; qualified: unknown until the first ContactStatus
    status: freq > 0 ? 'Unknown' : 'NonQualified',
    tm_update: now,
    uri,
    user_agent: '',
    via_address: '',
  };
}

/** `aor/uri,aor/uri` (an AOR's Contacts field; a trailing comma in the endpoint list form) -> the URIs. */
export function urisOfContactsField(aor: string, field: string): string[] {
  const out: string[] = [];
  for (const part of field.split(',')) {
    const p = part.trim();
    if (!p) continue;
    out.push(p.startsWith(`${aor}/`) ? p.slice(aor.length + 1) : p);
  }
  return out;
}

/** "a, b,c" -> ["a", "b", "c"]: endpoint aors / auth / outbound_auth. */
export function names(v: Value | undefined): string[] {
  if (typeof v !== 'string' || v === '') return [];
  return v.split(',').map((s) => s.trim()).filter(Boolean);
}

function sameExceptTime(a: object, b: object): boolean {
  const ea = Object.entries(a), eb = Object.entries(b);
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
  readonly endpoints = new LiveTable<Row>();
  readonly aors = new LiveTable<Row>();
  readonly auths = new LiveTable<Row>();
  readonly contacts = new LiveTable<Contact>();
  readonly registrations = new LiveTable<Registration>();
  /** aor name -> ids of its contacts */
  private readonly byAor = new Map<string, Set<string>>();
  /** `${aor}\n${uri}` -> contact id (ContactStatus names a contact by AOR and URI only) */
  private readonly byUri = new Map<string, string>();

  reset(): void {
    this.endpoints.clear();
    this.aors.clear();
    this.auths.clear();
    this.contacts.clear();
    this.registrations.clear();
    this.byAor.clear();
    this.byUri.clear();
  }

  // ---- full load ----

  load(s: Snapshot): void {
    const now = isoNow();
    const before = {
      endpoints: new Map([...this.endpoints.values()].map((r) => [String(r.object_name), r])),
      aors: new Map([...this.aors.values()].map((r) => [String(r.object_name), r])),
      auths: new Map([...this.auths.values()].map((r) => [String(r.object_name), r])),
      contacts: new Map([...this.contacts.values()].map((c) => [c.id, c])),
    };
    const eps: [string, Row][] = [];
    const detailContacts: Contact[] = [];
    for (const m of s.endpoints) {
      if (m.fields.Event !== 'EndpointList') continue;
      const name = m.fields.ObjectName ?? '';
      const detail = s.details.get(name);
      const ep = detail?.find((d) => d.fields.Event === 'EndpointDetail');
      if (!ep) continue; // deleted between the list and its detail read
      eps.push([name, endpointRow(ep, now)]);
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
    for (const name of [...this.aors.values()].map((a) => String(a.object_name))) this.recount(name);
    // tm_update is the time of the last change: a re-read that finds an object as it was keeps its time
    keepTimes(this.endpoints, before.endpoints, (r) => String(r.object_name));
    keepTimes(this.aors, before.aors, (r) => String(r.object_name));
    keepTimes(this.auths, before.auths, (r) => String(r.object_name));
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
      if (old && sameExceptTime(old.row, r.row)) r.row.tm_update = old.row.tm_update;
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
      if (this.endpoints.delete(name)) this.relink();
      return [];
    }
    const ep = events.find((d) => d.fields.Event === 'EndpointDetail');
    if (!ep) return [];
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
  private upsertRow(table: LiveTable<Row>, id: string, row: Row): boolean {
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
    c.round_trip_usec = status === 'Reachable' ? f.RoundtripUsec ?? c.round_trip_usec : 'N/A';
    c.tm_update = isoNow();
    this.contacts.touch();
    return { contact: c, unknown: false };
  }

  /** DeviceStateChange for PJSIP/<endpoint>: the endpoint's device_state, in PJSIPShowEndpoint's words. */
  deviceState(m: AmiMessage): Row | undefined {
    const device = m.fields.Device ?? '';
    if (!device.startsWith('PJSIP/')) return undefined;
    const ep = this.endpoints.get(device.slice(6));
    if (!ep) return undefined;
    const text = DEVICE_STATE_TEXT[m.fields.State ?? ''] ?? m.fields.State ?? '';
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
    const list = [...(this.byAor.get(aorName) ?? [])].sort().map((id) => this.contacts.get(id)!).filter(Boolean);
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
    const aor = new Map<string, string>(), auth = new Map<string, string>();
    for (const ep of this.endpoints.values()) {
      const name = String(ep.object_name);
      for (const a of names(ep.aors)) if (!aor.has(a)) aor.set(a, name);
      for (const a of [...names(ep.auth), ...names(ep.outbound_auth)]) if (!auth.has(a)) auth.set(a, name);
    }
    return { aor, auth };
  }

  private relink(): void {
    const o = this.owners();
    const now = isoNow();
    const apply = (table: LiveTable<Row>, owner: Map<string, string>) => {
      let changed = false;
      for (const [id, row] of [...table.values()].map((r) => [String(r.object_name), r] as const)) {
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
