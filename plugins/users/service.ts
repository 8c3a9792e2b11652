// User and permission use cases shared by the admin, manager and me routes. Passwords go in as text and are
// stored only as scrypt hashes; nothing here ever returns one.
import type { Accounts, PermissionRecord, Role, UserRecord } from '../../core/auth/accounts.ts';
import { ROLES, publicUser } from '../../core/auth/accounts.ts';
import { hashPassword } from '../../core/auth/passwords.ts';
import type { TokenRevoker } from './index.ts';
import { badRequest, conflict, notFound } from '../../core/http/errors.ts';

const USERNAME = /^[A-Za-z0-9._@-]{1,64}$/;

export interface UserView {
  uuid: string;
  username: string;
  name: string;
  context: string;
  permissions: { permission: Role }[];
  tm_create: string;
  tm_update: string;
}

export class UserService {
  /** Run after a user is deleted, so what hangs off the user (contacts, buddies, chat memberships) goes too. */
  readonly onRemoved: ((userUuid: string) => Promise<void> | void)[] = [];

  constructor(private readonly accounts: Accounts, private readonly tokens: TokenRevoker) {}

  view(u: UserRecord): UserView {
    return {
      ...publicUser(u),
      context: (u as UserRecord & { context?: string }).context ?? '',
      permissions: [...this.accounts.rolesOf(u.uuid)].map((permission) => ({ permission })),
    };
  }

  list(): UserView[] {
    return this.accounts.users.all().map((u) => this.view(u));
  }

  get(uuid: string): UserRecord {
    const u = this.accounts.users.get(uuid);
    if (!u) throw notFound(`no user with uuid ${uuid}`);
    return u;
  }

  static role(v: unknown, field = 'permission'): Role {
    if (typeof v !== 'string' || !ROLES.includes(v as Role)) throw badRequest(`${field}: must be one of ${ROLES.join(', ')}`);
    return v as Role;
  }

  static permissionList(v: unknown): Role[] {
    if (!Array.isArray(v)) throw badRequest('permissions: must be an array like [{"permission": "user"}]');
    return v.map((p, i) => {
      if (!p || typeof p !== 'object' || Array.isArray(p)) throw badRequest(`permissions[${i}]: must be an object`);
      return UserService.role((p as { permission?: unknown }).permission, `permissions[${i}].permission`);
    });
  }

  private checkUsername(username: string, exceptUuid?: string): void {
    if (!USERNAME.test(username)) throw badRequest('username: 1-64 letters, digits or . _ @ -');
    const other = this.accounts.byUsername(username);
    if (other && other.uuid !== exceptUuid) throw conflict(`username ${username} is taken`);
  }

  async create(f: { username: string; password: string; name?: string; context?: string; permissions?: Role[] }): Promise<UserRecord> {
    this.checkUsername(f.username);
    if (f.password.length < 1) throw badRequest('password: must not be empty');
    const u = await this.accounts.users.insert({
      username: f.username,
      name: f.name ?? f.username,
      password_hash: await hashPassword(f.password),
      context: f.context ?? '',
    } as Omit<UserRecord, 'uuid' | 'tm_create' | 'tm_update'>);
    for (const role of new Set<Role>(f.permissions ?? ['user'])) await this.accounts.grant(u.uuid, role);
    return u;
  }

  async update(uuid: string, f: { username?: string; password?: string; name?: string; context?: string; permissions?: Role[] }): Promise<UserRecord> {
    const u = this.get(uuid);
    if (f.username !== undefined) this.checkUsername(f.username, uuid);
    if (f.permissions && !f.permissions.includes('admin')) this.keepAnAdmin(uuid);
    const patch: Record<string, unknown> = {};
    if (f.username !== undefined) patch.username = f.username;
    if (f.name !== undefined) patch.name = f.name;
    if (f.context !== undefined) patch.context = f.context;
    if (f.password !== undefined) {
      if (f.password.length < 1) throw badRequest('password: must not be empty');
      patch.password_hash = await hashPassword(f.password);
    }
    await this.accounts.users.update(uuid, patch as Partial<UserRecord>);
    if (f.permissions) {
      const want = new Set(f.permissions);
      await this.accounts.permissions.removeWhere((p) => p.user_uuid === uuid && !want.has(p.permission));
      for (const role of want) await this.accounts.grant(uuid, role);
    }
    if (f.password !== undefined) this.tokens.revokeUser(uuid); // a changed password ends old sessions
    return u;
  }

  async remove(uuid: string): Promise<void> {
    this.get(uuid);
    this.keepAnAdmin(uuid);
    await this.accounts.permissions.removeWhere((p) => p.user_uuid === uuid);
    await this.accounts.users.remove(uuid);
    this.tokens.revokeUser(uuid);
    for (const fn of this.onRemoved) await fn(uuid);
  }

  /** Refuse a change that would leave the gateway without any administrator. */
  private keepAnAdmin(losingUuid: string, losingPermissionUuid?: string): void {
    const admins = this.accounts.permissions.filter(
      (p) => p.permission === 'admin' && p.user_uuid !== losingUuid && p.uuid !== losingPermissionUuid,
    );
    const losing = this.accounts.permissions.filter((p) => p.permission === 'admin' && (p.user_uuid === losingUuid || p.uuid === losingPermissionUuid));
    if (losing.length > 0 && admins.length === 0) throw conflict('refused: this would remove the last administrator');
  }

  // ---- permissions as records ----
  listPermissions(userUuid?: string): PermissionRecord[] {
    return userUuid ? this.accounts.permissions.filter((p) => p.user_uuid === userUuid) : [...this.accounts.permissions.all()];
  }

  permission(uuid: string): PermissionRecord {
    const p = this.accounts.permissions.get(uuid);
    if (!p) throw notFound(`no permission with uuid ${uuid}`);
    return p;
  }

  async grant(userUuid: string, role: Role): Promise<PermissionRecord> {
    this.get(userUuid);
    const existing = this.accounts.permissions.find((p) => p.user_uuid === userUuid && p.permission === role);
    if (existing) throw conflict(`user ${userUuid} already has the ${role} permission (${existing.uuid})`);
    return this.accounts.grant(userUuid, role);
  }

  async changePermission(uuid: string, role: Role): Promise<PermissionRecord> {
    const p = this.permission(uuid);
    if (p.permission === 'admin' && role !== 'admin') this.keepAnAdmin('', uuid);
    const dup = this.accounts.permissions.find((q) => q.user_uuid === p.user_uuid && q.permission === role && q.uuid !== uuid);
    if (dup) throw conflict(`user ${p.user_uuid} already has the ${role} permission (${dup.uuid})`);
    return (await this.accounts.permissions.update(uuid, { permission: role }))!;
  }

  async revoke(uuid: string): Promise<void> {
    const p = this.permission(uuid);
    if (p.permission === 'admin') this.keepAnAdmin('', uuid);
    await this.accounts.permissions.remove(uuid);
  }
}
