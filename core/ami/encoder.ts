import { AmiInputError } from './errors.ts';

/** Values an action header may take. Arrays repeat the header (e.g. Variable); undefined omits it. */
export type AmiHeaderValue = string | number | boolean | string[] | undefined;
export type AmiHeaders = Record<string, AmiHeaderValue>;

// Asterisk reads requests into a 1025-byte line buffer and answers an over-long line with an
// error that carries no ActionID (the action would hang until timeout). Stay safely below it.
const MAX_LINE_BYTES = 1022;

/** Keys the client owns: a second Action/ActionID header would be ignored or change the request. */
const RESERVED_KEYS = new Set(['action', 'actionid']);

function checkText(field: string, text: string): void {
  // CR or LF would end the header early and let the value inject further headers or actions.
  if (text.indexOf('\r') !== -1 || text.indexOf('\n') !== -1) {
    throw new AmiInputError(field, 'contains CR or LF');
  }
}

function checkLine(field: string, line: string): void {
  if (line.length > MAX_LINE_BYTES / 3 && Buffer.byteLength(line, 'utf8') > MAX_LINE_BYTES) {
    throw new AmiInputError(field, `line longer than ${MAX_LINE_BYTES} bytes`);
  }
}

function valueText(key: string, value: string | number | boolean): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  throw new AmiInputError(key, `unsupported value ${String(value)}`);
}

/**
 * Encodes one action as wire text (`Action`, `ActionID`, the headers, blank line).
 * Throws AmiInputError before producing anything if a key or value could break the framing.
 */
export function encodeAction(name: string, actionId: string, headers: AmiHeaders): string {
  checkText('Action', name);
  if (name.trim() === '') throw new AmiInputError('Action', 'is empty');
  checkText('ActionID', actionId);
  let text = `Action: ${name}\r\nActionID: ${actionId}\r\n`;
  checkLine('Action', `Action: ${name}`);
  checkLine('ActionID', `ActionID: ${actionId}`);
  for (const key of Object.keys(headers)) {
    const value = headers[key];
    if (value === undefined) continue;
    if (key === '') throw new AmiInputError(key, 'empty key');
    if (key.indexOf(':') !== -1) throw new AmiInputError(key, 'key contains ":"');
    checkText(key, key);
    if (RESERVED_KEYS.has(key.toLowerCase())) throw new AmiInputError(key, 'is set by the client');
    if (Array.isArray(value)) {
      for (const item of value) {
        const itemText = valueText(key, item);
        checkText(key, itemText);
        const line = `${key}: ${itemText}`;
        checkLine(key, line);
        text += line + '\r\n';
      }
    } else {
      const valueString = valueText(key, value);
      checkText(key, valueString);
      const line = `${key}: ${valueString}`;
      checkLine(key, line);
      text += line + '\r\n';
    }
  }
  return text + '\r\n';
}
