// Contacts: what an administrator assigns to a user to call with, e.g. a PJSIP endpoint
// {"type": "pjsip_endpoint", "target": "199", "name", "detail", "info": {"id", "password", "public_url", "realm"}}.
// Admins manage them at /admin/user/contacts (+ /<uuid>); a user lists their own at /me/contacts (and in /me/info).
import type { Accounts } from '../../core/auth/accounts.ts';
import type { Router } from '../../core/plugins/contract.ts';
import type { Collection, Store, StoredRecord } from '../../core/store/store.ts';
import { assertSingleLine, param, readJson, validate } from '../../core/http/body.ts';
import { ok } from '../../core/http/envelope.ts';
import { badRequest, notFound } from '../../core/http/errors.ts';

type InfoValue = string | number | boolean;

export interface ContactRecord extends StoredRecord {
  user_uuid: string;
  type: string;
  target: string;
  name: string;
  detail: string;
  info: Record<string, InfoValue>;
}

/** What the API shows: the record with its secrets blanked. */
export type ContactView = ContactRecord;

/**
 * Keys of `info` that hold a secret. Passwords are stored (the contact needs them) but never returned in clear:
 * every answer shows them as "" (the key stays, so the shape is the spec's), as for PJSIP auths. A PUT that sends
 * "" for one keeps the stored value, so a client may send back what it read; leave the key out to remove it.
 */
export const INFO_SECRETS: ReadonlySet<string> = new Set(['password', 'secret', 'md5_cred', 'password_digest', 'oauth_secret', 'refresh_token']);

const READ_ONLY = ['uuid', 'tm_create', 'tm_update'];

export class ContactService {
  readonly contacts: Collection<ContactRecord>;

  constructor(store: Store, private readonly accounts: Accounts) {
    this.contacts = store.collection<ContactRecord>('contacts');
  }

  static view(c: ContactRecord): ContactView {
    const info: Record<string, InfoValue> = {};
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

  list(userUuid?: string): ContactView[] {
    const rows = userUuid === undefined ? this.contacts.all() : this.contacts.filter((c) => c.user_uuid === userUuid);
    return rows.map(ContactService.view);
  }

  get(uuid: string): ContactRecord {
    const c = this.contacts.get(uuid);
    if (!c) throw notFound(`no contact with uuid ${uuid}`);
    return c;
  }

  private user(uuid: string): string {
    if (!this.accounts.users.get(uuid)) throw notFound(`user_uuid: no user with uuid ${uuid}`);
    return uuid;
  }

  /** `info` is a flat object of single-line strings, numbers and booleans (it ends up in phone settings). */
  private static info(v: Record<string, unknown>, stored: Record<string, InfoValue> = {}): Record<string, InfoValue> {
    const out: Record<string, InfoValue> = {};
    for (const [k, x] of Object.entries(v)) {
      assertSingleLine(k, 'info');
      if (typeof x === 'string') {
        assertSingleLine(x, `info.${k}`);
        out[k] = x === '' && INFO_SECRETS.has(k) && k in stored ? stored[k]! : x;
      } else if ((typeof x === 'number' && Number.isFinite(x)) || typeof x === 'boolean') {
        out[k] = x;
      } else {
        throw badRequest(`info.${k}: must be a string, number or boolean`, { field: 'info' });
      }
    }
    return out;
  }

  private static nonEmpty(v: string, field: string): string {
    if (v.trim() === '') throw badRequest(`${field}: must not be empty`, { field });
    return v;
  }

  async create(f: { user_uuid: string; type: string; target: string; name?: string; detail?: string; info?: Record<string, unknown> }): Promise<ContactRecord> {
    return this.contacts.insert({
      user_uuid: this.user(f.user_uuid),
      type: ContactService.nonEmpty(f.type, 'type'),
      target: ContactService.nonEmpty(f.target, 'target'),
      name: f.name ?? '',
      detail: f.detail ?? '',
      info: ContactService.info(f.info ?? {}),
    });
  }

  async update(uuid: string, f: { user_uuid?: string; type?: string; target?: string; name?: string; detail?: string; info?: Record<string, unknown> }): Promise<ContactRecord> {
    const c = this.get(uuid);
    const patch: Partial<ContactRecord> = {};
    if (f.user_uuid !== undefined) patch.user_uuid = this.user(f.user_uuid);
    if (f.type !== undefined) patch.type = ContactService.nonEmpty(f.type, 'type');
    if (f.target !== undefined) patch.target = ContactService.nonEmpty(f.target, 'target');
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

const contactShape = { user_uuid: 'string', type: 'string', target: 'string', name: 'string?', detail: 'string?', info: 'object?' } as const;

export function registerContactRoutes(r: Router, contacts: ContactService): void {
  // ---- administrators: every user's contacts; ?user_uuid= narrows the list ----
  r.get('/admin/user/contacts', (c) => ok({ list: contacts.list(c.req.query('user_uuid')) }));
  r.post('/admin/user/contacts', async (c) => {
    const b = validate(await readJson(c), contactShape, { ignore: READ_ONLY });
    return ok(ContactService.view(await contacts.create(b)));
  });
  r.get('/admin/user/contacts/:uuid', (c) => ok(ContactService.view(contacts.get(param(c, 'uuid')))));
  r.put('/admin/user/contacts/:uuid', async (c) => {
    const shape = { user_uuid: 'string?', type: 'string?', target: 'string?', name: 'string?', detail: 'string?', info: 'object?' } as const;
    const b = validate(await readJson(c), shape, { ignore: READ_ONLY });
    return ok(ContactService.view(await contacts.update(param(c, 'uuid'), b)));
  });
  r.delete('/admin/user/contacts/:uuid', async (c) => {
    await contacts.remove(param(c, 'uuid'));
    return ok();
  });

  // ---- the caller's own ----
  r.get('/me/contacts', (c) => ok({ list: contacts.list(c.get('userUuid') as string) }));
}
