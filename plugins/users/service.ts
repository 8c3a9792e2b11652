// User and permission use cases shared by the admin, manager and me routes. Passwords go in as text and are
// stored only as scrypt hashes; nothing here ever returns one. Shapes are checked by the routes' schemas
// (schemas.ts); what is left here are the rules: unique usernames, one record per permission, always an admin.
import type { Accounts, Role, UserRecord } from '../../core/auth/accounts.ts';
import { publicUser } from '../../core/auth/accounts.ts';
import { hashPassword } from '../../core/auth/passwords.ts';
import type { PluginContext } from '../../core/plugins/contract.ts';
import { conflict, notFound } from '../../core/http/errors.ts';
import type { PermissionView, UserView } from './schemas.ts';

/** A user as stored: core's record plus the spec's dialplan context. */
type StoredUser = UserRecord & { context?: string };

export interface UserFields {
  username?: string;
  password?: string;
  name?: string;
  context?: string;
  permissions?: { permission: Role }[];
}

export class UserService {
  /** Run after a user is deleted, so what hangs off the user (contacts, buddies, chat memberships) goes too. */
  readonly onRemoved: ((userUuid: string) => Promise<void> | void)[] = [];

  constructor(
    private readonly accounts: Accounts,
    private readonly sessions: PluginContext['sessions'],
  ) {}

  view(u: StoredUser): UserView {
    return {
      ...publicUser(u),
      context: u.context ?? '',
      permissions: [...this.accounts.rolesOf(u.uuid)].map((permission) => ({ permission })),
    };
  }

  list(): UserView[] {
    return this.accounts.users.all().map((u) => this.view(u));
  }

  get(uuid: string): StoredUser {
    const u = this.accounts.users.get(uuid);
    if (!u) throw notFound(`no user with uuid ${uuid}`);
    return u;
  }

  isAdmin(uuid: string): boolean {
    return this.accounts.rolesOf(uuid).has('admin');
  }

  private checkUsername(username: string, exceptUuid?: string): void {
    const other = this.accounts.byUsername(username);
    if (other && other.uuid !== exceptUuid) throw conflict(`username ${username} is taken`);
  }

  async create(f: UserFields & { username: string; password: string }): Promise<StoredUser> {
    this.checkUsername(f.username);
    const fields: Omit<StoredUser, 'uuid' | 'tm_create' | 'tm_update'> = {
      username: f.username,
      name: f.name ?? f.username,
      password_hash: await hashPassword(f.password),
      context: f.context ?? '',
    };
    const u = await this.accounts.users.insert(fields);
    const roles = f.permissions?.map((p) => p.permission) ?? ['user'];
    for (const role of new Set<Role>(roles)) await this.accounts.grant(u.uuid, role);
    return u;
  }

  async update(uuid: string, f: UserFields): Promise<StoredUser> {
    this.get(uuid);
    const roles = f.permissions?.map((p) => p.permission);
    if (f.username !== undefined) this.checkUsername(f.username, uuid);
    if (roles && !roles.includes('admin')) this.keepAnAdmin(uuid);
    const patch: Partial<Omit<StoredUser, 'uuid' | 'tm_create' | 'tm_update'>> = {};
    if (f.username !== undefined) patch.username = f.username;
    if (f.name !== undefined) patch.name = f.name;
    if (f.context !== undefined) patch.context = f.context;
    if (f.password !== undefined) patch.password_hash = await hashPassword(f.password);
    const u = (await this.accounts.users.update(uuid, patch))!;
    if (roles) {
      const want = new Set(roles);
      await this.accounts.permissions.removeWhere((p) => p.user_uuid === uuid && !want.has(p.permission));
      for (const role of want) await this.accounts.grant(uuid, role);
    }
    if (f.password !== undefined) this.sessions.revokeUser(uuid); // a changed password ends old sessions
    return u;
  }

  async remove(uuid: string): Promise<void> {
    this.get(uuid);
    this.keepAnAdmin(uuid);
    await this.accounts.permissions.removeWhere((p) => p.user_uuid === uuid);
    await this.accounts.users.remove(uuid);
    this.sessions.revokeUser(uuid);
    for (const fn of this.onRemoved) await fn(uuid);
  }

  /** Refuse a change that would leave the gateway without any administrator. */
  private keepAnAdmin(losingUuid: string, losingPermissionUuid?: string): void {
    const admins = this.accounts.permissions.filter(
      (p) => p.permission === 'admin' && p.user_uuid !== losingUuid && p.uuid !== losingPermissionUuid,
    );
    const losing = this.accounts.permissions.filter(
      (p) => p.permission === 'admin' && (p.user_uuid === losingUuid || p.uuid === losingPermissionUuid),
    );
    if (losing.length > 0 && admins.length === 0) throw conflict('refused: this would remove the last administrator');
  }

  // ---- permissions as records ----
  private static permissionView(p: PermissionView): PermissionView {
    return { uuid: p.uuid, user_uuid: p.user_uuid, permission: p.permission, tm_create: p.tm_create, tm_update: p.tm_update };
  }

  listPermissions(userUuid?: string): PermissionView[] {
    const rows = userUuid ? this.accounts.permissions.filter((p) => p.user_uuid === userUuid) : this.accounts.permissions.all();
    return rows.map(UserService.permissionView);
  }

  permission(uuid: string): PermissionView {
    const p = this.accounts.permissions.get(uuid);
    if (!p) throw notFound(`no permission with uuid ${uuid}`);
    return UserService.permissionView(p);
  }

  async grant(userUuid: string, role: Role): Promise<PermissionView> {
    this.get(userUuid);
    const existing = this.accounts.permissions.find((p) => p.user_uuid === userUuid && p.permission === role);
    if (existing) throw conflict(`user ${userUuid} already has the ${role} permission (${existing.uuid})`);
    return UserService.permissionView(await this.accounts.grant(userUuid, role));
  }

  async changePermission(uuid: string, role: Role): Promise<PermissionView> {
    const p = this.permission(uuid);
    if (p.permission === 'admin' && role !== 'admin') this.keepAnAdmin('', uuid);
    const dup = this.accounts.permissions.find((q) => q.user_uuid === p.user_uuid && q.permission === role && q.uuid !== uuid);
    if (dup) throw conflict(`user ${p.user_uuid} already has the ${role} permission (${dup.uuid})`);
    return UserService.permissionView((await this.accounts.permissions.update(uuid, { permission: role }))!);
  }

  async revoke(uuid: string): Promise<void> {
    const p = this.permission(uuid);
    if (p.permission === 'admin') this.keepAnAdmin('', uuid);
    await this.accounts.permissions.remove(uuid);
  }
}
