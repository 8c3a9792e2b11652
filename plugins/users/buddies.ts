// Buddies: the caller's own list of other gateway users (spec: /me/buddies; /me/buddies/<uuid> added for the rest
// of CRUD). A buddy is {"uuid", "uuid_user", "name", "detail"}; name and detail are null until set, as in the spec.
import type { Context } from 'hono';
import type { Accounts } from '../../core/auth/accounts.ts';
import type { Router } from '../../core/plugins/contract.ts';
import type { Collection, Store, StoredRecord } from '../../core/store/store.ts';
import { param, readJson, validate } from '../../core/http/body.ts';
import { ok } from '../../core/http/envelope.ts';
import { badRequest, conflict, forbidden, notFound } from '../../core/http/errors.ts';

export interface BuddyRecord extends StoredRecord {
  /** Whose list this buddy is on (not shown: it is always the caller). */
  user_uuid: string;
  /** The buddy. */
  uuid_user: string;
  name: string | null;
  detail: string | null;
}

export interface BuddyView {
  uuid: string;
  uuid_user: string;
  name: string | null;
  detail: string | null;
  tm_create: string;
  tm_update: string;
}

const READ_ONLY = ['uuid', 'tm_create', 'tm_update'];

export class BuddyService {
  readonly buddies: Collection<BuddyRecord>;

  constructor(store: Store, private readonly accounts: Accounts) {
    this.buddies = store.collection<BuddyRecord>('buddies');
  }

  static view(b: BuddyRecord): BuddyView {
    return { uuid: b.uuid, uuid_user: b.uuid_user, name: b.name, detail: b.detail, tm_create: b.tm_create, tm_update: b.tm_update };
  }

  list(me: string): BuddyView[] {
    return this.buddies.filter((b) => b.user_uuid === me).map(BuddyService.view);
  }

  /** 404 if there is no such buddy entry, 403 if it is on another user's list. */
  own(me: string, uuid: string): BuddyRecord {
    const b = this.buddies.get(uuid);
    if (!b) throw notFound(`no buddy with uuid ${uuid}`);
    if (b.user_uuid !== me) throw forbidden(`buddy ${uuid} is on another user's list`);
    return b;
  }

  private buddy(me: string, uuidUser: string, exceptUuid?: string): string {
    if (uuidUser === me) throw badRequest('uuid_user: you cannot be your own buddy', { field: 'uuid_user' });
    if (!this.accounts.users.get(uuidUser)) throw notFound(`uuid_user: no user with uuid ${uuidUser}`);
    const dup = this.buddies.find((b) => b.user_uuid === me && b.uuid_user === uuidUser && b.uuid !== exceptUuid);
    if (dup) throw conflict(`user ${uuidUser} is already your buddy (${dup.uuid})`);
    return uuidUser;
  }

  async create(me: string, f: { uuid_user: string; name?: string; detail?: string }): Promise<BuddyRecord> {
    return this.buddies.insert({ user_uuid: me, uuid_user: this.buddy(me, f.uuid_user), name: f.name ?? null, detail: f.detail ?? null });
  }

  async update(me: string, uuid: string, f: { uuid_user?: string; name?: string; detail?: string }): Promise<BuddyRecord> {
    this.own(me, uuid);
    const patch: Partial<BuddyRecord> = {};
    if (f.uuid_user !== undefined) patch.uuid_user = this.buddy(me, f.uuid_user, uuid);
    if (f.name !== undefined) patch.name = f.name;
    if (f.detail !== undefined) patch.detail = f.detail;
    return (await this.buddies.update(uuid, patch))!;
  }

  async remove(me: string, uuid: string): Promise<void> {
    this.own(me, uuid);
    await this.buddies.remove(uuid);
  }
}

const me = (c: Context) => c.get('userUuid') as string;

export function registerBuddyRoutes(r: Router, buddies: BuddyService): void {
  // As the spec shows it, the list is a JSON array in `result`.
  r.get('/me/buddies', (c) => ok(buddies.list(me(c))));
  r.post('/me/buddies', async (c) => {
    const b = validate(await readJson(c), { uuid_user: 'string', name: 'string?', detail: 'string?' }, { ignore: READ_ONLY });
    return ok(BuddyService.view(await buddies.create(me(c), b)));
  });
  r.get('/me/buddies/:uuid', (c) => ok(BuddyService.view(buddies.own(me(c), param(c, 'uuid')))));
  r.put('/me/buddies/:uuid', async (c) => {
    const b = validate(await readJson(c), { uuid_user: 'string?', name: 'string?', detail: 'string?' }, { ignore: READ_ONLY });
    return ok(BuddyService.view(await buddies.update(me(c), param(c, 'uuid'), b)));
  });
  r.delete('/me/buddies/:uuid', async (c) => {
    await buddies.remove(me(c), param(c, 'uuid'));
    return ok();
  });
}
