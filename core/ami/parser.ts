import { decodeUtf8 } from './decode.ts';
import type { AmiMessage } from './message.ts';

/** Upper bound for one message (and for one unfinished line); past it the message is dropped. */
export const MAX_MESSAGE_BYTES = 1024 * 1024;

/**
 * Bytes are decoded in pieces of whole messages of about this size. Fewer, larger pieces decode
 * faster (notably on Bun); smaller ones bound what a kept value pins: V8 and JSC keep a long
 * substring as a view of its parent string, so a channel name held in some state for hours keeps
 * its piece alive, not a whole 64 KiB socket chunk.
 */
const PIECE_BYTES = 4096;
const BANNER_PREFIX = 'Asterisk Call Manager/';
const END_COMMAND = '--END COMMAND--';
const LF = 0x0a;
/** End of one message's last line plus the blank line: a safe place to cut a piece. */
const BLANK_LINE = Buffer.from('\n\r\n', 'latin1');
const CR = 0x0d;
const SPACE = 0x20;
const COLON = 0x3a;

/**
 * Whether a learned event's remaining lines are matched with one regular expression (Shape.rest) or line by line.
 * Measured on the recorded Asterisk 22 stream (parse only): on Node (V8) the expression is faster, 861k against 668k
 * messages/s; on Bun (JavaScriptCore, the runtime the binary embeds) it is slower, 824k against 1,205k. Both paths
 * build the same messages, and the test suite runs on both runtimes, so each path is tested.
 */
const MATCH_REST = process.versions.bun === undefined;

/** Limits on the learned event shapes (see Shape), so a hostile peer cannot grow them without bound. */
const MAX_SHAPES = 512;
const MAX_SHAPE_KEYS = 64;

/** Where we are inside the current message. */
enum Mode {
  Headers,
  /** Lines are checked against a learned Shape; the fields object is built at the end. */
  Shaped,
  /** `Response: Follows` seen (Asterisk <= 13 Command): Privilege/ActionID may still come. */
  FollowsHeaders,
  /** Raw CLI output lines, until a line ending in `--END COMMAND--`. */
  FollowsOutput,
  /** Dropping an over-long message until the next blank line. */
  Discard,
}

/**
 * Prototype of every fields object: it has no Object.prototype above it, so keys such as
 * `constructor` or `__proto__` are plain data. Objects built by constructors on it stay in
 * V8's fast (hidden-class) mode, which a bare Object.create(null) object does not.
 */
const FIELDS_PROTOTYPE = Object.create(null) as object;

type FieldsConstructor = new (values: string[]) => Record<string, string>;

const Fields = function Fields(this: Record<string, string>) {} as unknown as new () => Record<string, string>;
(Fields as { prototype: object }).prototype = FIELDS_PROTOTYPE;

/**
 * The key sequence an event had last time, with a constructor compiled for it.
 * Events of one name nearly always carry the same keys in the same order (in the Asterisk 22
 * recording, every name but TestEvent always does), so a line is checked with one startsWith
 * instead of slicing its key and adding a property by a computed name; the constructor then
 * builds the object with constant property names. About 20 % faster overall.
 */
interface Shape {
  keys: string[];
  build: FieldsConstructor;
  /**
   * The lines after the first as one sticky regular expression: every key but the first, in order, each line
   * `Key: value` ending in LF or CRLF, then the blank line. One exec matches a whole message in native code where
   * the line loop pays a few calls per line. It accepts only lines the loop would read the same way (a value with a
   * CR in it, or a message cut by the end of the text, does not match), so when it fails the loop decides.
   */
  rest: RegExp;
}

/** A learned event name: its shape, and the name as the engine's own interned string (see interned()). */
interface KnownEvent {
  shape: Shape;
  name: string;
}

/**
 * `s` as an interned string (the engines intern property names): every later event of this name carries this one
 * string as its Event value, so the plugin host's handler lookup and the handlers' `Event === '...'` tests compare
 * it with other interned strings by identity instead of by content; and it pins none of the text it came in.
 */
function interned(s: string): string {
  const holder = Object.create(null) as Record<string, number>;
  holder[s] = 0;
  return Object.keys(holder)[0] ?? s;
}

let codeGenerationWorks = true;

