// A section of a config file as the API shows and takes it: two forms, with their schemas.
//
// The array form keeps every line: one `{key: value}` per entry, in file order, where a value starting with "> "
// marks `key => value`; entries this cannot show exactly (`+=`, or `=` with a value that starts with '>') are
// written `{key, op, value}`. The object form `{key: value}` is shorter but cannot hold a key twice: a section that
// repeats a key (or uses +=) is always answered in the array form, and an object-form write to it is refused (409,
// service.ts). Every write takes both forms; a route's form (or `?form=`) only picks the answer's.
//
// Names, keys and values follow config-store's own rules (validateName, validateKey ...), run as schema checks, so
// a request is refused whole, with the rule's message, before the file is read.
import {
  ConfigError,
  validateKey,
  validateName,
  validateTemplateName,
  type EntryInput,
  type Section,
  type SectionEntry,
} from '../../config-store/index.ts';
import { ReloadOutcomeSchema } from '../config-files.ts';
import { choose, dict, line, list, named, nonNegInt, nullable, num, obj, oneOf, opt, ownDict, v, type Out } from '../contract/schema.ts';

export type SectionForm = 'array' | 'object';
export const FORMS = ['array', 'object'] as const;
const OPS = ['=', '=>', '+='] as const;

/** A config-store rule as a schema check: the rule's message (`key "a=b" must not contain '='`) is the issue's. */
function storeRule(rule: (s: string) => void) {
  return v.rawCheck<string>(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    try {
      rule(dataset.value);
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      addIssue({ message: e.message });
    }
  });
}

const isMapping = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

// ---------------------------------------------------------------------------------------------------------------
// input

/** A section name: one line, no '[', ']' or ';'. */
export const SectionNameSchema = v.pipe(
  v.string('must be a string'),
  storeRule(validateName),
  v.description('the section name, without [ ]'),
);

/** A template a section uses: `[name](template)`. */
export const TemplateNameSchema = v.pipe(
  v.string('must be a string'),
  storeRule(validateTemplateName),
  v.description('a template section (made with is_template) whose entries this one inherits'),
);

const EntryKey = v.pipe(v.string('must be a string'), storeRule(validateKey), v.description('the option, e.g. exten, member, parkpos'));

/** A value: one line; a number is written as its digits (parkingtime: 30). */
const EntryValue = v.pipe(
  v.union([line(), v.pipe(num(), v.transform(String))], 'must be a string'),
  v.description('the value (a number is written as its digits)'),
);

/** `{"exten": "> 100,1,NoOp()"}`: one key; a value starting with ">" is `key => value`. */
const OneKeyEntry = v.pipe(
  ownDict(EntryKey, EntryValue),
  v.entries(1, 'must have exactly one key'),
  v.description('{"key": "value"}: a value starting with ">" is written key => value'),
  v.transform((o): EntryInput => {
    const [key, value] = Object.entries(o)[0]!;
    // "> value" is `key => value`; Asterisk trims values, so "> x" and ">x" read the same.
    return value.startsWith('>') ? { key, op: '=>', value: value.slice(1) } : { key, op: '=', value };
  }),
);

/** `{"key": "setvar", "op": "+=", "value": "x"}`: any line exactly. */
const ExplicitEntry = v.pipe(
  obj({ key: EntryKey, op: opt(oneOf(OPS, 'the operator; default =')), value: EntryValue }),
  v.transform((o): EntryInput => ({ key: o.key, op: o.op ?? '=', value: o.value })),
);

export const EntryInputSchema = named(
  'ConfigEntryInput',
  v.pipe(
    v.union([OneKeyEntry, ExplicitEntry], 'must be {"key": "value"} (one key) or {"key": ..., "op": ..., "value": ...}'),
    v.description('one line of a section, as sent: {"key": "value"} or {"key", "op", "value"}'),
  ),
);

