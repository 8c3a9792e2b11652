// Option names and values checked against Asterisk's own lists before a section write reaches pjsip.conf,
// res_parking.conf or queues.conf, so that a typo is a 400 naming the closest valid option ("did you mean ...")
// instead of an option Asterisk silently ignores (or an object it refuses at the next reload).
//
// Where the lists come from:
//   pjsip.conf        over AMI: `config show help` names the modules with config documentation; each res_pjsip*
//                     module lists its object types (`config show help res_pjsip` -> endpoint, aor, auth ...), each
//                     type its options (`config show help res_pjsip endpoint`). A section's type is its `type =`,
//                     else its templates' (a template without a type is not checked: any type may use it).
//   res_parking.conf  over AMI: `config show help res_parking parking_lot` ([general]: `globals`).
//   queues.conf       app_queue is not an ACO module and Asterisk 22 has no list for it over AMI
//                     (`config show help app_queue`: "no config XML documentation"): queue-options.ts, copied from
//                     Asterisk 22's app_queue.c. These checks need no AMI.
// A value's type comes from `config show help <module> <type> <option>`'s [Syntax] line ("[Boolean]",
// "[Integer]", "[Unsigned Integer]", "[Double]"); a Custom option whose description lists its words (protocol: udp,
// tcp ...) takes one of them (choicesOf); other types (String, Codec ...) are not checked.
//
// Everything read over AMI is cached until the AMI connection drops or is made again (reset(), wired in
// core/gateway.ts): one read per list per connection. When Asterisk is not connected, or does not answer, the
// write is not held up: names are not checked (queues.conf's still are), and the answer says so
// (`option_check: {status: "skipped", message}`).
//
// Only the entries a write adds or changes are checked (an option hand-written into the file before stays as it
// is, even when Asterisk does not know it).
import type { ConfigDocument, Section, SectionEntry } from '../../config-store/index.ts';
import { isYesNo } from '../ami/channel-block.ts';
import { ApiError, invalidField } from '../http/errors.ts';
import { QUEUE_GENERAL_OPTIONS, QUEUE_OPTIONS } from './queue-options.ts';

export type OptionType =
  | { kind: 'boolean' | 'integer' | 'unsigned' | 'double' | 'string' }
  | { kind: 'enum'; choices: string[]; orBoolean?: boolean; list?: boolean };

/** What the answer of a write says about the check. */
export interface OptionCheckOutcome {
  status: 'done' | 'skipped';
  message: string;
}

/** The AMI the catalog reads from (the gateway's AmiClient fits). */
export interface OptionsAmi {
  readonly connected: boolean;
  command(cmd: string): Promise<string[]>;
}

/** Files whose options are checked. */
export const CHECKED_FILES = ['pjsip.conf', 'res_parking.conf', 'queues.conf'] as const;

const STRING: OptionType = { kind: 'string' };

/** Where one section's options are listed: Asterisk over AMI, or a fixed list. */
type Source = { module: string; object: string } | { fixed: Record<string, OptionType>; what: string };

export class ConfigOptionCatalog {
  private cache = new Map<string, Promise<unknown>>();

  constructor(private readonly ami: OptionsAmi) {}

  /** Forget what was read: the AMI connection was made again (Asterisk may have been upgraded or reloaded). */
  reset(): void {
    this.cache.clear();
  }

  private cached<T>(key: string, load: () => Promise<T>): Promise<T> {
    let p = this.cache.get(key) as Promise<T> | undefined;
    if (!p) {
      p = load();
      this.cache.set(key, p);
      p.catch(() => this.cache.delete(key)); // a failed read is tried again next time
    }
    return p;
  }

  /** The options Asterisk lists for module:object ([] when it lists none). */
  names(module: string, object: string): Promise<string[]> {
    return this.cached(`names:${module}:${object}`, async () => {
      const out = await this.ami.command(`config show help ${module} ${object}`);
      const at = out.findIndex((l) => l.startsWith('[Config Options]'));
      if (at < 0) return [];
      return out.slice(at + 1).flatMap((l) => /^(\S+)\s+--/.exec(l)?.[1] ?? []);
    });
  }

