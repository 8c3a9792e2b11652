// The shapes of /manager/trunks: a trunk as answered (Trunk), as created (TrunkCreate) and as changed (TrunkUpdate),
// and the answers of a write. The spec names the routes only; the fields are issue 10's, each the natural PJSIP
// option of one of the trunk's sections (trunk-service.ts writes and reads them):
//
//   [<name>] type=endpoint      context, transport, disallow=all + allow, callerid, from_user, from_domain,
//                               aors=<name>, outbound_auth=<name> (when it has an auth)
//   [<name>] type=aor           contact=sip:<hostname>, qualify_frequency
//   [<name>] type=auth          auth_type=userpass, username, password (written, never answered)
//   [<name>] type=registration  server_uri=sip:<hostname>, client_uri=sip:<username>@<hostname>, outbound_auth=<name>,
//                               transport (only when register is true)
//   [<name>] type=identify      endpoint=<name>, match=<host of hostname> (calls from the provider's address land in
//                               the trunk's context)
//
// Every string is one line without '[' or ']' (a value must not be able to open a section of pjsip.conf).
import { ReloadOutcomeSchema } from '../../core/config-files.ts';
import { SectionNameSchema } from '../../core/config-routes/section-form.ts';
import { bool, ignored, line, list, named, nonNegInt, nullable, obj, oneOf, opt, type Out, v } from '../../core/contract/schema.ts';

/** The section types a trunk is made of, in the order a new trunk writes them. */
export const TRUNK_TYPES = ['endpoint', 'aor', 'auth', 'registration', 'identify'] as const;
export type TrunkType = (typeof TRUNK_TYPES)[number];

const NO_BRACKETS = /^[^[\]]*$/;
const BRACKETS_MESSAGE = "must not contain '[' or ']'";

/** One line, no '[' or ']': a value written into one of the trunk's sections. */
const value = (description: string) => v.pipe(line(description), v.regex(NO_BRACKETS, BRACKETS_MESSAGE));

/** A DNS name or an IPv4 address, with an optional :port (1-65535). IPv6 literals need [ ] and are not taken. */
export function parseHostPort(s: string): { host: string; port?: number } | null {
  const m = /^([^:]+)(?::(\d{1,5}))?$/.exec(s);
  if (!m) return null;
  const host = m[1]!;
  const port = m[2] === undefined ? undefined : Number(m[2]);
  if (port !== undefined && (port < 1 || port > 65535)) return null;
  if (host.length > 253) return null;
  const labels = host.split('.');
  if (labels.every((l) => /^\d+$/.test(l))) {
    // all digits: an IPv4 address or nothing ("1.2.3" or "12345" is not a host name anyone means)
    if (labels.length !== 4 || labels.some((l) => l.length > 3 || Number(l) > 255)) return null;
  } else if (!labels.every((l) => /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(l))) return null;
  return port === undefined ? { host } : { host, port };
}

const HOSTNAME_MESSAGE = 'must be host[:port]: a DNS name or an IPv4 address, optionally with a port 1-65535 (e.g. sip.example.com:5060)';

const hostname = (description: string) =>
  v.pipe(
    value(description),
    v.check((s) => parseHostPort(s) !== null, HOSTNAME_MESSAGE),
  );

/** Names in dial strings (PJSIP/<number>@<name>) and in the other sections' references: no '@', '/', ',' ... */
const TRUNK_NAME = /^[A-Za-z0-9][A-Za-z0-9_.+-]*$/;
export const TrunkNameSchema = v.pipe(
  SectionNameSchema,
  v.regex(TRUNK_NAME, 'must start with a letter or digit and hold only letters, digits, "_", ".", "+" and "-"'),
  v.description('the name of the trunk: of each of its sections, and of its endpoint in dial strings (PJSIP/<number>@<name>)'),
);

/** The trunk named in the URL: any section name (a hand-made trunk may use any), without '[', ']', ';' or line breaks. */
export const TrunkPathNameSchema = v.pipe(SectionNameSchema, v.description("the trunk name (its sections' name in pjsip.conf)"));

