// chat plugin: chat rooms between gateway users (spec: /me/chats, /me/chats/<detail>, /me/chats/<detail>/messages).
// Rooms and each member's chat entry live in the main store; messages in their own files under <data_dir>/chat/.
// A new message is announced on the bus as chat.message.created, addressed to the room's members (WebSocket).
// It needs the users plugin: its users are the members, GET /me/info shows the caller's chats (through ctx.profile),
// and a deleted user (users.user.deleted) leaves every room.
import path from 'node:path';
import { list } from '../../core/contract/schema.ts';
import { definePlugin } from '../../core/plugins/contract.ts';
import { events as userEvents } from '../users/schemas.ts';
import { MessageLog } from './messages.ts';
import { ChatRooms } from './rooms.ts';
import { registerRoutes } from './routes.ts';
import { ChatSchema, events } from './schemas.ts';
import { ChatService } from './service.ts';

export default definePlugin({
  name: 'chat',
  description: 'chat rooms and messages between gateway users',
  requires: ['users'],
  publishes: Object.values(events),
  setup(ctx) {
    const log = new MessageLog(path.join(ctx.config.data_dir, 'chat'));
    const chat = new ChatService(new ChatRooms(ctx.store), ctx.accounts, log, ctx.bus);
    registerRoutes(ctx.router, chat);
    ctx.profile.contribute('chats', list(ChatSchema, "the caller's chats, as GET /me/chats answers them"), (uuid) => chat.list(uuid));
    const unsubscribe = ctx.bus.on(userEvents.userDeleted, ({ uuid }) => {
      void chat.forgetUser(uuid).catch((e) => ctx.log.warn(`chat cleanup failed: ${(e as Error).message}`));
    });
    return { close: unsubscribe };
  },
});
