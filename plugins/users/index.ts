// users plugin: the gateway's own users and permissions (spec: /admin/info, /admin/user/*, /manager/users, /me/info),
// and what hangs off a user: contacts (/admin/user/contacts, /me/contacts) and buddies (/me/buddies).
// Login and token checks are core (core/auth), since every plugin's routes depend on them. Other plugins add fields
// to GET /me/info through ctx.profile, and drop what they keep for a user on users.user.deleted.
import { definePlugin } from '../../core/plugins/contract.ts';
import { registerRoutes } from './routes.ts';
import { events } from './schemas.ts';
import { registerUserData } from './user-data.ts';
import { UserService } from './service.ts';

export default definePlugin({
  name: 'users',
  description: 'gateway users and permissions',
  publishes: Object.values(events),
  setup(ctx) {
    const users = new UserService(ctx.accounts, ctx.sessions);
    registerRoutes(ctx.router, users);
    registerUserData(ctx, users);
    users.onRemoved.push((uuid) => ctx.bus.publish(events.userDeleted, { uuid }));
    return {};
  },
});
