import { parseConfig } from './document.ts';

/**
 * Whole-file check before a PUT: throws ConfigError 400 naming the first line Asterisk would
 * refuse (unclosed `[header` or `(options`, a block comment never closed, a variable before any
 * section, a stray `--;`, an unknown template, a line over 8190 bytes). Warnings pass.
 */
export function validateText(text: string, fileName = ''): void {
  if (typeof text !== 'string') throw new TypeError('validateText: text must be a string');
  parseConfig(text, fileName).assertValid();
}
