// HTTP routes of the users plugin: /admin/info, PUT /me/info, /admin/user/users, /admin/user/permissions and
// /manager/users. The user CRUD is declared once and served twice: at /admin/user/users for administrators and at
// /manager/users, where a manager may neither grant the admin permission nor change an administrator.
import { route } from '../../core/contract/route.ts';
import type { GatewayContext } from '../../core/contract/route.ts';
import { line, listOf, opt, pathName } from '../../core/contract/schema.ts';
import type { Router } from '../../core/plugins/contract.ts';
import { ok } from '../../core/http/envelope.ts';
import { forbidden } from '../../core/http/errors.ts';
import {
  OwnInfoBody,
  PermissionCreateBody,
  PermissionSchema,
  PermissionUpdateBody,
  UserCreateBody,
  UserSchema,
  UserUpdateBody,
} from './schemas.ts';
import type { UserFields, UserService } from './service.ts';

const tags = ['users'];
const userParam = { uuid: pathName('user uuid') };

/** What a route set may do beyond the shape checks: refuse a change (403) before it is made. */
interface Rules {
  /** The permissions a create or update would give. */
  permissions(c: GatewayContext, permissions: UserFields['permissions']): void;
  /** The user an update or delete would change. */
  target(c: GatewayContext, uuid: string): void;
}

/** The user CRUD at `base` (GET/POST base, GET/PUT/DELETE base/:uuid); the role follows the path. */
function userRoutes(r: Router, users: UserService, base: string, who: string, rules?: Rules): void {
  r.add(
    route({
      method: 'GET',
      path: base,
      summary: `All users (${who})`,
      tags,
      responses: { 200: listOf(UserSchema) },
      handler: () => ok({ list: users.list() }),
    }),
  );
  r.add(
    route({
      method: 'POST',
      path: base,
      summary: `Create a user (${who})`,
      tags,
      body: UserCreateBody,
      responses: { 200: UserSchema },
      errors: [409],
      handler: async (c, { body }) => {
        rules?.permissions(c, body.permissions);
        return ok(users.view(await users.create(body)));
      },
    }),
  );
  r.add(
    route({
      method: 'GET',
      path: `${base}/:uuid`,
      summary: `One user (${who})`,
      tags,
      params: userParam,
      responses: { 200: UserSchema },
      errors: [404],
      handler: (_c, { params }) => ok(users.view(users.get(params.uuid))),
    }),
  );
  r.add(
    route({
      method: 'PUT',
      path: `${base}/:uuid`,
      summary: `Change a user (${who}); permissions, when given, replace the user's`,
      tags,
      params: userParam,
      body: UserUpdateBody,
      responses: { 200: UserSchema },
      errors: [404, 409],
      handler: async (c, { params, body }) => {
        rules?.target(c, params.uuid);
        rules?.permissions(c, body.permissions);
        return ok(users.view(await users.update(params.uuid, body)));
      },
    }),
  );
  r.add(
    route({
      method: 'DELETE',
      path: `${base}/:uuid`,
      summary: `Delete a user (${who}), with their permissions, contacts and buddies`,
      tags,
      params: userParam,
      responses: { 200: null },
      errors: [404, 409],
      handler: async (c, { params }) => {
        rules?.target(c, params.uuid);
        await users.remove(params.uuid);
        return ok();
      },
    }),
  );
}

export function registerRoutes(r: Router, users: UserService): void {
  // ---- the caller's own record (GET /me/info, with contacts and the other plugins' fields, is in user-data.ts) ----
  r.add(
    route({
      method: 'GET',
      path: '/admin/info',
      summary: "The calling administrator's own record",
      tags,
      ownRecord: true,
      responses: { 200: UserSchema },
      handler: (c) => ok(users.view(users.get(c.get('userUuid')))),
    }),
  );
  for (const path of ['/admin/info', '/me/info']) {
    r.add(
      route({
        method: 'PUT',
        path,
        summary: "Change one's own name or password (permissions are an administrator's to change)",
        tags,
        ownRecord: true,
        body: OwnInfoBody,
        responses: { 200: UserSchema },
        handler: async (c, { body }) => {
          const me = c.get('userUuid');
          return ok(users.view(await users.update(me, { name: body.name, password: body.password })));
        },
      }),
    );
  }

  // ---- users: administrators at /admin/user/users, managers at /manager/users ----
  userRoutes(r, users, '/admin/user/users', 'administrators');
  const isAdmin = (c: GatewayContext) => c.get('roles').has('admin');
  userRoutes(r, users, '/manager/users', 'managers: not the admin permission, nor administrators', {
    permissions: (c, permissions) => {
      if (!isAdmin(c) && permissions?.some((p) => p.permission === 'admin')) throw forbidden('a manager cannot grant the admin permission');
    },
    target: (c, uuid) => {
      users.get(uuid); // 404 first
      if (!isAdmin(c) && users.isAdmin(uuid)) throw forbidden('a manager cannot change an administrator');
    },
  });

  // ---- administrators: permissions as records {uuid, user_uuid, permission} ----
  const permissionParam = { uuid: pathName('permission uuid') };
  r.add(
    route({
      method: 'GET',
      path: '/admin/user/permissions',
      summary: 'Every permission record',
      tags,
      query: { user_uuid: opt(line("only this user's permissions")) },
      responses: { 200: listOf(PermissionSchema) },
      handler: (_c, { query }) => ok({ list: users.listPermissions(query.user_uuid) }),
    }),
  );
  r.add(
    route({
      method: 'POST',
      path: '/admin/user/permissions',
      summary: 'Grant a user a permission',
      tags,
      body: PermissionCreateBody,
      responses: { 200: PermissionSchema },
      errors: [404, 409],
      handler: async (_c, { body }) => ok(await users.grant(body.user_uuid, body.permission)),
    }),
  );
  r.add(
    route({
      method: 'GET',
      path: '/admin/user/permissions/:uuid',
      summary: 'One permission record',
      tags,
      params: permissionParam,
      responses: { 200: PermissionSchema },
      errors: [404],
      handler: (_c, { params }) => ok(users.permission(params.uuid)),
    }),
  );
  r.add(
    route({
      method: 'PUT',
      path: '/admin/user/permissions/:uuid',
      summary: 'Change which permission a record grants',
      tags,
      params: permissionParam,
      body: PermissionUpdateBody,
      responses: { 200: PermissionSchema },
      errors: [404, 409],
      handler: async (_c, { params, body }) => ok(await users.changePermission(params.uuid, body.permission)),
    }),
  );
  r.add(
    route({
      method: 'DELETE',
      path: '/admin/user/permissions/:uuid',
      summary: 'Revoke a permission',
      tags,
      params: permissionParam,
      responses: { 200: null },
      errors: [404, 409],
      handler: async (_c, { params }) => {
        await users.revoke(params.uuid);
        return ok();
      },
    }),
  );
}
