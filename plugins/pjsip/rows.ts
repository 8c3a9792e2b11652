import { yesNo } from '../../core/ami/channel-block.ts';
// From AMI messages to the rows the pjsip plugin answers with: pure functions, no state (the tables are state.ts).
//
// Field mapping. Asterisk dumps each sorcery object with CamelCased option names (`max_contacts` -> `MaxContacts`,
// res/res_pjsip.c ast_sip_sorcery_object_to_ami). Rows are built generically from that dump: every key turned back
// into snake_case (snakeKey), so options the spec does not list (Asterisk 22 has many more than the spec's 2017
// example) are shown too; then the fields the schemas (schemas.ts) type as numbers are made numbers. Everything else
// stays the string Asterisk gave ("true"/"false", "yes"/"no", lists joined with ","), as in the spec's examples.
// Keys are in alphabetical order, like the spec's examples. Contacts do not come from a dump (Asterisk's contact
// list misses static contacts), so they have the spec's fields exactly.
import { createHash } from 'node:crypto';
import type { AmiMessage } from '../../core/ami/message.ts';
import { clockMs, isoNow } from '../../core/live/clock.ts';
import type { v } from '../../core/contract/schema.ts';
import {
  AUTH_SECRETS,
  AorSchema,
  AuthSchema,
  EndpointSchema,
  RegistrationOutboundSchema,
  type Aor,
  type Auth,
  type Contact,
  type Endpoint,
  type RegistrationOutbound,
} from './schemas.ts';

export type Value = string | number;
/** A dump as it is built: keys are data. Each kind's schema says which keys it always has (Endpoint, Aor, ...). */
export type Row = Record<string, Value>;

/** An outbound registration as kept: NextReg is "seconds from now", so the time it points at is kept instead. */
export interface Registration {
  /** The dump without NextReg, keys sorted. */
  row: Row;
  /** ms since epoch of the next REGISTER as Asterisk reported it, or 0. */
  next_reg_at: number;
  /** Epoch seconds of the last Registry event with Status Registered the gateway saw, or 0 (/registries). */
  registered_at: number;
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

/** The declared fields of a schema that are numbers (the spec shows them as JSON numbers); the rest are strings. */
function numberFields(schema: { entries: v.ObjectEntries }): ReadonlySet<string> {
  const out = new Set<string>();
  for (const [key, entry] of Object.entries(schema.entries)) {
    const inner = 'wrapped' in entry ? entry.wrapped : entry;
    if (inner.type === 'number') out.add(key);
  }
  return out;
}

/** The fields made JSON numbers, per kind: those its schema types as numbers. */
export const NUMBERS: Record<Kind, ReadonlySet<string>> = {
  endpoint: numberFields(EndpointSchema),
  aor: numberFields(AorSchema),
  auth: numberFields(AuthSchema),
  registration: numberFields(RegistrationOutboundSchema),
};

/** The options answered as "" whatever Asterisk holds (AuthSchema documents them). */
const SECRETS: ReadonlySet<string> = new Set(AUTH_SECRETS);

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

/** A DeviceStateChange State in PJSIPShowEndpoint's words. */
export function deviceStateText(state: string | undefined): string {
  return DEVICE_STATE_TEXT[state ?? ''] ?? state ?? '';
}

const ENVELOPE = new Set(['Event', 'ActionID', 'Privilege']);
/** Keys of AorDetail/AorList that the state derives itself from its contacts and endpoints. */
const AOR_DERIVED = new Set(['Contacts', 'TotalContacts', 'ContactsRegistered', 'EndpointName']);
const AUTH_DERIVED = new Set(['EndpointName']);
const REG_SKIP = new Set(['NextReg']);

/**
 * The entries in key order, as one object. The caller says which kind of row it built: a sorcery dump always holds
 * ObjectName and ObjectType, and each builder below adds the fields its schema declares beside them.
 */
function sortedRow<T extends Row>(entries: [string, Value][]): T {
  entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const row: Row = {};
  for (const [k, v] of entries) row[k] = v;
  return row as T;
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

export function endpointRow(m: AmiMessage, now = isoNow()): Endpoint {
  const e = dumpEntries(m, 'endpoint');
  // Asterisk folds `disallow` into `allow` and dumps no Disallow; the spec lists the field, so it is there, empty
  if (!e.some(([k]) => k === 'disallow')) e.push(['disallow', '']);
  e.push(['tm_update', now]);
  return sortedRow<Endpoint>(e);
}

export function aorRow(m: AmiMessage, now = isoNow()): Aor {
  const e = dumpEntries(m, 'aor', AOR_DERIVED);
  e.push(['contacts', ''], ['contacts_registered', 0], ['endpoint_name', ''], ['total_contacts', 0], ['tm_update', now]);
  return sortedRow<Aor>(e);
}

/** An auth: every secret option answered as "" (the key stays, so the shape is the spec's). */
export function authRow(m: AmiMessage, now = isoNow()): Auth {
  const e = dumpEntries(m, 'auth', AUTH_DERIVED).map(([k, v]): [string, Value] => [k, SECRETS.has(k) ? '' : v]);
  e.push(['endpoint_name', ''], ['tm_update', now]);
  return sortedRow<Auth>(e);
}

export function registrationFrom(m: AmiMessage, nowMs = clockMs(), now = isoNow()): Registration {
  const e = dumpEntries(m, 'registration', REG_SKIP);
  e.push(['tm_update', now]);
  const next = Number(m.fields.NextReg);
  return { row: sortedRow(e), next_reg_at: Number.isFinite(next) && next > 0 ? nowMs + next * 1000 : 0, registered_at: 0 };
}

/** A registration as the API shows it: next_reg counts down from what Asterisk said at the last read. */
export function renderRegistration(r: Registration, nowMs = clockMs()): RegistrationOutbound {
  const next = r.next_reg_at > 0 ? Math.max(0, Math.round((r.next_reg_at - nowMs) / 1000)) : 0;
  return sortedRow<RegistrationOutbound>([...Object.entries(r.row), ['next_reg', next]]);
}

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
    authentication_qualify: yesNo(f.AuthenticateQualify),
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
    authentication_qualify: yesNo(f.AuthenticateQualify),
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
export function staticContact(aor: Aor, uri: string, now = isoNow()): Contact {
  const name = aor.object_name;
  const freq = typeof aor.qualify_frequency === 'number' ? aor.qualify_frequency : 0;
  return {
    aor: name,
    authentication_qualify: yesNo(String(aor.authenticate_qualify ?? '')),
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
  return v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}
