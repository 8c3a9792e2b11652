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

export const SectionWrittenSchema = named('ConfigSectionWritten', obj({ ...sectionEntries, ...written }, 'the section as written'));
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
