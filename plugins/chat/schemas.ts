// The chat plugin's objects as answered, taken and published: rooms, each member's chat entry, messages. The one
// declaration of each shape; the TypeScript types derive from it.
import { event } from '../../core/contract/events.ts';
import { LINE_MESSAGE, ignored, int, line, list, named, nullable, obj, opt, text, type Out, v } from '../../core/contract/schema.ts';
import { readOnly } from '../users/schemas.ts';

/** A message's text may span lines but not be empty or huge (the body limit also applies). */
export const MAX_MESSAGE_CHARS = 65536;
export const MAX_PAGE = 1000;
export const DEFAULT_PAGE = 30;

export const RoomSchema = named(
  'ChatRoom',
  obj({
    uuid: line(),
    type: int("the spec's room type (1 in its examples); kept as given"),
    members: list(line(), 'user uuids'),
    uuid_creator: line(),
    uuid_owner: line('the member who may change the members and the type'),
    tm_create: line(),
    tm_update: line(),
  }),
);
/** A room as stored and answered. */
export type Room = Out<typeof RoomSchema>;

export const ChatSchema = named(
  'Chat',
  obj({
    uuid: line("this member's chat entry (the spec's <detail>)"),
    name: line("the member's own name for the room"),
    detail: line(),
    room: nullable(RoomSchema),
    tm_create: line(),
    tm_update: line(),
  }),
);
export type Chat = Out<typeof ChatSchema>;

const messageEntries = {
  uuid: line(),
  uuid_owner: line('the user who posted it'),
  message: obj({ message: text() }, 'the spec\'s shape: {"message": "text"}'),
  tm_create: line('ISO 8601; strictly increasing within a room'),
};
export const MessageSchema = named('ChatMessage', obj(messageEntries));
export type Message = Out<typeof MessageSchema>;

/** A member uuid in a body: a string naming an existing user (checked by the service). */
const member = v.pipe(v.string('must be a user uuid string'), v.regex(/^[^\r\n\0]*$/, LINE_MESSAGE), v.description('a user uuid'));

export const ChatCreateBody = obj({
  name: opt(line()),
  detail: opt(line()),
  type: opt(int('defaults to 1')),
  members: list(member, 'user uuids; the creator is added'),
  ...readOnly,
});

export const ChatUpdateBody = obj({
  name: opt(line("the caller's own name for the room")),
  detail: opt(line()),
  type: opt(int('the owner only')),
  members: opt(list(member, 'the owner only; the owner stays a member')),
  ...readOnly,
  room: ignored(),
});

export const MessageBody = obj({
  message: v.pipe(
    text(),
    v.minLength(1, 'must not be empty'),
    v.maxLength(MAX_MESSAGE_CHARS, `at most ${MAX_MESSAGE_CHARS} characters`),
    v.description('the text; it may span lines'),
  ),
});

const TIMESTAMP = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:?\d{2})$/;

/**
 * `?timestamp=` as the spec writes it (2018-03-30T08:30:02.364443446Z, any number of fraction digits, Z or an offset):
 * the exclusive upper bound in ms, or undefined when it is not one. Digits below the millisecond round the bound up,
 * so a message stored at .364Z counts as older than .364443446Z.
 */
export function parseTimestamp(s: string): number | undefined {
  // An unencoded "+" in a query string arrives as a space.
  const m = TIMESTAMP.exec(s.replace(/ (\d{2}:?\d{2})$/, '+$1'));
  if (!m) return undefined;
  const zone = m[3]!.length === 5 ? `${m[3]!.slice(0, 3)}:${m[3]!.slice(3)}` : m[3];
  const ms = Date.parse(`${m[1]}.${(m[2] ?? '').padEnd(3, '0').slice(0, 3)}${zone}`);
  if (Number.isNaN(ms)) return undefined;
  return /[1-9]/.test((m[2] ?? '').slice(3)) ? ms + 1 : ms;
}

const TIMESTAMP_MESSAGE = 'must be a UTC timestamp like 2018-03-30T08:30:02.364Z';
const COUNT_MESSAGE = `must be an integer from 1 to ${MAX_PAGE}`;

/** GET /me/chats/<uuid>/messages: an empty parameter counts as absent (the newest page, the default count). */
export const MessagesQuery = {
  timestamp: opt(
    v.pipe(
      v.string(),
      v.description('only messages older than this (exclusive), e.g. 2018-03-30T08:30:02.364443446Z; page on with the last tm_create'),
      v.check((s) => s === '' || parseTimestamp(s) !== undefined, TIMESTAMP_MESSAGE),
      v.transform((s) => (s === '' ? Infinity : parseTimestamp(s)!)),
    ),
  ),
  count: opt(
    v.pipe(
      v.string(),
      v.description(`how many, newest first (default ${DEFAULT_PAGE}, at most ${MAX_PAGE})`),
      v.regex(/^(\d{1,7})?$/, COUNT_MESSAGE),
      v.transform((s) => (s === '' ? DEFAULT_PAGE : Number(s))),
      v.check((n) => n >= 1 && n <= MAX_PAGE, COUNT_MESSAGE),
    ),
  ),
};

export const events = {
  messageCreated: event(
    'chat.message.created',
    'a message was posted in a chat room',
    named('ChatMessageCreated', obj({ room_uuid: line("the room (not the member's chat entry)"), ...messageEntries })),
    { members: "the room's members" },
  ),
};
