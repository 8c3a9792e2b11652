// chat plugin: chat rooms between gateway users (spec: /me/chats, /me/chats/<detail>, /me/chats/<detail>/messages).
// Rooms and each member's chat entry live in the main store; messages in their own files under <data_dir>/chat/.
// A new message is announced on the bus as chat.message.created, addressed to the room's members (WebSocket).
import path from 'node:path';
import { definePlugin } from '../../core/plugins/contract.ts';
import { MessageLog } from './messages.ts';
import { ChatRooms } from './rooms.ts';
import { registerRoutes } from './routes.ts';
import { ChatService } from './service.ts';

export default definePlugin({
  name: 'chat',
  description: 'chat rooms and messages between gateway users',
  setup(ctx) {
    const log = new MessageLog(path.join(ctx.config.data_dir, 'chat'));
    const chat = new ChatService(new ChatRooms(ctx.store), ctx.accounts, log, ctx.bus);
    registerRoutes(ctx.router, chat);
    const unsubscribe = ctx.bus.subscribe((m) => {
      if (m.type === 'users.user.deleted') void chat.forgetUser((m.data as { uuid: string }).uuid).catch((e) => ctx.log.warn(`chat cleanup failed: ${(e as Error).message}`));
    });
    return { close: unsubscribe };
  },
});