function compileShape(keys: string[]): FieldsConstructor | undefined {
  if (!codeGenerationWorks) return undefined;
  // Keys are embedded as JSON string literals in bracket form, so no key can inject code.
  // (`this["__proto__"] = v` makes an own property here: no __proto__ setter on the chain.)
  const body = keys.map((key, i) => `this[${JSON.stringify(key)}] = v[${i}];`).join('\n');
  try {
    const build = new Function('v', body) as unknown as FieldsConstructor;
    (build as { prototype: object }).prototype = FIELDS_PROTOTYPE;
    return build;
  } catch {
    // Code generation disabled (e.g. --disallow-code-generation-from-strings): parse generically.
    codeGenerationWorks = false;
    return undefined;
  }
}

/** A key as a regular expression: letters, digits, `_` and `-` as they are, every other code unit escaped. */
function keyPattern(key: string): string {
  let out = '';
  for (let i = 0; i < key.length; i++) {
    const code = key.charCodeAt(i);
    const plain =
      (code >= 0x30 && code <= 0x39) || (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a) || code === 0x5f || code === 0x2d;
    out += plain ? key[i] : `\\u${code.toString(16).padStart(4, '0')}`;
  }
  return out;
}

function restPattern(keys: string[]): RegExp {
  let source = '';
  for (let i = 1; i < keys.length; i++) source += `${keyPattern(keys[i] as string)}: ([^\\r\\n]*)\\r?\\n`;
  return new RegExp(`${source}\\r?\\n`, 'y');
}

function isSpace(code: number): boolean {
  return code === SPACE || (code >= 0x09 && code <= 0x0d);
}

/**
 * Turns AMI bytes into messages. Knows nothing about sockets: feed it chunks with push(),
 * get whole messages through the callback. Call reset() when a new connection starts.
 *
 * Written for speed, since it sees every event:
 * - bytes are decoded a few KiB of whole messages at a time (PIECE_BYTES). An LF byte never occurs
 *   inside a UTF-8 sequence, so every LF-terminated piece decodes on its own, and a character split
 *   across chunks is decoded once its line is complete (only an unfinished line is carried over).
 * - lines are split with indexOf, never by a per-byte loop or a regex.
 * - events whose name was seen before are matched against that event's learned key sequence
 *   (see Shape).
 * - bare-LF line ends (the Agents event's CallStarted line) are accepted everywhere; the line
 *   parser, not the piece splitter, decides where a message ends.
 */
export class AmiParser {
  private readonly onMessage: (m: AmiMessage) => void;
  private readonly onBanner: ((version: string) => void) | undefined;

  /** Bytes of a line that has not ended yet. */
  private tail: Buffer[] = [];
  private tailBytes = 0;
  /** The rest of an over-long line is being skipped up to its line end. */
  private skipLine = false;

  private mode = Mode.Headers;
  /** Fields of the current message; created with its first field (not used in Shaped mode). */
  private fields: Record<string, string> | undefined = undefined;
  private multi: Record<string, string[]> | undefined = undefined;
  private fieldCount = 0;
  /** Size of the current message in the text parsed before the current piece. */
  private messageSize = 0;

  /** Learned shapes by event name, and compiled shapes by key sequence (so re-learning is cheap). */
  private readonly shapesByEvent = new Map<string, KnownEvent>();
  private readonly shapesByKeys = new Map<string, Shape>();
  private shape: Shape | undefined = undefined;
  /** Values matched so far in Shaped mode (reused between messages). */
  private readonly shapeValues: string[] = [];
  private shapeIndex = 0;

  /** The first error thrown by a callback during this push(); rethrown once the chunk is consumed. */
  private callbackError: unknown = undefined;

  /**
   * Event names dropped unparsed. Asterisk sends many events nobody here uses (TestEvent, DialBegin, LocalBridge,
   * ...); skipping their lines is cheaper than building their fields. Only names that never come as list items
   * belong here (see core/ami/ignorable.ts), since a skipped event cannot be matched to its action.
   */
  ignoredEvents: ReadonlySet<string> | undefined = undefined;
  /** How many events were dropped that way. */
  ignoredCount = 0;

