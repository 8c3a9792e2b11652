// Users and their permissions. Core owns them because every plugin's routes are guarded by them; the users plugin
// only adds the admin CRUD routes on top.
import type { Collection, Store, StoredRecord } from '../store/store.ts';
import { hashPassword, verifyPassword } from './passwords.ts';

export type Role = 'admin' | 'manager' | 'user';
export const ROLES: readonly Role[] = ['admin', 'manager', 'user'];

export interface UserRecord extends StoredRecord {
  username: string;
  name: string;
  password_hash: string;
}

export interface PermissionRecord extends StoredRecord {
  user_uuid: string;
  permission: Role;
}

/** What the API shows of a user: never the password or its hash. */
export function publicUser(u: UserRecord) {
  return { uuid: u.uuid, username: u.username, name: u.name, tm_create: u.tm_create, tm_update: u.tm_update };
}

export class Accounts {
  readonly users: Collection<UserRecord>;
  readonly permissions: Collection<PermissionRecord>;

  constructor(store: Store) {
    this.users = store.collection<UserRecord>('users');
    this.permissions = store.collection<PermissionRecord>('permissions');
  }

  byUsername(username: string): UserRecord | undefined {
    return this.users.find((u) => u.username === username);
  }

  rolesOf(userUuid: string): Set<Role> {
    return new Set(this.permissions.filter((p) => p.user_uuid === userUuid).map((p) => p.permission));
  }

  async authenticate(username: string, password: string): Promise<UserRecord | undefined> {
    const u = this.byUsername(username);
    if (!u) {
      // Spend the same time as a real check so response timing does not reveal which usernames exist.
      await verifyPassword(password, DUMMY_HASH);
      return undefined;
    }
    return (await verifyPassword(password, u.password_hash)) ? u : undefined;
  }

  async createUser(fields: { username: string; name: string; password: string }): Promise<UserRecord> {
    return this.users.insert({ username: fields.username, name: fields.name, password_hash: await hashPassword(fields.password) });
  }

  async grant(userUuid: string, permission: Role): Promise<PermissionRecord> {
    const existing = this.permissions.find((p) => p.user_uuid === userUuid && p.permission === permission);
    return existing ?? this.permissions.insert({ user_uuid: userUuid, permission });
  }

  /** First start on an empty store: create the administrator named in gateway.yaml. */
  async bootstrap(admin: { username: string; password: string } | null): Promise<UserRecord | undefined> {
    if (!admin || this.users.all().length > 0) return undefined;
    const u = await this.createUser({ username: admin.username, name: admin.username, password: admin.password });
    await this.grant(u.uuid, 'admin');
    return u;
  }
}

const DUMMY_HASH = 'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';
