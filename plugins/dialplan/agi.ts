// AsyncAGI wire details, checked against Asterisk 22 (res_agi): what AsyncAGIStart's Env and AsyncAGIExec's Result
// carry, which AGI commands exist, how an adp's `command` becomes the text of an AMI `AGI` action's Command header,
// and how `core show channels concise` shows a channel sitting in AGI(agi:async,...). Pure functions, no I/O.

/**
 * The AGI commands of Asterisk 22 (`agi show commands`), lower case. The integration test compares this list with
 * the real Asterisk's. `asyncagi break` is left out on purpose: the gateway ends every session itself.
 */
export const AGI_COMMANDS: readonly string[] = [
  'answer',
  'channel status',
  'control stream file',
  'database del',
  'database deltree',
  'database get',
  'database put',
  'exec',
  'get data',
  'get full variable',
  'get option',
  'get variable',
  'gosub',
  'hangup',
  'noop',
  'receive char',
  'receive text',
  'record file',
  'say alpha',
  'say date',
  'say datetime',
  'say digits',
  'say number',
  'say phonetic',
  'say time',
  'send image',
  'send text',
  'set autohangup',
  'set callerid',
  'set context',
  'set extension',
  'set music',
  'set priority',
  'set variable',
  'speech activate grammar',
  'speech create',
  'speech deactivate grammar',
  'speech destroy',
  'speech load grammar',
  'speech recognize',
  'speech set',
  'speech unload grammar',
  'stream file',
  'tdd mode',
  'verbose',
  'wait for digit',
];

/** Asterisk reads AMI lines into a 1025-byte buffer; `Command: ` and the CRLF must fit beside the command. */
export const MAX_AGI_COMMAND_BYTES = 1000;

/** `Application(data)`: the dialplan form of a command. */
const APP_FORM = /^([A-Za-z][A-Za-z0-9_]*)\(([\s\S]*)\)$/;

export interface ParsedCommand {
  /** The text sent as the AGI action's Command header. */
  agi: string;
  /** The AGI command word(s), lower case: `exec`, `set variable`, ... */
  verb: string;
}

/**
 * Quote one AGI argument the way res_agi's parse_args reads it: inside double quotes, with `"` and `\` escaped by a
 * backslash. Plain words (no blank, quote or backslash) go as they are.
 */
export function agiQuote(arg: string): string {
  if (arg !== '' && !/[\s"\\]/.test(arg)) return arg;
  return `"${arg.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/**
 * An adp's command as the AGI text to send, or an error message. Two forms are accepted:
 *  - an AGI command, e.g. `EXEC Playback hello-world`, `SET VARIABLE GW_DONE yes` (case-insensitive command words);
 *  - a dialplan application with its data, e.g. `Playback(hello-world)`, `Set(GREETING=hello world)`, which is sent
 *    as `EXEC Playback hello-world` / `EXEC Set "GREETING=hello world"` (EXEC passes one argument to the application).
 */
export function parseCommand(command: string): ParsedCommand | { error: string } {
  if (/[\r\n\0]/.test(command)) return { error: 'must not contain CR, LF or NUL characters' };
  const text = command.trim();
  if (text === '') return { error: 'is empty (use null for an adp that runs nothing)' };
  let parsed: ParsedCommand;
  const app = APP_FORM.exec(text);
  if (app) {
    const [, name, data] = app;
    parsed = { agi: data === '' ? `EXEC ${name}` : `EXEC ${name} ${agiQuote(data!)}`, verb: 'exec' };
  } else {
    const words = text.toLowerCase().split(/[ \t]+/);
    if (words[0] === 'asyncagi') return { error: 'ASYNCAGI BREAK is sent by the gateway itself after the last adp' };
    let verb: string | undefined;
    for (const c of AGI_COMMANDS) {
      const n = c.split(' ').length;
      if (words.slice(0, n).join(' ') === c && (!verb || n > verb.split(' ').length)) verb = c;
    }
    if (!verb) {
      return {
        error:
          `"${text
            .split(/[ \t]+/)
            .slice(0, 3)
            .join(' ')}" is not an AGI command of Asterisk 22; ` +
          'write an AGI command (e.g. "EXEC Playback hello-world", "SET VARIABLE NAME value") or an application as "Playback(hello-world)"',
      };
    }
    if (verb === 'exec' && words.length < 2) return { error: 'EXEC needs an application name (EXEC <application> [<data>])' };
    parsed = { agi: text, verb };
  }
  if (Buffer.byteLength(parsed.agi, 'utf8') > MAX_AGI_COMMAND_BYTES) {
    return { error: `is longer than ${MAX_AGI_COMMAND_BYTES} bytes as an AGI command` };
  }
  return parsed;
}

/** AsyncAGIStart's Env: url-encoded `agi_name: value` lines, ending with a blank line. */
export function parseAgiEnv(env: string | undefined): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  if (!env) return out;
  for (const line of urlDecode(env).split('\n')) {
    const i = line.indexOf(':');
    if (i <= 0) continue;
    out[line.slice(0, i).trim()] = line.slice(i + 1).replace(/^ /, '');
  }
  return out;
}

/**
 * Asterisk's ast_uri_encode output: %XX escapes of UTF-8 bytes. Each run of escapes is decoded as UTF-8 (a byte that
 * is not valid UTF-8 becomes U+FFFD); text outside escapes is kept, so a malformed `%` never fails the whole value.
 */
export function urlDecode(s: string): string {
  if (!s.includes('%')) return s;
  return s.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => Buffer.from(run.replace(/%/g, ''), 'hex').toString('utf8'));
}

export interface AgiResult {
  /** The decoded reply line, e.g. `200 result=1 (hello)`. */
  text: string;
  /** 200 on success; 510 unknown command, 511 dead channel, 520 usage. null when the line has no code. */
  code: number | null;
  /** The number after `result=`, or null. */
  result: number | null;
}

/** AsyncAGIExec's Result: the url-encoded AGI reply line, e.g. `200%20result%3D0%0A`. */
export function parseAgiResult(raw: string | undefined): AgiResult {
  const text = urlDecode(raw ?? '')
    .replace(/\n+$/, '')
    .split('\n')[0]!
    .trim();
  const m = /^(\d{3})(?:[ -]|$)/.exec(text);
  const r = /\bresult=(-?\d+)/.exec(text);
  return { text, code: m ? Number(m[1]) : null, result: r ? Number(r[1]) : null };
}

/** The arguments after `agi:async` in `AGI(agi:async,<arg1>,...)`'s application data. */
export function asyncAgiArgs(appData: string): string[] | null {
  const parts = appData.split(',');
  if (parts[0]!.trim().toLowerCase() !== 'agi:async') return null;
  return parts.slice(1).map((a) => a.trim());
}

export interface ConciseChannel {
  channel: string;
  application: string;
  data: string;
  unique_id: string;
}

/**
 * `core show channels concise`: `channel!context!exten!priority!state!application!data!callerid!accountcode!
 * peeraccount!amaflags!duration!bridgeid!uniqueid`. The data may itself contain `!`, so the seven fields after it
 * are taken from the right.
 */
export function parseConciseChannels(lines: string[]): ConciseChannel[] {
  const out: ConciseChannel[] = [];
  for (const line of lines) {
    const f = line.split('!');
    if (f.length < 14) continue;
    const tail = f.slice(-7);
    out.push({ channel: f[0]!, application: f[5]!, data: f.slice(6, f.length - 7).join('!'), unique_id: tail[6]! });
  }
  return out;
}
