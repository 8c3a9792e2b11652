// HTTP routes of the users plugin: /admin/info, /me/info, /admin/user/users, /admin/user/permissions, /manager/users.
import type { Context } from 'hono';
import type { Router } from '../../core/plugins/contract.ts';
import type { Role } from '../../core/auth/accounts.ts';
import { ok } from '../../core/http/envelope.ts';
import { forbidden } from '../../core/http/errors.ts';
import { param, readBody, readJson, validate } from '../../core/http/body.ts';
import { UserService } from './service.ts';

const READ_ONLY = ['uuid', 'tm_create', 'tm_update'];
const userShape = { username: 'string?', name: 'string?', password: 'string?', context: 'string?', permissions: 'array?' } as const;

const me = (c: Context) => c.get('userUuid') as string;

export function registerRoutes(r: Router, users: UserService): void {
  // ---- the caller's own record (GET /me/info, with chats and contacts, is in me-info.ts) ----
  r.get('/admin/info', (c) => ok(users.view(users.get(me(c)))));
  for (const base of ['/admin/info', '/me/info']) {
    r.put(base, async (c) => {
      // Only one's own name and password; permissions are changed by an administrator.
      const b = await readBody(c, { name: 'string?', password: 'string?' }, { ignore: [...READ_ONLY, 'username', 'permissions', 'context'] });
      await users.update(me(c), b);
      return ok(users.view(users.get(me(c))));
    });
  }

  // ---- administrators: users ----
  r.get('/admin/user/users', () => ok({ list: users.list() }));
  r.post('/admin/user/users', async (c) => {
    const b = validate(await readJson(c), { ...userShape, username: 'string', password: 'string' }, { ignore: READ_ONLY });
    const u = await users.create({ ...b, permissions: b.permissions ? UserService.permissionList(b.permissions) : undefined });
    return ok(users.view(u));
  });
  r.get('/admin/user/users/:uuid', (c) => ok(users.view(users.get(param(c, 'uuid')))));
  r.put('/admin/user/users/:uuid', async (c) => {
    const b = validate(await readJson(c), userShape, { ignore: READ_ONLY });
    const u = await users.update(param(c, 'uuid'), { ...b, permissions: b.permissions ? UserService.permissionList(b.permissions) : undefined });
    return ok(users.view(u));
  });
  r.delete('/admin/user/users/:uuid', async (c) => {
    await users.remove(param(c, 'uuid'));
    return ok();
  });

  // ---- administrators: permissions as records {uuid, user_uuid, permission} ----
  r.get('/admin/user/permissions', (c) => {
    const only = c.req.query('user_uuid');
    return ok({ list: users.listPermissions(only) });
  });
  r.post('/admin/user/permissions', async (c) => {
    const b = validate(await readJson(c), { user_uuid: 'string', permission: 'string' }, { ignore: READ_ONLY });
    return ok(await users.grant(b.user_uuid, UserService.role(b.permission)));
  });
  r.get('/admin/user/permissions/:uuid', (c) => ok(users.permission(param(c, 'uuid'))));
  r.put('/admin/user/permissions/:uuid', async (c) => {
    const b = validate(await readJson(c), { permission: 'string' }, { ignore: [...READ_ONLY, 'user_uuid'] });
    return ok(await users.changePermission(param(c, 'uuid'), UserService.role(b.permission)));
  });
  r.delete('/admin/user/permissions/:uuid', async (c) => {
    await users.revoke(param(c, 'uuid'));
    return ok();
  });

  // ---- managers: users, without the power to make or change administrators ----
  const noAdmin = (roles: Role[] | undefined) => {
    if (roles?.includes('admin')) throw forbidden('a manager cannot grant the admin permission');
    return roles;
  };
  const notAnAdmin = (uuid: string) => {
    if (users.view(users.get(uuid)).permissions.some((p) => p.permission === 'admin')) {
      throw forbidden('a manager cannot change an administrator');
    }
  };
  const isAdmin = (c: Context) => (c.get('roles') as Set<Role>).has('admin');
  r.get('/manager/users', () => ok({ list: users.list() }));
  r.post('/manager/users', async (c) => {
    const b = validate(await readJson(c), { ...userShape, username: 'string', password: 'string' }, { ignore: READ_ONLY });
    const perms = b.permissions ? UserService.permissionList(b.permissions) : undefined;
    const u = await users.create({ ...b, permissions: isAdmin(c) ? perms : noAdmin(perms) });
    return ok(users.view(u));
  });
  r.get('/manager/users/:uuid', (c) => ok(users.view(users.get(param(c, 'uuid')))));
  r.put('/manager/users/:uuid', async (c) => {
    const uuid = param(c, 'uuid');
    if (!isAdmin(c)) notAnAdmin(uuid);
    const b = validate(await readJson(c), userShape, { ignore: READ_ONLY });
    const perms = b.permissions ? UserService.permissionList(b.permissions) : undefined;
    return ok(users.view(await users.update(uuid, { ...b, permissions: isAdmin(c) ? perms : noAdmin(perms) })));
  });
  r.delete('/manager/users/:uuid', async (c) => {
    const uuid = param(c, 'uuid');
    if (!isAdmin(c)) notAnAdmin(uuid);
    await users.remove(uuid);
    return ok();
  });
}
