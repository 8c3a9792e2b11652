// Contacts: what an administrator assigns to a user to call with, e.g. a PJSIP endpoint
// {"type": "pjsip_endpoint", "target": "199", "name", "detail", "info": {"id", "password", "public_url", "realm"}}.
// Admins manage them at /admin/user/contacts (+ /<uuid>); a user lists their own at /me/contacts (and in /me/info).
import type { Accounts } from '../../core/auth/accounts.ts';
import { route } from '../../core/contract/route.ts';
import { listOf, opt, line, pathName } from '../../core/contract/schema.ts';
import type { Router } from '../../core/plugins/contract.ts';
import type { Collection, Store } from '../../core/store/store.ts';
import { ok } from '../../core/http/envelope.ts';
import { notFound } from '../../core/http/errors.ts';
import { type Contact, ContactCreateBody, type ContactInfo, ContactSchema, ContactUpdateBody } from './schemas.ts';

type ContactFields = Omit<Contact, 'uuid' | 'tm_create' | 'tm_update'>;

/**
 * Keys of `info` that hold a secret. Passwords are stored (the contact needs them) but never returned in clear:
 * every answer shows them as "" (the key stays, so the shape is the spec's), as for PJSIP auths. A PUT that sends
 * "" for one keeps the stored value, so a client may send back what it read; leave the key out to remove it.
 */
export const INFO_SECRETS: ReadonlySet<string> = new Set([
  'password',
  'secret',
  'md5_cred',
  'password_digest',
  'oauth_secret',
  'refresh_token',
]);

export class ContactService {
  readonly contacts: Collection<Contact>;

  constructor(
    store: Store,
    private readonly accounts: Accounts,
  ) {
    this.contacts = store.collection<Contact>('contacts');
  }

  /** What the API shows: the record with its secrets blanked. */
  static view(c: Contact): Contact {
    const info: ContactInfo = {};
    for (const [k, v] of Object.entries(c.info)) info[k] = INFO_SECRETS.has(k) ? '' : v;
    return {
      uuid: c.uuid,
      user_uuid: c.user_uuid,
      type: c.type,
      target: c.target,
      name: c.name,
      detail: c.detail,
      info,
      tm_create: c.tm_create,
      tm_update: c.tm_update,
    };
  }

  list(userUuid?: string): Contact[] {
    const rows = userUuid === undefined ? this.contacts.all() : this.contacts.filter((c) => c.user_uuid === userUuid);
    return rows.map(ContactService.view);
  }

  get(uuid: string): Contact {
    const c = this.contacts.get(uuid);
    if (!c) throw notFound(`no contact with uuid ${uuid}`);
    return c;
  }

  private user(uuid: string): string {
    if (!this.accounts.users.get(uuid)) throw notFound(`user_uuid: no user with uuid ${uuid}`);
    return uuid;
  }

  /** A secret sent back as "" (as every answer shows it) keeps the stored value. */
  private static info(sent: ContactInfo, stored: ContactInfo = {}): ContactInfo {
    const out: ContactInfo = {};
    for (const [k, x] of Object.entries(sent)) out[k] = x === '' && INFO_SECRETS.has(k) && k in stored ? stored[k]! : x;
    return out;
  }

  async create(f: {
    user_uuid: string;
    type: string;
    target: string;
    name?: string;
    detail?: string;
    info?: ContactInfo;
  }): Promise<Contact> {
    return this.contacts.insert({
      user_uuid: this.user(f.user_uuid),
      type: f.type,
      target: f.target,
      name: f.name ?? '',
      detail: f.detail ?? '',
      info: ContactService.info(f.info ?? {}),
    });
  }

  async update(uuid: string, f: Partial<ContactFields>): Promise<Contact> {
    const c = this.get(uuid);
    const patch: Partial<ContactFields> = {};
    if (f.user_uuid !== undefined) patch.user_uuid = this.user(f.user_uuid);
    if (f.type !== undefined) patch.type = f.type;
    if (f.target !== undefined) patch.target = f.target;
    if (f.name !== undefined) patch.name = f.name;
    if (f.detail !== undefined) patch.detail = f.detail;
    if (f.info !== undefined) patch.info = ContactService.info(f.info, c.info);
    return (await this.contacts.update(uuid, patch))!;
  }

  async remove(uuid: string): Promise<void> {
    this.get(uuid);
    await this.contacts.remove(uuid);
  }
}

const tags = ['contacts'];
const contactParam = { uuid: pathName('contact uuid') };

export function registerContactRoutes(r: Router, contacts: ContactService): void {
  // ---- administrators: every user's contacts; ?user_uuid= narrows the list ----
  r.add(
    route({
      method: 'GET',
      path: '/admin/user/contacts',
      summary: "Every user's contacts",
      tags,
      query: { user_uuid: opt(line("only this user's contacts")) },
      responses: { 200: listOf(ContactSchema) },
      handler: (_c, { query }) => ok({ list: contacts.list(query.user_uuid) }),
    }),
  );
  r.add(
    route({
      method: 'POST',
      path: '/admin/user/contacts',
      summary: 'Assign a contact to a user',
      tags,
      body: ContactCreateBody,
      responses: { 200: ContactSchema },
      errors: [404],
      handler: async (_c, { body }) => ok(ContactService.view(await contacts.create(body))),
    }),
  );
  r.add(
    route({
      method: 'GET',
      path: '/admin/user/contacts/:uuid',
      summary: 'One contact',
      tags,
      params: contactParam,
      responses: { 200: ContactSchema },
      errors: [404],
      handler: (_c, { params }) => ok(ContactService.view(contacts.get(params.uuid))),
    }),
  );
  r.add(
    route({
      method: 'PUT',
      path: '/admin/user/contacts/:uuid',
      summary: 'Change a contact',
      tags,
      params: contactParam,
      body: ContactUpdateBody,
      responses: { 200: ContactSchema },
      errors: [404],
      handler: async (_c, { params, body }) => ok(ContactService.view(await contacts.update(params.uuid, body))),
    }),
  );
  r.add(
    route({
      method: 'DELETE',
      path: '/admin/user/contacts/:uuid',
      summary: 'Delete a contact',
      tags,
      params: contactParam,
      responses: { 200: null },
      errors: [404],
      handler: async (_c, { params }) => {
        await contacts.remove(params.uuid);
        return ok();
      },
    }),
  );

  // ---- the caller's own ----
  r.add(
    route({
      method: 'GET',
      path: '/me/contacts',
      summary: "The caller's contacts",
      tags,
      responses: { 200: listOf(ContactSchema) },
      handler: (c) => ok({ list: contacts.list(c.get('userUuid')) }),
    }),
  );
}