  constructor(onMessage: (m: AmiMessage) => void, onBanner?: (version: string) => void) {
    this.onMessage = onMessage;
    this.onBanner = onBanner;
  }

  /** Forget everything buffered (call on a new connection). Learned shapes are kept. */
  reset(): void {
    this.tail = [];
    this.tailBytes = 0;
    this.skipLine = false;
    this.startMessage();
  }

  /**
   * Consumes one chunk. If a callback throws, parsing still runs to the end of the chunk (so the
   * stream stays in sync) and the first error is rethrown afterwards.
   */
  push(chunk: Buffer): void {
    const lastLf = chunk.lastIndexOf(LF);
    if (lastLf === -1) {
      this.keepTail(chunk);
      return;
    }
    let pos = 0;
    if (this.tailBytes > 0 || this.skipLine) {
      const firstLf = chunk.indexOf(LF);
      if (this.skipLine) {
        // The over-long line ends here; what follows is new input.
        this.skipLine = false;
      } else {
        this.tail.push(chunk.subarray(0, firstLf + 1));
        const line = Buffer.concat(this.tail, this.tailBytes + firstLf + 1);
        this.tail = [];
        this.tailBytes = 0;
        this.parseLines(decodeUtf8(line, 0, line.length));
      }
      pos = firstLf + 1;
    }
    const end = lastLf + 1;
    if (pos < end) {
      // Decode in pieces of whole messages, about PIECE_BYTES each (see the class comment).
      // Boundaries are searched in the bytes themselves, so nothing is decoded twice.
      while (pos < end) {
        const blank = pos + PIECE_BYTES < end ? chunk.indexOf(BLANK_LINE, pos + PIECE_BYTES) : -1;
        const pieceEnd = blank === -1 || blank + 3 > end ? end : blank + 3;
        this.parseLines(decodeUtf8(chunk, pos, pieceEnd));
        pos = pieceEnd;
      }
    }
    if (end < chunk.length) this.keepTail(chunk.subarray(end));
    const error = this.callbackError;
    if (error !== undefined) {
      this.callbackError = undefined;
      throw error;
    }
  }

  private keepTail(bytes: Buffer): void {
    if (this.skipLine) return;
    // While discarding, only the line itself is bounded: its end may be the blank line we wait for.
    const messageSoFar = this.mode === Mode.Discard ? 0 : this.messageSize;
    if (this.tailBytes + bytes.length + messageSoFar > MAX_MESSAGE_BYTES) {
      // A line (or message) that never ends: drop it and resync at the next blank line.
      this.tail = [];
      this.tailBytes = 0;
      this.skipLine = true;
      this.discardMessage();
      return;
    }
    // Copy: the caller may reuse its buffer, and a view would pin the whole chunk.
    this.tail.push(Buffer.from(bytes));
    this.tailBytes += bytes.length;
  }

  private startMessage(): void {
    this.mode = Mode.Headers;
    this.fields = undefined;
    this.multi = undefined;
    this.fieldCount = 0;
    this.messageSize = 0;
    this.shape = undefined;
  }

  private discardMessage(): void {
    this.startMessage();
    this.mode = Mode.Discard;
  }

