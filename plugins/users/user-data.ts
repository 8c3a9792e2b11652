// What hangs off a user: contacts (/admin/user/contacts, /me/contacts), buddies (/me/buddies), and GET /me/info:
// the user record with the caller's contacts and every field other plugins contribute (the chat plugin's "chats";
// "chats" is [] when no plugin gives it, as the spec's example always has it).
import { route } from '../../core/contract/route.ts';
import type { PluginContext } from '../../core/plugins/contract.ts';
import { ok } from '../../core/http/envelope.ts';
import { BuddyService, registerBuddyRoutes } from './buddies.ts';
import { ContactService, registerContactRoutes } from './contacts.ts';
import { meInfoEntries } from './schemas.ts';
import type { UserService } from './service.ts';

export function registerUserData(ctx: PluginContext, users: UserService): void {
  const contacts = new ContactService(ctx.store, ctx.accounts);
  const buddies = new BuddyService(ctx.store, ctx.accounts);

  ctx.router.add(
    route({
      method: 'GET',
      path: '/me/info',
      summary: "The caller's own record, with their contacts and chats",
      tags: ['users'],
      responses: { 200: ctx.profile.schema(meInfoEntries) },
      handler: async (c) => {
        const me = c.get('userUuid');
        return ok({ ...users.view(users.get(me)), contacts: contacts.list(me), chats: [], ...(await ctx.profile.fieldsFor(me)) });
      },
    }),
  );

  registerContactRoutes(ctx.router, contacts);
  registerBuddyRoutes(ctx.router, buddies);
  // A deleted user's contacts, and buddy entries on either side, go with them.
  users.onRemoved.push(async (uuid) => {
    await contacts.contacts.removeWhere((c) => c.user_uuid === uuid);
    await buddies.buddies.removeWhere((b) => b.user_uuid === uuid || b.uuid_user === uuid);
  });
}
