// users plugin: the gateway's own users and permissions (spec: /admin/info, /admin/user/*, /manager/users, /me/info),
// and what hangs off a user: contacts (/admin/user/contacts, /me/contacts) and buddies (/me/buddies).
// Login and token checks are core (core/auth), since every plugin's routes depend on them.
import { definePlugin } from '../../core/plugins/contract.ts';
import type { TokenStore } from '../../core/auth/tokens.ts';
import { registerRoutes } from './routes.ts';
import { registerUserData } from './user-data.ts';
import { UserService } from './service.ts';

export type TokenRevoker = Pick<TokenStore, 'revokeUser'>;

export default definePlugin({
  name: 'users',
  description: 'gateway users and permissions',
  setup(ctx) {
    const users = new UserService(ctx.accounts, ctx.sessions);
    registerRoutes(ctx.router, users);
    registerUserData(ctx, users);
    // Other plugins (chat) drop what they keep for a deleted user when they see this.
    users.onRemoved.push((uuid) => ctx.bus.publish('users.user.deleted', { uuid }));
    return {};
  },
});
