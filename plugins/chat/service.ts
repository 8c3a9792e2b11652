// Chat use cases for /me/chats: create a room with its members' entries, rename one's own entry, change the
// members (the room's owner only), leave, read and post messages. Only members of a room may read or post in it.
import type { Accounts } from '../../core/auth/accounts.ts';
import type { EventBus } from '../../core/bus/bus.ts';
import { assertSingleLine } from '../../core/http/body.ts';
import { badRequest, forbidden, notFound } from '../../core/http/errors.ts';
import { ChatRooms, CHATS, type ChatRecord, type ChatView, type RoomRecord } from './rooms.ts';
import { messageView, type MessageLog, type MessageView } from './messages.ts';

/** A message's text may span lines but not be empty or huge (the body limit also applies). */
export const MAX_MESSAGE_CHARS = 65536;
export const MAX_PAGE = 1000;
export const DEFAULT_PAGE = 30;

export class ChatService {
  constructor(
    private readonly rooms: ChatRooms,
    private readonly accounts: Accounts,
    private readonly log: MessageLog,
    private readonly bus: EventBus,
  ) {}

  list(me: string): ChatView[] {
    return this.rooms.listOf(me);
  }

  /** A chat entry the caller may change: 404 if there is none, 403 if it is another user's. */
  own(me: string, uuid: string): ChatRecord {
    const c = this.rooms.chats.get(uuid);
    if (!c) throw notFound(`no chat with uuid ${uuid}`);
    if (c.user_uuid !== me) throw forbidden(`chat ${uuid} is another user's`);
    return c;
  }

  get(me: string, uuid: string): ChatView {
    return this.rooms.view(this.own(me, uuid));
  }

  /** The room behind a chat entry, for reading and posting: the caller must be one of its members. */
  private roomFor(me: string, chatUuid: string): RoomRecord {
    const c = this.rooms.chats.get(chatUuid);
    if (!c) throw notFound(`no chat with uuid ${chatUuid}`);
    const room = this.rooms.rooms.get(c.room_uuid);
    if (!room) throw notFound(`chat ${chatUuid} has no room any more`);
    if (!room.members.includes(me)) throw forbidden('only members of this chat room may read or post in it');
    return room;
  }

  /** Member uuids from a body: strings naming existing users, without repeats. */
  private members(v: unknown[]): string[] {
    const out: string[] = [];
    v.forEach((m, i) => {
      if (typeof m !== 'string') throw badRequest(`members[${i}]: must be a user uuid string`, { field: 'members' });
      assertSingleLine(m, `members[${i}]`);
      if (!this.accounts.users.get(m)) throw notFound(`members[${i}]: no user with uuid ${m}`);
      if (!out.includes(m)) out.push(m);
    });
    return out;
  }

  async create(me: string, f: { name?: string; detail?: string; type?: number; members: unknown[] }): Promise<ChatView> {
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
  async update(me: string, uuid: string, f: { name?: string; detail?: string; type?: number; members?: unknown[] }): Promise<ChatView> {
    const c = this.own(me, uuid);
    const room = this.rooms.rooms.get(c.room_uuid);
    if (!room) throw notFound(`chat ${uuid} has no room any more`);
    const now = new Date().toISOString();
    let members: string[] | undefined;
    if (f.members !== undefined || f.type !== undefined) {
      if (room.uuid_owner !== me) throw forbidden('only the room owner may change its members or type');
      if (f.members !== undefined) {
        members = this.members(f.members);
        if (!members.includes(me)) throw badRequest('members: the owner must stay a member (DELETE the chat to leave it)', { field: 'members' });
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

  /**
   * Deleting one's chat entry leaves the room. An owner who leaves hands the room to the next member; the last member
   * to leave deletes the room and its messages.
   */
  /** A deleted user leaves every room they were in. */
  async forgetUser(userUuid: string): Promise<void> {
    for (const c of this.rooms.chats.filter((x) => x.user_uuid === userUuid)) await this.leave(userUuid, c.uuid);
  }

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

  async messages(me: string, chatUuid: string, q: { timestamp?: string; count?: string }): Promise<MessageView[]> {
    const room = this.roomFor(me, chatUuid);
    const before = q.timestamp === undefined || q.timestamp === '' ? Infinity : parseTimestamp(q.timestamp);
    const count = q.count === undefined || q.count === '' ? DEFAULT_PAGE : parseCount(q.count);
    return (await this.log.page(room.uuid, before, count)).map(messageView);
  }

  async post(me: string, chatUuid: string, text: string): Promise<MessageView> {
    const room = this.roomFor(me, chatUuid);
    if (text.length === 0) throw badRequest('message: must not be empty', { field: 'message' });
    if (text.length > MAX_MESSAGE_CHARS) throw badRequest(`message: at most ${MAX_MESSAGE_CHARS} characters`, { field: 'message' });
    const m = messageView(await this.log.append(room.uuid, me, text));
    // Addressed to the room's members only: the WebSocket drops it for every other user.
    this.bus.publish('chat.message.created', { room_uuid: room.uuid, ...m }, room.members);
    return m;
  }
}

const TIMESTAMP = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:?\d{2})$/;

/**
 * `?timestamp=` as the spec writes it (2018-03-30T08:30:02.364443446Z, any number of fraction digits, Z or an offset):
 * the exclusive upper bound in ms. Digits below the millisecond round the bound up, so a message stored at
 * .364Z counts as older than .364443446Z.
 */
export function parseTimestamp(v: string): number {
  // An unencoded "+" in a query string arrives as a space.
  const m = TIMESTAMP.exec(v.replace(/ (\d{2}:?\d{2})$/, '+$1'));
  const ms = m ? Date.parse(`${m[1]}.${(m[2] ?? '').padEnd(3, '0').slice(0, 3)}${m[3]!.length === 5 ? `${m[3]!.slice(0, 3)}:${m[3]!.slice(3)}` : m[3]}`) : NaN;
  if (Number.isNaN(ms)) throw badRequest(`timestamp: "${v.replace(/[\r\n\0]/g, '?')}" is not a UTC timestamp like 2018-03-30T08:30:02.364Z`, { field: 'timestamp' });
  return /[1-9]/.test((m![2] ?? '').slice(3)) ? ms + 1 : ms;
}

function parseCount(v: string): number {
  const n = /^\d{1,7}$/.test(v) ? Number(v) : NaN;
  if (!(n >= 1 && n <= MAX_PAGE)) throw badRequest(`count: must be an integer from 1 to ${MAX_PAGE}`, { field: 'count' });
  return n;
}