  /** Parses the whole lines of `text`, which ends in LF. */
  private parseLines(text: string): void {
    const length = text.length;
    let pos = 0;
    let messageStart = 0;
    while (pos < length) {
      const lf = text.indexOf('\n', pos);
      let end = lf;
      if (end > pos && text.charCodeAt(end - 1) === CR) end--;

      if (end === pos && this.mode !== Mode.FollowsOutput) {
        this.endMessage(this.messageSize + lf - messageStart > MAX_MESSAGE_BYTES);
        pos = lf + 1;
        messageStart = pos;
        continue;
      }

      let mode = this.mode;
      if (mode === Mode.Shaped) {
        const shape = this.shape as Shape;
        const key = shape.keys[this.shapeIndex];
        if (key !== undefined) {
          const sep = pos + key.length;
          if (sep + 1 < lf && text.charCodeAt(sep) === COLON && text.charCodeAt(sep + 1) === SPACE && text.startsWith(key, pos)) {
            let valueEnd = end;
            while (valueEnd > sep + 2 && isSpace(text.charCodeAt(valueEnd - 1))) valueEnd--;
            this.shapeValues[this.shapeIndex++] = text.slice(sep + 2, valueEnd);
            pos = lf + 1;
            continue;
          }
        }
        // Not the learned shape after all: continue this message the generic way.
        this.leaveShape();
        mode = Mode.Headers;
      }

      if (mode === Mode.Headers) {
        const sep = text.indexOf(': ', pos);
        if (sep !== -1 && sep < end && sep > pos) {
          let valueEnd = end;
          while (valueEnd > sep + 2 && isSpace(text.charCodeAt(valueEnd - 1))) valueEnd--;
          const fields = this.fields;
          // A message's first key is nearly always Event: the literal instead of a new string for it
          const key = fields === undefined && sep - pos === 5 && text.startsWith('Event', pos) ? 'Event' : text.slice(pos, sep);
          const value = text.slice(sep + 2, valueEnd);
          if (fields === undefined) {
            this.firstField(key, value);
            if (MATCH_REST && this.mode === Mode.Shaped) {
              // A known event: try its whole rest at once (see Shape.rest); else the loop goes on line by line.
              const next = this.matchRest(text, lf + 1, messageStart);
              if (next !== -1) {
                pos = next;
                messageStart = next;
                continue;
              }
            }
          } else if (fields[key] === undefined) {
            fields[key] = value;
            this.fieldCount++;
          } else {
            this.addRepeat(key, value);
          }
        } else {
          this.oddLine(text, pos, end);
        }
      } else if (mode === Mode.FollowsHeaders) {
        const sep = text.indexOf(': ', pos);
        const key = sep !== -1 && sep < end ? text.slice(pos, sep) : '';
        if (key === 'Privilege' || key === 'ActionID') {
          this.addField(key, text.slice(sep + 2, end).trimEnd());
        } else {
          this.mode = Mode.FollowsOutput;
          this.addOutputLine(text.slice(pos, end));
        }
      } else if (mode === Mode.FollowsOutput) {
        this.addOutputLine(text.slice(pos, end));
      }
      // Mode.Discard: the line is dropped.
      pos = lf + 1;
    }
    if (messageStart < length) {
      this.messageSize += length - messageStart;
      if (this.messageSize > MAX_MESSAGE_BYTES && this.mode !== Mode.Discard) this.discardMessage();
    }
  }

  /** The first field decides the mode: a known event shape, old-style Command output, or generic. */
  private firstField(key: string, value: string): void {
    if (key === 'Event') {
      if (this.ignoredEvents?.has(value)) {
        // Nobody listens to it: skip its lines without building an object (see ignoredEvents).
        this.ignoredCount++;
        this.mode = Mode.Discard;
        return;
      }
      const known = this.shapesByEvent.get(value);
      if (known !== undefined) {
        this.mode = Mode.Shaped;
        this.shape = known.shape;
        this.shapeValues[0] = known.name;
        this.shapeIndex = 1;
        return;
      }
    } else if (key === 'Response' && value === 'Follows') {
      this.mode = Mode.FollowsHeaders;
    }
    const fields = new Fields();
    fields[key] = value;
    this.fields = fields;
    this.fieldCount = 1;
  }

  /**
   * Matches the current shape's remaining lines and blank line at `from` in one go (Shape.rest) and ends the
   * message as the line loop would have; returns where the next message starts, or -1 when it does not match.
   */
  private matchRest(text: string, from: number, messageStart: number): number {
    const shape = this.shape as Shape;
    const rest = shape.rest;
    rest.lastIndex = from;
    const match = rest.exec(text);
    if (match === null) return -1;
    const values = this.shapeValues;
    const count = shape.keys.length;
    for (let i = 1; i < count; i++) {
      let value = match[i] as string;
      let valueEnd = value.length;
      // Trailing white space is not part of a value (the line loop trims it the same way).
      while (valueEnd > 0 && isSpace(value.charCodeAt(valueEnd - 1))) valueEnd--;
      if (valueEnd !== value.length) value = value.slice(0, valueEnd);
      values[i] = value;
    }
    this.shapeIndex = count;
    const next = rest.lastIndex;
    // next - 1 is the blank line's LF: the same size test as at the blank line in parseLines.
    this.endMessage(this.messageSize + next - 1 - messageStart > MAX_MESSAGE_BYTES);
    return next;
  }