const Entry = choose(EntryInputSchema, (x) => {
  if (!isMapping(x)) return undefined;
  const keys = Object.keys(x);
  if (keys.length === 1) return OneKeyEntry;
  if (keys.every((k) => k === 'key' || k === 'op' || k === 'value')) return ExplicitEntry;
  return undefined;
});

const ARRAY_FORM = 'the array form: every line, in order';
const ArrayData = v.pipe(list(Entry), v.description(ARRAY_FORM));
const ObjectData = v.pipe(ownDict(EntryKey, EntryValue), v.description('the object form: key: value (no key twice)'));

// The documented union holds EntryInputSchema itself, not the `choose` of it: a named schema must not hold a lazy
// one (see choose). Arrays are checked by ArrayData, so this one only answers input of neither form.
export const SectionDataInputSchema = named(
  'ConfigSectionDataInput',
  v.pipe(
    v.union(
      [v.pipe(list(EntryInputSchema), v.description(ARRAY_FORM)), ObjectData],
      'must be an array of {"key": "value"} or an object of key: value',
    ),
    v.description("a section's entries, in either form; a PUT replaces them all"),
  ),
);

/** A section's entries as sent: the array form (EntryInput[]) or the object form (key: value). */
export const SectionDataSchema = choose(SectionDataInputSchema, (x) =>
  Array.isArray(x) ? ArrayData : isMapping(x) ? ObjectData : undefined,
);
export type SectionData = Out<typeof SectionDataSchema>;

// ---------------------------------------------------------------------------------------------------------------
// PATCH: a partial change
//
// `{"key": "value"}` sets a key: its line is rewritten in place (its comment stays, and its op: `parkpos => 1-9`
// stays `=>` unless the value starts with ">", which asks for `=>`); a key not in the section is added after its
// last entry. `{"key": null}` removes every line of that key. `{"key": ["a", "> b"]}` is the array form of a key that
// repeats (member =>, exten =>): the values replace that key's lines in place and in order, the first value the
// first line, and so on; extra values go after the key's last line, lines left over are removed ([] removes all).
// A plain value for a key that repeats is refused (409): it would say which line to keep. Keys not given keep
// their lines byte for byte.

const PatchValue = v.pipe(
  v.union([v.null(), line(), v.pipe(num(), v.transform(String)), list(EntryValue)], 'must be a string, a number, null or an array of them'),
  v.description('a value: sets the key; null removes it; an array replaces every line of a key that repeats, in order'),
);

export const SectionPatchDataSchema = named(
  'ConfigSectionPatch',
  v.pipe(
    ownDict(EntryKey, PatchValue),
    v.description('the keys to change: "value" sets, null removes, ["a", "b"] replaces the lines of a repeated key; keys left out stay'),
  ),
);
export type SectionPatch = Out<typeof SectionPatchDataSchema>;

/** A patch value as an entry: "> x" is `key => x`; otherwise the op is left to the line it replaces (section-edits). */
function patchEntry(key: string, value: string): EntryInput {
  return value.startsWith('>') ? { key, op: '=>', value: value.slice(1) } : { key, value };
}

/**
 * The entries a section has after `patch`, for replaceSectionEntries (which rewrites only the lines that differ).
 * Throws the key that repeats when a plain value is given for it (the caller answers 409).
 */