  /** The type Asterisk gives an option (string when it is not one the gateway checks). */
  type(module: string, object: string, option: string): Promise<OptionType> {
    return this.cached(`type:${module}:${object}:${option}`, async () => {
      const out = await this.ami.command(`config show help ${module} ${object} ${option}`);
      const syntax = out.map((l) => /^\S+ = \[([^\]]+)\]/.exec(l)?.[1]).find((t) => t !== undefined);
      return syntax === 'Custom' ? choicesOf(out) : parseType(syntax);
    });
  }

  /** pjsip.conf object types -> the module that registers them (res_pjsip, res_pjsip_outbound_registration ...). */
  pjsipTypes(): Promise<Map<string, string>> {
    return this.cached('pjsip-types', async () => {
      const modules = (await this.ami.command('config show help')).map((l) => l.trim()).filter((m) => /^res_pjsip\w*$/.test(m));
      const types = new Map<string, string>();
      for (const m of modules) {
        for (const l of await this.ami.command(`config show help ${m}`)) {
          const t = /^(\S+)\s+--/.exec(l)?.[1];
          if (t && !types.has(t)) types.set(t, m);
        }
      }
      return types;
    });
  }

  /**
   * Checks the entries `doc` has that `before` did not (same section name, key and value), for `file`. Throws 400
   * (unknown_option, or invalid_field for a value) naming the option; answers how the check went, or undefined for
   * a file whose options are not checked.
   */
  async check(file: string, before: readonly Section[], doc: ConfigDocument): Promise<OptionCheckOutcome | undefined> {
    if (!(CHECKED_FILES as readonly string[]).includes(file)) return undefined;
    const changed = changedEntries(before, doc.sections());
    const needsAmi = file !== 'queues.conf';
    const skipped = (why: string): OptionCheckOutcome => ({
      status: 'skipped',
      message: `option names and values were not checked against Asterisk's lists: ${why}`,
    });
    if (changed.length === 0) return { status: 'done', message: 'no option was added or changed' };
    if (needsAmi && !this.ami.connected) return skipped('Asterisk is not connected');
    try {
      let checked = 0;
      for (const { section, entries } of changed) {
        const source = await this.sourceFor(file, section, doc);
        if (!source) continue;
        for (const e of entries) {
          await this.checkEntry(source, section.name, e);
          checked++;
        }
      }
      return { status: 'done', message: `${checked} option${checked === 1 ? '' : 's'} checked against Asterisk's lists` };
    } catch (e) {
      if (e instanceof ApiError) throw e;
      return skipped(`Asterisk did not answer (${(e as Error).message})`);
    }
  }

  private async sourceFor(file: string, s: Section, doc: ConfigDocument): Promise<Source | undefined> {
    const general = s.name.toLowerCase() === 'general';
    if (file === 'queues.conf') {
      return general ? { fixed: QUEUE_GENERAL_OPTIONS, what: 'queues.conf [general]' } : { fixed: QUEUE_OPTIONS, what: 'a queue' };
    }
    if (file === 'res_parking.conf') return { module: 'res_parking', object: general ? 'globals' : 'parking_lot' };
    const type = pjsipType(s, doc);
    if (type === undefined) return undefined; // a template any type may use
    const types = await this.pjsipTypes();
    const module = types.get(type);
    if (!module) {
      const known = [...types.keys()];
      const near = closest(type, known);
      throw new ApiError(
        400,
        `data.type: [${s.name}] has type ${JSON.stringify(type)}, which no loaded res_pjsip module registers` +
          `${near ? `; did you mean ${JSON.stringify(near)}?` : ''} (types: ${known.join(', ')})`,
        { field: 'data.type', option: 'type', ...(near ? { suggestion: near } : {}) },
        'unknown_option',
      );
    }
    return { module, object: type };
  }

  private async checkEntry(source: Source, section: string, e: SectionEntry): Promise<void> {
    let type: OptionType;
    if ('fixed' in source) {
      const name = Object.keys(source.fixed).find((k) => k.toLowerCase() === e.key.toLowerCase());
      if (name === undefined) throw unknownOption(e.key, section, Object.keys(source.fixed), source.what);
      type = source.fixed[name]!;
    } else {
      if (e.key.toLowerCase() === 'type') return;
      const names = await this.names(source.module, source.object);
      if (names.length === 0) return; // Asterisk lists none for it: nothing to check against
      const name = names.find((n) => n.toLowerCase() === e.key.toLowerCase());
      if (name === undefined) throw unknownOption(e.key, section, names, `${source.module} ${source.object}`);
      type = await this.type(source.module, source.object, name);
    }
    const problem = valueProblem(type, e.value);
    if (problem) throw invalidField(`data.${e.key}`, `[${section}] ${e.key} = ${JSON.stringify(e.value)}: ${problem}`);
  }
}

function parseType(syntax: string | undefined): OptionType {
  switch (syntax) {
    case 'Boolean':
      return { kind: 'boolean' };
    case 'Integer':
      return { kind: 'integer' };
    case 'Unsigned Integer':
      return { kind: 'unsigned' };
    case 'Double':
      return { kind: 'double' };
    default:
      return STRING;
  }
}