  /** Copies what matched the shape so far into a generic fields object. */
  private leaveShape(): void {
    const keys = (this.shape as Shape).keys;
    const fields = new Fields();
    for (let i = 0; i < this.shapeIndex; i++) fields[keys[i] as string] = this.shapeValues[i] as string;
    this.fields = fields;
    this.fieldCount = this.shapeIndex;
    this.shape = undefined;
    this.mode = Mode.Headers;
  }

  /** Blank line: emit the message unless it is empty, discarded or over the size limit. */
  private endMessage(oversized: boolean): void {
    let message: AmiMessage | undefined;
    if (this.mode === Mode.Shaped) {
      const shape = this.shape as Shape;
      if (this.shapeIndex === shape.keys.length) {
        if (!oversized) message = { fields: new shape.build(this.shapeValues) };
      } else {
        this.leaveShape();
      }
    }
    if (message === undefined && this.fieldCount > 0 && this.mode !== Mode.Discard && !oversized) {
      const fields = this.fields as Record<string, string>;
      if (this.multi === undefined) {
        message = { fields };
        if (fields.Event !== undefined) this.learnShape(fields);
      } else {
        message = { fields, multi: this.multi };
      }
    }
    this.startMessage();
    if (message === undefined) return;
    try {
      this.onMessage(message);
    } catch (error) {
      if (this.callbackError === undefined) this.callbackError = error;
    }
  }

  /** Remembers an event's key sequence so the next event of that name takes the fast path. */
  private learnShape(fields: Record<string, string>): void {
    const name = fields.Event as string;
    if (this.fieldCount > MAX_SHAPE_KEYS) return;
    const keys = Object.keys(fields);
    // Integer-like keys would enumerate out of wire order; such events stay generic.
    for (const key of keys) {
      const first = key.charCodeAt(0);
      if (first >= 0x30 && first <= 0x39) return;
    }
    if (keys[0] !== 'Event') return;
    const signature = keys.join('\n');
    let shape = this.shapesByKeys.get(signature);
    if (shape === undefined) {
      if (this.shapesByKeys.size >= MAX_SHAPES) return;
      const build = compileShape(keys);
      if (build === undefined) return;
      shape = { keys, build, rest: restPattern(keys) };
      this.shapesByKeys.set(signature, shape);
    }
    if (this.shapesByEvent.size < MAX_SHAPES || this.shapesByEvent.has(name)) this.shapesByEvent.set(name, { shape, name: interned(name) });
  }

  /** A line without `: `: `Key:` with an empty value, the banner, or garbage (skipped). */
  private oddLine(text: string, pos: number, end: number): void {
    if (end - 1 > pos && text.charCodeAt(end - 1) === COLON) {
      const key = text.slice(pos, end - 1);
      if (key.indexOf(' ') === -1) this.addField(key, '');
      return;
    }
    if (this.fieldCount === 0 && text.startsWith(BANNER_PREFIX, pos)) {
      try {
        this.onBanner?.(text.slice(pos + BANNER_PREFIX.length, end).trim());
      } catch (error) {
        if (this.callbackError === undefined) this.callbackError = error;
      }
    }
  }

  /** Old Command form: raw lines up to `--END COMMAND--`, which may follow output on the same line. */
  private addOutputLine(line: string): void {
    if (line.endsWith(END_COMMAND)) {
      const before = line.slice(0, line.length - END_COMMAND.length);
      if (before !== '') this.addField('Output', before);
      // Only the blank line that ends the message is expected now.
      this.mode = Mode.Headers;
      return;
    }
    this.addField('Output', line);
  }

  private addField(key: string, value: string): void {
    const fields = (this.fields ??= new Fields());
    if (fields[key] === undefined) {
      fields[key] = value;
      this.fieldCount++;
    } else {
      this.addRepeat(key, value);
    }
  }

  private addRepeat(key: string, value: string): void {
    const multi = (this.multi ??= Object.create(null) as Record<string, string[]>);
    const list = multi[key];
    if (list === undefined) multi[key] = [(this.fields as Record<string, string>)[key] as string, value];
    else list.push(value);
  }
}
