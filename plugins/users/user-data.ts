// What hangs off a user: contacts (/admin/user/contacts, /me/contacts), buddies (/me/buddies), and GET /me/info
// (with the caller's chats and contacts embedded, as the spec's example shows).
import type { Context } from 'hono';
import type { PluginContext } from '../../core/plugins/contract.ts';
import { ok } from '../../core/http/envelope.ts';
import { ChatRooms } from '../chat/rooms.ts';
import { BuddyService, registerBuddyRoutes } from './buddies.ts';
import { ContactService, registerContactRoutes } from './contacts.ts';
import { UserService } from './service.ts';

const me = (c: Context) => c.get('userUuid') as string;

export function registerUserData(ctx: PluginContext, users: UserService): void {
  const contacts = new ContactService(ctx.store, ctx.accounts);
  const buddies = new BuddyService(ctx.store, ctx.accounts);
  // Chat rooms are the chat plugin's; read from the store only while that plugin is enabled.
  const chats = ctx.config.plugins.includes('chat') ? new ChatRooms(ctx.store) : null;

  // GET /me/info = the user record plus "chats" and "contacts", as the spec's example shows.
  ctx.router.get('/me/info', (c) =>
    ok({ ...users.view(users.get(me(c))), chats: chats?.listOf(me(c)) ?? [], contacts: contacts.list(me(c)) }),
  );

  registerContactRoutes(ctx.router, contacts);
  registerBuddyRoutes(ctx.router, buddies);
  // A deleted user's contacts, and buddy entries on either side, go with them.
  users.onRemoved.push(async (uuid) => {
    await contacts.contacts.removeWhere((c) => c.user_uuid === uuid);
    await buddies.buddies.removeWhere((b) => b.user_uuid === uuid || b.uuid_user === uuid);
  });
}
