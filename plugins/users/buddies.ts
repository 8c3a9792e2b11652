// Buddies: the caller's own list of other gateway users (spec: /me/buddies; /me/buddies/<uuid> added for the rest
// of CRUD). A buddy is {"uuid", "uuid_user", "name", "detail"}; name and detail are null until set, as in the spec.
import type { Accounts } from '../../core/auth/accounts.ts';
import { route } from '../../core/contract/route.ts';
import { list, pathName } from '../../core/contract/schema.ts';
import type { Router } from '../../core/plugins/contract.ts';
import type { Collection, Store } from '../../core/store/store.ts';
import { ok } from '../../core/http/envelope.ts';
import { badRequest, conflict, forbidden, notFound } from '../../core/http/errors.ts';
import { type Buddy, BuddyCreateBody, BuddySchema, BuddyUpdateBody } from './schemas.ts';

/** A buddy as stored: the answered fields plus whose list it is on (not shown: it is always the caller's). */
export type BuddyRecord = Buddy & { user_uuid: string };

export class BuddyService {
  readonly buddies: Collection<BuddyRecord>;

  constructor(
    store: Store,
    private readonly accounts: Accounts,
  ) {
    this.buddies = store.collection<BuddyRecord>('buddies');
  }

  static view(b: BuddyRecord): Buddy {
    return { uuid: b.uuid, uuid_user: b.uuid_user, name: b.name, detail: b.detail, tm_create: b.tm_create, tm_update: b.tm_update };
  }

  list(me: string): Buddy[] {
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
    const patch: Partial<Omit<BuddyRecord, 'uuid' | 'tm_create' | 'tm_update'>> = {};
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

const tags = ['buddies'];
const buddyParam = { uuid: pathName('buddy entry uuid') };

export function registerBuddyRoutes(r: Router, buddies: BuddyService): void {
  // As the spec shows it, the list is a JSON array in `result`.
  r.add(
    route({
      method: 'GET',
      path: '/me/buddies',
      summary: "The caller's buddies (a JSON array, as the spec answers)",
      tags,
      responses: { 200: list(BuddySchema) },
      handler: (c) => ok(buddies.list(c.get('userUuid'))),
    }),
  );
  r.add(
    route({
      method: 'POST',
      path: '/me/buddies',
      summary: "Add a user to the caller's buddies",
      tags,
      body: BuddyCreateBody,
      responses: { 200: BuddySchema },
      errors: [404, 409],
      handler: async (c, { body }) => ok(BuddyService.view(await buddies.create(c.get('userUuid'), body))),
    }),
  );
  r.add(
    route({
      method: 'GET',
      path: '/me/buddies/:uuid',
      summary: "One of the caller's buddies",
      tags,
      params: buddyParam,
      responses: { 200: BuddySchema },
      errors: [403, 404],
      handler: (c, { params }) => ok(BuddyService.view(buddies.own(c.get('userUuid'), params.uuid))),
    }),
  );
  r.add(
    route({
      method: 'PUT',
      path: '/me/buddies/:uuid',
      summary: 'Rename a buddy, or point the entry at another user',
      tags,
      params: buddyParam,
      body: BuddyUpdateBody,
      responses: { 200: BuddySchema },
      errors: [403, 404, 409],
      handler: async (c, { params, body }) => ok(BuddyService.view(await buddies.update(c.get('userUuid'), params.uuid, body))),
    }),
  );
  r.add(
    route({
      method: 'DELETE',
      path: '/me/buddies/:uuid',
      summary: 'Remove a buddy',
      tags,
      params: buddyParam,
      responses: { 200: null },
      errors: [403, 404],
      handler: async (c, { params }) => {
        await buddies.remove(c.get('userUuid'), params.uuid);
        return ok();
      },
    }),
  );
}
