// users plugin: the gateway's own users and permissions (spec: /admin/info, /admin/user/*, /manager/users, /me/info).
// Login and token checks are core (core/auth), since every plugin's routes depend on them.
import { definePlugin } from '../../core/plugins/contract.ts';
import type { TokenStore } from '../../core/auth/tokens.ts';
import { registerRoutes } from './routes.ts';
import { UserService } from './service.ts';

export type TokenRevoker = Pick<TokenStore, 'revokeUser'>;

export default definePlugin({
  name: 'users',
  description: 'gateway users and permissions',
  setup(ctx) {
    registerRoutes(ctx.router, new UserService(ctx.accounts, ctx.sessions));
    return {};
  },
});
