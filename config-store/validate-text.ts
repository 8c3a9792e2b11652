import { parseConfigLazy } from './document.ts';

/**
 * Whole-file check before a PUT: throws ConfigError 400 naming the first line Asterisk would
 * refuse (unclosed `[header` or `(options`, a block comment never closed, a variable before any
 * section, a stray `--;`, an unknown template, a line over 8190 bytes). Warnings pass.
 * The count comes from the lazy parse (exact, and it reads only the lines that can be wrong);
 * only a text with errors gets the full parse that names them.
 */
export function validateText(text: string, fileName = ''): void {
  if (typeof text !== 'string') throw new TypeError('validateText: text must be a string');
  const doc = parseConfigLazy(text, fileName);
  if (doc.errorCount() > 0) doc.assertValid();
}
