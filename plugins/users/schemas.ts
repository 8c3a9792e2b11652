// The users plugin's objects as answered, taken and published: users, permissions, contacts and buddies. The one
// declaration of each shape; the TypeScript types derive from it.
import { ROLES, type Role } from '../../core/auth/accounts.ts';
import { event } from '../../core/contract/events.ts';
import { bool, ignored, line, list, name, named, nullable, num, obj, oneOf, opt, type Out, v } from '../../core/contract/schema.ts';

/** Fields every stored record answers with, that a client may send back: accepted and ignored. */
export const readOnly = { uuid: ignored(), tm_create: ignored(), tm_update: ignored() };

const stored = {
  uuid: line("the record's uuid"),
  tm_create: line('ISO 8601 time it was created'),
  tm_update: line('ISO 8601 time it was last changed'),
};

// ---- users and permissions ----

/** A permission, as UserService grants it: the roles of core/auth/accounts.ts. */
export const RoleSchema = oneOf(ROLES as readonly [Role, ...Role[]], 'a permission: admin, manager or user');

/** One entry of a user's `permissions` (the spec's [{"permission": "user"}]). */
export const UserPermissionSchema = named('UserPermission', obj({ permission: RoleSchema }));

const userEntries = {
  uuid: stored.uuid,
  username: line(),
  name: line(),
  context: line('the user\'s dialplan context ("" when unset)'),
  permissions: list(UserPermissionSchema),
  tm_create: stored.tm_create,
  tm_update: stored.tm_update,
};

/** A user as answered: never the password or its hash. */
export const UserSchema = named('User', obj(userEntries));
export type UserView = Out<typeof UserSchema>;

/** The permission records of /admin/user/permissions. */
export const PermissionSchema = named('Permission', obj({ ...stored, user_uuid: line(), permission: RoleSchema }));
export type PermissionView = Out<typeof PermissionSchema>;

const USERNAME_RULE = '1-64 letters, digits or . _ @ -';
const username = v.pipe(v.string('must be a string'), v.regex(/^[A-Za-z0-9._@-]{1,64}$/, USERNAME_RULE), v.description(USERNAME_RULE));
const password = name('stored only as a scrypt hash; never answered');
const permissions = list(UserPermissionSchema, 'replaces the user\'s permissions; [{"permission": "user"}] when a user is created without');

export const UserCreateBody = obj({
  username,
  password,
  name: opt(line('defaults to the username')),
  context: opt(line()),
  permissions: opt(permissions),
  ...readOnly,
});

export const UserUpdateBody = obj({
  username: opt(username),
  password: opt(password),
  name: opt(line()),
  context: opt(line()),
  permissions: opt(permissions),
  ...readOnly,
});

/** PUT /admin/info, /me/info: one's own name and password; the rest is an administrator's to change. */
export const OwnInfoBody = obj({
  name: opt(line()),
  password: opt(password),
  ...readOnly,
  username: ignored('read-only here (an administrator changes it); accepted and ignored'),
  context: ignored('read-only here (an administrator changes it); accepted and ignored'),
  permissions: ignored('read-only here (an administrator changes them); accepted and ignored'),
});

export const PermissionCreateBody = obj({ user_uuid: line(), permission: RoleSchema, ...readOnly });
export const PermissionUpdateBody = obj({
  permission: RoleSchema,
  ...readOnly,
  user_uuid: ignored('read-only: a permission stays with its user; accepted and ignored'),
});

// ---- contacts ----

/** A non-empty value; all blanks count as empty. */
const filled = (description?: string) =>
  v.pipe(
    name(description),
    v.check((s) => s.trim() !== '', 'must not be empty'),
  );

/** A value in a contact's `info`: it ends up in phone settings, so strings are single-line. */
const InfoValueSchema = v.union([line(), num(), bool()], 'must be a string, number or boolean');
const InfoSchema = v.record(line(), InfoValueSchema, 'must be a JSON object');

export const ContactSchema = named(
  'Contact',
  obj({
    ...stored,
    user_uuid: line('the user it is assigned to'),
    type: line('e.g. pjsip_endpoint'),
    target: line('e.g. the endpoint, 199'),
    name: line(),
    detail: line(),
    info: v.pipe(
      InfoSchema,
      v.description('flat settings, e.g. {"id", "password", "public_url", "realm"}; secrets (password, secret ...) are answered as ""'),
    ),
  }),
);
/** A contact as stored and answered (answers blank the secrets of `info`). */
export type Contact = Out<typeof ContactSchema>;
export type ContactInfo = Contact['info'];

const contactInfo = v.pipe(InfoSchema, v.description('"" for a secret keeps the stored value; a key left out is removed'));

export const ContactCreateBody = obj({
  user_uuid: line(),
  type: filled('e.g. pjsip_endpoint'),
  target: filled(),
  name: opt(line()),
  detail: opt(line()),
  info: opt(contactInfo),
  ...readOnly,
});

export const ContactUpdateBody = obj({
  user_uuid: opt(line()),
  type: opt(filled()),
  target: opt(filled()),
  name: opt(line()),
  detail: opt(line()),
  info: opt(contactInfo),
  ...readOnly,
});

// ---- buddies ----

export const BuddySchema = named(
  'Buddy',
  obj({
    uuid: stored.uuid,
    uuid_user: line('the buddy: a user uuid'),
    name: nullable(line()),
    detail: nullable(line()),
    tm_create: stored.tm_create,
    tm_update: stored.tm_update,
  }),
);
export type Buddy = Out<typeof BuddySchema>;

export const BuddyCreateBody = obj({ uuid_user: line(), name: opt(line()), detail: opt(line()), ...readOnly });
export const BuddyUpdateBody = obj({ uuid_user: opt(line()), name: opt(line()), detail: opt(line()), ...readOnly });

// ---- GET /me/info ----

/** The user fields of GET /me/info; the users plugin adds "contacts", other plugins their own fields ("chats"). */
export const meInfoEntries = {
  ...userEntries,
  contacts: list(ContactSchema, 'the caller\'s contacts (secrets answered as "")'),
  chats: list(v.never(), "the caller's chats; always [] while the chat plugin is not enabled"),
};

// ---- events ----

export const events = {
  userDeleted: event(
    'users.user.deleted',
    'a user was deleted (their permissions, contacts, buddies and sessions went with them)',
    obj({ uuid: line('the deleted user') }),
    { like: '/admin/user/users' },
  ),
};
