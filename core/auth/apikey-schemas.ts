// The shapes of /admin/apikeys: what a client sends to create a key, and a key as listed (never its secret).
import { ROLES, type Role } from './accounts.ts';
import { line, list, name, named, nullable, obj, oneOf, opt, type Out, v } from '../contract/schema.ts';
import { parseNetwork } from './apikeys.ts';

const ISO_DATE_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d{1,9})?)?(Z|[+-]\d\d:\d\d)$/;

/** An ISO 8601 date and time with its zone, as the UTC ISO string it stands for. */
const dateTime = (description: string) =>
  v.pipe(
    v.string('must be a string'),
    v.check(
      (s) => ISO_DATE_TIME.test(s) && !Number.isNaN(Date.parse(s)),
      'must be an ISO 8601 date and time with a zone (2030-01-31T12:00:00Z)',
    ),
    v.transform((s) => new Date(s).toISOString()),
    v.description(description),
  );

/** A client network: CIDR, IPv4 or IPv6; a bare address is one host. */
const network = v.pipe(
  v.string('must be a string'),
  v.check((s) => parseNetwork(s) !== undefined, 'must be a network in CIDR form (192.0.2.0/24, 2001:db8::/32) or one address'),
  v.description('a client network in CIDR form, IPv4 or IPv6'),
);

const RoleSchema = oneOf(ROLES as readonly [Role, ...Role[]], 'the role the key acts with: admin, manager or user');

export const ApiKeyCreateBody = named(
  'ApiKeyCreate',
  obj({
    name: name('what the key is for (the CRM, the wallboard ...)'),
    role: RoleSchema,
    expires_at: opt(dateTime('when the key stops working; none: it does not expire')),
    allowed_networks: opt(list(network, 'the networks the key may be used from (the socket address); none or []: any')),
  }),
);

const apiKeyEntries = {
  id: line("the key's id (DELETE /admin/apikeys/<id> revokes it)"),
  name: line(),
  role: RoleSchema,
  created: line('ISO 8601 time it was created'),
  expires_at: nullable(line('ISO 8601 time it stops working')),
  allowed_networks: list(line(), 'the networks it may be used from; [] for any'),
  last_used: nullable(line('ISO 8601 time it was last accepted (written to disk at most once a minute)')),
};

/** A key as listed: never the key or its hash. */
export const ApiKeySchema = named('ApiKey', obj(apiKeyEntries));
export type ApiKeyView = Out<typeof ApiKeySchema>;

/** The answer to a create: the key, shown this once. */
export const ApiKeyCreatedSchema = named(
  'ApiKeyCreated',
  obj({ ...apiKeyEntries, key: line('the key: pass it as Authorization: Bearer or ?authtoken=; it is not shown again') }),
);
