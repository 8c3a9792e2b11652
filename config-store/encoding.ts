/**
 * Bytes <-> text without losing a byte. Asterisk reads bytes; most files are UTF-8, but some
 * samples (minivm.conf) are ISO-8859-1. Invalid UTF-8 is read as Latin-1, which maps every byte
 * to one character, and written back the same way.
 */
import * as nodeBuffer from 'node:buffer';
import { badConfig } from './errors.ts';

export type TextEncodingName = 'utf8' | 'latin1';

export interface DecodedText {
  text: string;
  encoding: TextEncodingName;
}

// ignoreBOM: keep a BOM as U+FEFF so it round-trips (the parser skips it on line 1).
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

// Node >= 18.15 and Bun have it; looked up so an older runtime just takes the general path.
const isAscii = (nodeBuffer as { isAscii?: (b: Uint8Array) => boolean }).isAscii;

export function decodeConfigBytes(bytes: Uint8Array): DecodedText {
  // Pure ASCII (most config files): the same text read as Latin-1, which V8 keeps one byte per
  // character; the UTF-8 decoders hand back a string that the 100k-line scans walk much slower.
  if (isAscii?.(bytes)) return { text: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1'), encoding: 'utf8' };
  try {
    return { text: strictUtf8.decode(bytes), encoding: 'utf8' };
  } catch {
    return { text: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1'), encoding: 'latin1' };
  }
}

export function encodeConfigText(text: string, encoding: TextEncodingName, fileName = ''): Buffer {
  if (encoding === 'latin1') {
    // A character above U+00FF has no Latin-1 byte; refuse instead of writing '?'.
    const wide = /[^\u0000-\u00ff]/.exec(text);
    if (wide) throw badConfig(`${fileName || 'the file'} is not UTF-8 (read as Latin-1); it cannot hold ${JSON.stringify(wide[0])}`);
  }
  return Buffer.from(text, encoding);
}