export function patchEntries(old: readonly SectionEntry[], patch: SectionPatch): EntryInput[] | { repeats: string } {
  const has = (k: string) => Object.hasOwn(patch, k);
  const count = new Map<string, number>();
  for (const e of old) count.set(e.key, (count.get(e.key) ?? 0) + 1);
  for (const [k, val] of Object.entries(patch)) if (typeof val === 'string' && (count.get(k) ?? 0) > 1) return { repeats: k };
  const values = (k: string): string[] => {
    const val = patch[k];
    return val === null || val === undefined ? [] : Array.isArray(val) ? val : [val];
  };
  const out: EntryInput[] = [];
  const seen = new Map<string, number>();
  for (const e of old) {
    if (!has(e.key)) {
      out.push({ key: e.key, op: e.op, value: e.value });
      continue;
    }
    const i = seen.get(e.key) ?? 0;
    seen.set(e.key, i + 1);
    const want = values(e.key);
    if (i < want.length) out.push(patchEntry(e.key, want[i]!));
    if (i + 1 === count.get(e.key)) for (const rest of want.slice(i + 1)) out.push(patchEntry(e.key, rest));
  }
  for (const k of Object.keys(patch)) if (!count.has(k)) for (const val of values(k)) out.push(patchEntry(k, val));
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// answers

export const EntrySchema = named(
  'ConfigEntry',
  v.pipe(
    v.union([
      v.pipe(dict(line()), v.entries(1), v.description('{"key": "value"}; a value starting with "> " is key => value')),
      obj(
        { key: line(), op: oneOf(OPS), value: line() },
        'a line the short form cannot show exactly (+=, or = with a value starting with ">")',
      ),
    ]),
    v.description('one line of a section in the array form'),
  ),
);

const sectionEntries = {
  name: line('the section name'),
  index: v.optional(nonNegInt('which of the sections of this name (0, 1 ...); only when the file has more than one')),
  data: v.union([
    v.pipe(list(EntrySchema), v.description('the array form: every line, in order')),
    v.pipe(dict(line()), v.description('the object form: key: value')),
  ]),
  templates: v.optional(list(line(), 'the templates it uses: [name](t1,t2)')),
  is_template: v.optional(v.pipe(v.literal(true), v.description('a template: [name](!)'))),
};

export const SectionSchema = named('ConfigSection', obj(sectionEntries, 'one section of a config file'));
export type SectionView = Out<typeof SectionSchema>;

const written = {
  backup: nullable(line('the backup of the file as it was; null when nothing changed')),
  reload: ReloadOutcomeSchema,
};

/** How the option check of options.ts went (pjsip.conf, res_parking.conf, queues.conf only). */
export const OptionCheckSchema = named(
  'ConfigOptionCheck',
  obj(
    {
      status: oneOf(['done', 'skipped'] as const, "done: checked against Asterisk's lists; skipped: Asterisk was not connected"),
      message: line('what was checked, or why not'),
    },
    "the check of the options written against Asterisk's own lists",
  ),
);

export const SectionWrittenSchema = named(
  'ConfigSectionWritten',
  obj({ ...sectionEntries, ...written, option_check: v.optional(OptionCheckSchema) }, 'the section as written'),
);
export const SectionDeletedSchema = named('ConfigSectionDeleted', obj({ name: line('the section name'), ...written }));

// ---------------------------------------------------------------------------------------------------------------
// views

/** One entry in the array form; exact for every op and value. */
export function entryToItem(e: SectionEntry): Out<typeof EntrySchema> {
  if (e.op === '=>') return { [e.key]: `> ${e.value}` };
  if (e.op === '=' && !e.value.startsWith('>')) return { [e.key]: e.value };
  return { key: e.key, op: e.op, value: e.value };
}

export function repeatedKeys(entries: readonly SectionEntry[]): string[] {
  const seen = new Set<string>();
  const rep = new Set<string>();
  for (const e of entries) {
    if (seen.has(e.key)) rep.add(e.key);
    seen.add(e.key);
  }
  return [...rep];
}

/** The API view of a section: the object form only when it is exact (no key twice, no +=). */
export function view(s: Section, form: SectionForm, showIndex: boolean): SectionView {
  let data: SectionView['data'];
  if (form === 'object' && repeatedKeys(s.entries).length === 0 && s.entries.every((e) => e.op !== '+=')) {
    const o: Record<string, string> = Object.create(null); // a key named __proto__ stays a key
    for (const e of s.entries) o[e.key] = e.value;
    data = o;
  } else {
    data = s.entries.map(entryToItem);
  }
  const out: SectionView = showIndex ? { name: s.name, index: s.index, data } : { name: s.name, data };
  if (s.templates.length) out.templates = [...s.templates];
  if (s.isTemplate) out.is_template = true;
  return out;
}
