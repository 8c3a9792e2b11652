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
