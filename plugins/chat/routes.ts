// HTTP routes of the chat plugin: /me/chats (+ /<uuid>) and /me/chats/<uuid>/messages. As the spec shows them, the
// lists (chats, messages) are JSON arrays in `result`, not {"list": [...]}.
import { route } from '../../core/contract/route.ts';
import { list, pathName } from '../../core/contract/schema.ts';
import type { Router } from '../../core/plugins/contract.ts';
import { ok } from '../../core/http/envelope.ts';
import { ChatCreateBody, ChatSchema, ChatUpdateBody, DEFAULT_PAGE, MessageBody, MessageSchema, MessagesQuery } from './schemas.ts';
import type { ChatService } from './service.ts';

const tags = ['chat'];
const chatParam = { uuid: pathName("the caller's chat entry uuid (the spec's <detail>)") };

export function registerRoutes(r: Router, chats: ChatService): void {
  r.add(
    route({
      method: 'GET',
      path: '/me/chats',
      summary: "The caller's chats (a JSON array, as the spec answers)",
      tags,
      responses: { 200: list(ChatSchema) },
      handler: (c) => ok(chats.list(c.get('userUuid'))),
    }),
  );
  r.add(
    route({
      method: 'POST',
      path: '/me/chats',
      summary: 'Create a chat room; every member gets a chat entry of their own',
      tags,
      body: ChatCreateBody,
      responses: { 200: ChatSchema },
      errors: [404],
      handler: async (c, { body }) => ok(await chats.create(c.get('userUuid'), body)),
    }),
  );
  r.add(
    route({
      method: 'GET',
      path: '/me/chats/:uuid',
      summary: "One of the caller's chats",
      tags,
      params: chatParam,
      responses: { 200: ChatSchema },
      errors: [403, 404],
      handler: (c, { params }) => ok(chats.get(c.get('userUuid'), params.uuid)),
    }),
  );
  r.add(
    route({
      method: 'PUT',
      path: '/me/chats/:uuid',
      summary: "Rename one's chat entry; the room's owner may change its members and type",
      tags,
      params: chatParam,
      body: ChatUpdateBody,
      responses: { 200: ChatSchema },
      errors: [403, 404],
      handler: async (c, { params, body }) => ok(await chats.update(c.get('userUuid'), params.uuid, body)),
    }),
  );
  r.add(
    route({
      method: 'DELETE',
      path: '/me/chats/:uuid',
      summary: 'Leave a chat room (the last member to leave deletes it)',
      tags,
      params: chatParam,
      responses: { 200: null },
      errors: [403, 404],
      handler: async (c, { params }) => {
        await chats.leave(c.get('userUuid'), params.uuid);
        return ok();
      },
    }),
  );

  // ?timestamp= (exclusive: older messages only) & ?count=, newest first; page on with the last one's tm_create.
  r.add(
    route({
      method: 'GET',
      path: '/me/chats/:uuid/messages',
      summary: "A page of a room's messages, newest first (members only)",
      tags,
      params: chatParam,
      query: MessagesQuery,
      responses: { 200: list(MessageSchema) },
      errors: [403, 404],
      handler: async (c, { params, query }) =>
        ok(await chats.messages(c.get('userUuid'), params.uuid, query.timestamp ?? Infinity, query.count ?? DEFAULT_PAGE)),
    }),
  );
  r.add(
    route({
      method: 'POST',
      path: '/me/chats/:uuid/messages',
      summary: 'Post a message (members only); it may span lines',
      tags,
      params: chatParam,
      body: MessageBody,
      responses: { 200: MessageSchema },
      errors: [403, 404],
      handler: async (c, { params, body }) => ok(await chats.post(c.get('userUuid'), params.uuid, body.message)),
    }),
  );
}