const CODECS = /^!?[A-Za-z0-9_]+(?:\s*,\s*!?[A-Za-z0-9_]+)*$/;
const allow = () =>
  v.pipe(
    value('the codecs, in order of preference, comma-separated (e.g. "ulaw,alaw"); written as disallow=all then allow=<this>'),
    v.regex(CODECS, 'must be codec names separated by commas (e.g. "ulaw,alaw")'),
  );

const password = () =>
  v.pipe(
    value('written to the auth section (auth_type=userpass) as Asterisk needs it; never answered'),
    v.check((s) => s === s.trim(), 'must not start or end with spaces (Asterisk would drop them)'),
  );

/** What each option field means: the same words in the answer (any one line) and in a write (no '[' or ']' either). */
const about = {
  context: "where calls from the provider land (the endpoint's context)",
  username: 'the account at the provider (the auth section\'s username, and the user of the registration\'s client_uri); "" for none',
  transport: 'a transport section of pjsip.conf for the endpoint and the registration; "" lets Asterisk choose',
  caller_id:
    'the endpoint\'s callerid option, e.g. "Office" <+15551230000>: Asterisk gives it to every call that comes in through the trunk (it replaces the provider\'s caller ID); calls out keep the caller ID the dialplan gives them (from_user sets the user of their From); "" for none',
  from_user: 'the endpoint\'s from_user (the user part of From on outgoing calls); "" for none',
  from_domain: 'the endpoint\'s from_domain (the host part of From on outgoing calls); "" for none',
};

const fields = {
  context: v.pipe(value(about.context), v.minLength(1, 'must not be empty')),
  username: value(about.username),
  transport: value(about.transport),
  caller_id: value(about.caller_id),
  from_user: value(about.from_user),
  from_domain: value(about.from_domain),
  qualify_frequency: nonNegInt("seconds between OPTIONS to the provider (the AOR's qualify_frequency); 0: not qualified"),
};

export const TrunkStatusSchema = named(
  'TrunkStatus',
  obj(
    {
      loaded: bool("Asterisk has the trunk's endpoint now (false until the reload after a write, or when pjsip.conf does not load)"),
      registration: line(
        'the outbound registration\'s status as Asterisk reports it (Registered, Unregistered, Rejected, Failed ...); "" when the trunk does not register or Asterisk does not show the registration',
      ),
      qualify: line(
        'the status of the AOR\'s contact (the provider): Reachable, Unreachable (OPTIONS unanswered), NonQualified (qualify_frequency 0, or before the first OPTIONS, which Asterisk sends within one qualify_frequency), Unknown; "" when Asterisk shows no contact',
      ),
    },
    "live state, from the pjsip plugin's tables (kept current by Registry and ContactStatus events)",
  ),
);
export type TrunkStatus = Out<typeof TrunkStatusSchema>;

export const TrunkSectionSchema = named(
  'TrunkSection',
  obj({
    name: line("the section name (the trunk's name)"),
    type: oneOf(TRUNK_TYPES, 'its type= option'),
  }),
);

const trunkEntries = {
  name: line('the trunk name: the name of each of its sections'),
  hostname: line('the provider, host[:port] (the AOR\'s contact; "" when a hand-made trunk names none)'),
  username: line(about.username),
  context: line(about.context),
  register: bool('true when the trunk registers to the provider (it has a registration section)'),
  transport: line(about.transport),
  allow: line("the endpoint's codecs, comma-separated"),
  caller_id: line(about.caller_id),
  from_user: line(about.from_user),
  from_domain: line(about.from_domain),
  qualify_frequency: fields.qualify_frequency,
  status: TrunkStatusSchema,
  sections: list(TrunkSectionSchema, 'the sections of pjsip.conf the trunk owns, in file order'),
};

export const TrunkSchema = named(
  'Trunk',
  obj(
    trunkEntries,
    'A SIP provider: same-named sections of pjsip.conf (endpoint, aor, identify; auth when it has a username; registration when it registers). The password is never answered.',
  ),
);
export type Trunk = Out<typeof TrunkSchema>;