/**
 * A Custom option whose [Description] lists its values, one per line indented by four spaces (`    udp`,
 * `    invite - ...`), as res_pjsip's protocol, dtmf_mode or direct_media_method do: those words are its choices.
 * Lines that are not a plain word (`<digest-spec>`, "header.") do not count; fewer than two words: not checked.
 * The value may be a comma list (identify_by = username,ip), each part one of the words; where yes or no is among
 * them, any yes/no word Asterisk reads passes too.
 */
function choicesOf(out: readonly string[]): OptionType {
  const from = out.indexOf('[Description]');
  const to = out.indexOf('[Syntax]');
  if (from < 0 || to < from) return STRING;
  const words = out.slice(from + 1, to).flatMap((l) => /^ {4}([A-Za-z0-9_-]+)(?: - .*)?$/.exec(l)?.[1] ?? []);
  const choices = [...new Set(words)];
  if (choices.length < 2) return STRING;
  return { kind: 'enum', choices, orBoolean: choices.some((c) => /^(yes|no)$/i.test(c)), list: true };
}

/** What is wrong with `value` for an option of `type`, or null. */
export function valueProblem(type: OptionType, value: string): string | null {
  switch (type.kind) {
    case 'boolean':
      return isYesNo(value) ? null : 'must be a boolean (yes or no)';
    case 'integer':
      return /^[-+]?\d+$/.test(value) ? null : 'must be an integer';
    case 'unsigned':
      return /^\+?\d+$/.test(value) ? null : 'must be an unsigned integer (0 or more)';
    case 'double':
      return value !== '' && Number.isFinite(Number(value)) ? null : 'must be a number';
    case 'enum': {
      const fits = (x: string) => type.choices.some((c) => c.toLowerCase() === x.toLowerCase()) || (type.orBoolean === true && isYesNo(x));
      if (type.list ? value.split(',').every((x) => fits(x.trim())) : fits(value)) return null;
      const words = type.orBoolean && !type.list ? `yes, no or ${type.choices.join(', ')}` : `one of ${type.choices.join(', ')}`;
      return `must be ${words}${type.list ? ' (or a comma list of them)' : ''}`;
    }
    default:
      return null;
  }
}

function unknownOption(key: string, section: string, names: readonly string[], what: string): ApiError {
  const near = closest(key, names);
  return new ApiError(
    400,
    `data.${key}: [${section}] ${JSON.stringify(key)} is not an option of ${what} as Asterisk lists them` +
      (near ? `; did you mean ${JSON.stringify(near)}?` : ''),
    { field: `data.${key}`, option: key, ...(near ? { suggestion: near } : {}) },
    'unknown_option',
  );
}

/** The name nearest to `word` (case-insensitive edit distance), when it is near enough to be a likely typo. */
export function closest(word: string, names: readonly string[]): string | undefined {
  const w = word.toLowerCase();
  let best: string | undefined;
  let bestD = Number.POSITIVE_INFINITY;
  for (const n of names) {
    const d = editDistance(w, n.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = n;
    }
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(w.length / 3)) ? best : undefined;
}

/** Levenshtein distance (insert, delete, substitute). */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}

/** A pjsip.conf section's type: its own `type =`, else the first of its templates' (depth-first, as Asterisk applies them). */
function pjsipType(s: Section, doc: ConfigDocument, depth = 0): string | undefined {
  for (let i = s.entries.length - 1; i >= 0; i--) if (s.entries[i]!.key.toLowerCase() === 'type') return s.entries[i]!.value;
  if (depth > 8) return undefined;
  for (const t of s.templates) {
    const tpl = doc.countSections(t) > 0 ? doc.section(t, { sectionIndex: 0 }) : undefined;
    const found = tpl && pjsipType(tpl, doc, depth + 1);
    if (found) return found;
  }
  return undefined;
}

/** The entries of `after` that `before` had not (by section name, key and value, counted), per section. */
function changedEntries(before: readonly Section[], after: readonly Section[]): { section: Section; entries: SectionEntry[] }[] {
  const had = new Map<string, number>();
  const id = (s: Section, e: SectionEntry) => `${s.name}\u0000${e.key}\u0000${e.value}`;
  for (const s of before) for (const e of s.entries) had.set(id(s, e), (had.get(id(s, e)) ?? 0) + 1);
  const out: { section: Section; entries: SectionEntry[] }[] = [];
  for (const s of after) {
    const entries: SectionEntry[] = [];
    for (const e of s.entries) {
      const n = had.get(id(s, e)) ?? 0;
      if (n > 0) had.set(id(s, e), n - 1);
      else entries.push(e);
    }
    if (entries.length) out.push({ section: s, entries });
  }
  return out;
}
