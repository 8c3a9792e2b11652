// Chat use cases for /me/chats: create a room with its members' entries, rename one's own entry, change the
// members (the room's owner only), leave, read and post messages. Only members of a room may read or post in it.
// Shapes are checked by the routes' schemas (schemas.ts); the rules are here.
import type { Accounts } from '../../core/auth/accounts.ts';
import type { EventBus } from '../../core/bus/bus.ts';
import { badRequest, forbidden, notFound } from '../../core/http/errors.ts';
import { CHATS, type ChatRecord, type ChatRooms } from './rooms.ts';
import { messageView, type MessageLog } from './messages.ts';
import { type Chat, type Message, type Room, events } from './schemas.ts';

export class ChatService {
  constructor(
    private readonly rooms: ChatRooms,
    private readonly accounts: Accounts,
    private readonly log: MessageLog,
    private readonly bus: EventBus,
  ) {}

  list(me: string): Chat[] {
    return this.rooms.listOf(me);
  }

  /** A chat entry the caller may change: 404 if there is none, 403 if it is another user's. */
  own(me: string, uuid: string): ChatRecord {
    const c = this.rooms.chats.get(uuid);
    if (!c) throw notFound(`no chat with uuid ${uuid}`);
    if (c.user_uuid !== me) throw forbidden(`chat ${uuid} is another user's`);
    return c;
  }

  get(me: string, uuid: string): Chat {
    return this.rooms.view(this.own(me, uuid));
  }

  /** The room behind a chat entry, for reading and posting: the caller must be one of its members. */
  private roomFor(me: string, chatUuid: string): Room {
    const c = this.rooms.chats.get(chatUuid);
    if (!c) throw notFound(`no chat with uuid ${chatUuid}`);
    const room = this.rooms.rooms.get(c.room_uuid);
    if (!room) throw notFound(`chat ${chatUuid} has no room any more`);
    if (!room.members.includes(me)) throw forbidden('only members of this chat room may read or post in it');
    return room;
  }

  /** Member uuids from a body: existing users, without repeats. */
  private members(uuids: string[]): string[] {
    const out: string[] = [];
    uuids.forEach((m, i) => {
      if (!this.accounts.users.get(m)) throw notFound(`members[${i}]: no user with uuid ${m}`);
      if (!out.includes(m)) out.push(m);
    });
    return out;
  }

  async create(me: string, f: { name?: string; detail?: string; type?: number; members: string[] }): Promise<Chat> {
    const members = this.members(f.members);
    if (!members.includes(me)) members.push(me); // the creator is always a member
    const room = await this.rooms.rooms.insert({ type: f.type ?? 1, members, uuid_creator: me, uuid_owner: me });
    // Every member gets an entry (so the room shows in their /me/chats), named as the creator named it.
    const entries = await this.rooms.insertMany<ChatRecord>(
      CHATS,
      members.map((user_uuid) => ({ user_uuid, room_uuid: room.uuid, name: f.name ?? '', detail: f.detail ?? '' })),
    );
    return this.rooms.view(entries.find((e) => e.user_uuid === me)!);
  }

  /** Name and detail are the caller's own; type and members belong to the room and only its owner changes them. */
  async update(me: string, uuid: string, f: { name?: string; detail?: string; type?: number; members?: string[] }): Promise<Chat> {
    const c = this.own(me, uuid);
    const room = this.rooms.rooms.get(c.room_uuid);
    if (!room) throw notFound(`chat ${uuid} has no room any more`);
    const now = new Date().toISOString();
    let members: string[] | undefined;
    if (f.members !== undefined || f.type !== undefined) {
      if (room.uuid_owner !== me) throw forbidden('only the room owner may change its members or type');
      if (f.members !== undefined) {
        members = this.members(f.members);
        if (!members.includes(me))
          throw badRequest('members: the owner must stay a member (DELETE the chat to leave it)', { field: 'members' });
      }
    }
    if (f.name !== undefined) c.name = f.name;
    if (f.detail !== undefined) c.detail = f.detail;
    if (f.name !== undefined || f.detail !== undefined) c.tm_update = now;
    if (f.type !== undefined) room.type = f.type;
    if (members) {
      const added = members.filter((m) => !room.members.includes(m));
      const removed = new Set(room.members.filter((m) => !members!.includes(m)));
      room.members = members;
      const chats = this.rooms.chats;
      if (removed.size) await chats.removeWhere((e) => e.room_uuid === room.uuid && removed.has(e.user_uuid));
      if (added.length) {
        await this.rooms.insertMany<ChatRecord>(
          CHATS,
          added.map((user_uuid) => ({ user_uuid, room_uuid: room.uuid, name: c.name, detail: c.detail })),
        );
      }
    }
    if (f.type !== undefined || members) room.tm_update = now;
    await this.rooms.flush();
    return this.rooms.view(c);
  }

  /** A deleted user leaves every room they were in. */
  async forgetUser(userUuid: string): Promise<void> {
    for (const c of this.rooms.chats.filter((x) => x.user_uuid === userUuid)) await this.leave(userUuid, c.uuid);
  }

  /**
   * Deleting one's chat entry leaves the room. An owner who leaves hands the room to the next member; the last member
   * to leave deletes the room and its messages.
   */
  async leave(me: string, uuid: string): Promise<void> {
    const c = this.own(me, uuid);
    await this.rooms.chats.remove(c.uuid);
    const room = this.rooms.rooms.get(c.room_uuid);
    if (!room) return;
    room.members = room.members.filter((m) => m !== me);
    if (room.members.length === 0) {
      await this.rooms.rooms.remove(room.uuid);
      await this.log.drop(room.uuid);
      return;
    }
    if (room.uuid_owner === me) room.uuid_owner = room.members[0]!;
    room.tm_update = new Date().toISOString();
    await this.rooms.flush();
  }

  /** Up to `count` messages older than `beforeMs` (exclusive; Infinity for the newest), newest first. */
  async messages(me: string, chatUuid: string, beforeMs: number, count: number): Promise<Message[]> {
    const room = this.roomFor(me, chatUuid);
    return (await this.log.page(room.uuid, beforeMs, count)).map(messageView);
  }

  async post(me: string, chatUuid: string, text: string): Promise<Message> {
    const room = this.roomFor(me, chatUuid);
    const m = messageView(await this.log.append(room.uuid, me, text));
    // Addressed to the room's members only: the WebSocket drops it for every other user.
    this.bus.publish(events.messageCreated, { room_uuid: room.uuid, ...m }, room.members);
    return m;
  }
}