const written = {
  backup: nullable(line('the backup of pjsip.conf as it was; null when nothing changed')),
  reload: ReloadOutcomeSchema,
};

export const TrunkWrittenSchema = named(
  'TrunkWritten',
  obj({ ...trunkEntries, ...written }, 'the trunk as written, with the backup and the reload of res_pjsip'),
);
export const TrunkDeletedSchema = named(
  'TrunkDeleted',
  obj({ name: line('the trunk name'), sections: list(TrunkSectionSchema, 'the sections removed'), ...written }),
);

const readOnly = {
  status: ignored('read-only: live state; accepted and ignored'),
  sections: ignored('read-only: the sections the trunk owns; accepted and ignored'),
};

export const TrunkCreateSchema = named(
  'TrunkCreate',
  obj({
    name: TrunkNameSchema,
    hostname: hostname(
      "the provider: host[:port], e.g. sip.example.com or 192.0.2.10:5060 (the AOR's contact, the identify match, the registration's server_uri)",
    ),
    context: fields.context,
    username: opt(fields.username),
    password: opt(password()),
    register: opt(bool('register to the provider (default false; needs a username)')),
    transport: opt(fields.transport),
    allow: opt(allow()),
    caller_id: opt(fields.caller_id),
    from_user: opt(fields.from_user),
    from_domain: opt(fields.from_domain),
    qualify_frequency: opt(fields.qualify_frequency),
    ...readOnly,
  }),
);
export type TrunkCreate = Out<typeof TrunkCreateSchema>;

export const TrunkUpdateSchema = named(
  'TrunkUpdate',
  obj({
    name: opt(v.pipe(TrunkPathNameSchema, v.description('the name in the URL (renaming is not supported)'))),
    hostname: opt(hostname('the provider: host[:port]')),
    context: opt(fields.context),
    username: opt(fields.username),
    password: opt(password()),
    register: opt(bool('register to the provider (needs a username)')),
    transport: opt(fields.transport),
    allow: opt(allow()),
    caller_id: opt(fields.caller_id),
    from_user: opt(fields.from_user),
    from_domain: opt(fields.from_domain),
    qualify_frequency: opt(fields.qualify_frequency),
    ...readOnly,
  }),
);
export type TrunkUpdate = Out<typeof TrunkUpdateSchema>;

/** A removable option in a PATCH: null removes it, as "" does. */
const removable = <S extends v.GenericSchema<unknown, string>>(s: S) =>
  v.optional(
    v.pipe(
      v.nullable(s),
      v.transform((x): string => x ?? ''),
    ),
  );

/**
 * PATCH /manager/trunks/<name>: the fields given change, the rest keep their value. null removes an optional option
 * (transport, caller_id, from_user, from_domain; username: the auth section), like ""; the other fields cannot be
 * removed, so null is refused for them.
 */
export const TrunkPatchSchema = named(
  'TrunkPatch',
  obj({
    name: v.optional(v.pipe(TrunkPathNameSchema, v.description('the name in the URL (renaming is not supported)'))),
    hostname: v.optional(hostname('the provider: host[:port]')),
    context: v.optional(fields.context),
    username: removable(fields.username),
    password: v.optional(password()),
    register: v.optional(bool('register to the provider (needs a username); false removes the registration')),
    transport: removable(fields.transport),
    allow: v.optional(allow()),
    caller_id: removable(fields.caller_id),
    from_user: removable(fields.from_user),
    from_domain: removable(fields.from_domain),
    qualify_frequency: v.optional(fields.qualify_frequency),
    ...readOnly,
  }),
);

/** What the endpoint's allow is on a new trunk that does not say. */
export const DEFAULT_ALLOW = 'ulaw,alaw';
/** qualify_frequency of a new trunk that does not say: the provider is asked every minute whether it answers. */
export const DEFAULT_QUALIFY_FREQUENCY = 60;
