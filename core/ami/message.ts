/**
 * One AMI message (response, event or list item) as read from the wire.
 *
 * `fields` holds the first value of every key, keyed exactly as cased on the wire.
 * `multi` exists only when some key repeated (Output, Variable, ChanVariable, Contacts, ...):
 * it then holds every value of each repeated key, in wire order, the first one included.
 * Both objects have a null prototype, so a key such as `constructor` is plain data.
 */
export interface AmiMessage {
  fields: Record<string, string>;
  multi?: Record<string, string[]>;
}

/** Header value by key: exact match first, then case-insensitive (Asterisk matches keys case-insensitively). */
export function header(m: AmiMessage, key: string): string | undefined {
  const exact = m.fields[key];
  if (exact !== undefined) return exact;
  const wanted = key.toLowerCase();
  for (const k in m.fields) {
    if (k.toLowerCase() === wanted) return m.fields[k];
  }
  return undefined;
}

/** Every value of a key in wire order ([] when absent). Same key matching as header(). */
export function values(m: AmiMessage, key: string): string[] {
  const multi = m.multi;
  if (multi !== undefined) {
    const exact = multi[key];
    if (exact !== undefined) return exact.slice();
  }
  let wireKey: string | undefined = m.fields[key] !== undefined ? key : undefined;
  if (wireKey === undefined) {
    const wanted = key.toLowerCase();
    for (const k in m.fields) {
      if (k.toLowerCase() === wanted) {
        wireKey = k;
        break;
      }
    }
    if (wireKey === undefined) return [];
  }
  const repeated = multi?.[wireKey];
  return repeated !== undefined ? repeated.slice() : [m.fields[wireKey] as string];
}

declare const Bun: unknown;

/**
 * `s` as a string of its own, sharing no memory with the text it was cut from. The parser hands out every value as
 * a substring of the few KiB of text it decoded at once (core/ami/parser.ts), and the engines keep a substring as a
 * view that pins all of that text: V8 one of 13 characters or more, JavaScriptCore (Bun) one of any length above 1.
 * State that holds a value for as long as a call lasts (a channel, a queue caller) must hold it through own():
 * else each of 10,000 live channels pins the piece its Newchannel came in, and as churn replaces them the pieces
 * get sparser (a few new channels among other events each), so the heap grows with every replaced channel.
 */
export const own: (s: string) => string =
  typeof Bun === 'undefined'
    ? // V8: a new cons string, flattened into a fresh copy by the slice, which views only that copy
      (s) => (s.length < 13 ? s : ` ${s}`.slice(1))
    : // JavaScriptCore keeps a slice of a rope as a view of the rope's parts; a JSON round trip builds a new string
      (s) => (s.length < 2 ? s : (JSON.parse(JSON.stringify(s)) as string));
