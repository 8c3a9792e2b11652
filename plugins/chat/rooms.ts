// Chat rooms and each member's chat entry. Both are small and change rarely, so they live in the main store
// (gateway.json); the messages, which only grow, live in their own files (messages.ts).
//
// A room holds the members (user uuids). Every member has one chat entry of their own: a name and detail they may
// change without affecting the others, pointing at the room. /me/chats lists the caller's entries with the room
// embedded; the spec's <detail> is the entry's uuid.
import { randomUUID } from 'node:crypto';
import type { Collection, Store, StoredRecord } from '../../core/store/store.ts';
import type { Chat, Room } from './schemas.ts';

/** A member's chat entry as stored: the answered fields without the room, plus whose entry it is and its room. */
export type ChatRecord = Omit<Chat, 'room'> & { user_uuid: string; room_uuid: string };

export const ROOMS = 'chat_rooms';
export const CHATS = 'chats';

export class ChatRooms {
  readonly rooms: Collection<Room>;
  readonly chats: Collection<ChatRecord>;

  constructor(private readonly store: Store) {
    this.rooms = store.collection<Room>(ROOMS);
    this.chats = store.collection<ChatRecord>(CHATS);
  }

  static roomView(r: Room): Room {
    return {
      uuid: r.uuid,
      type: r.type,
      members: [...r.members],
      uuid_creator: r.uuid_creator,
      uuid_owner: r.uuid_owner,
      tm_create: r.tm_create,
      tm_update: r.tm_update,
    };
  }

  view(c: ChatRecord): Chat {
    const room = this.rooms.get(c.room_uuid);
    return {
      uuid: c.uuid,
      name: c.name,
      detail: c.detail,
      room: room ? ChatRooms.roomView(room) : null,
      tm_create: c.tm_create,
      tm_update: c.tm_update,
    };
  }

  /** The caller's chat entries, as /me/chats and /me/info show them. */
  listOf(userUuid: string): Chat[] {
    return this.chats.filter((c) => c.user_uuid === userUuid).map((c) => this.view(c));
  }

  /**
   * Add several records with one write of gateway.json (a room and an entry per member), instead of one write each.
   * Records get uuids and timestamps as Collection.insert gives them.
   */
  async insertMany<T extends StoredRecord>(name: string, rows: Omit<T, keyof StoredRecord>[]): Promise<T[]> {
    const now = new Date().toISOString();
    const recs = rows.map((f) => ({ ...f, uuid: randomUUID(), tm_create: now, tm_update: now }) as unknown as T);
    this.store.rows(name).push(...recs);
    await this.store.flush();
    return recs;
  }

  /** Change several records in place, then write once. */
  async flush(): Promise<void> {
    await this.store.flush();
  }
}
