// The whole-file shapes of the config routes (the section shapes are in section-form.ts); the reload outcome is
// core/config-files.ts's ReloadOutcome.
import { ReloadOutcomeSchema } from '../config-files.ts';
import { line, named, nullable, obj, opt, text, v } from '../contract/schema.ts';
import { OptionCheckSchema } from './section-form.ts';

export const ConfigFileSchema = named(
  'ConfigFile',
  obj({
    name: line('the file name, or a backup of it: <file>.<ISO timestamp>'),
    data: text('the whole file'),
  }),
);

export const ConfigFileWrittenSchema = named(
  'ConfigFileWritten',
  obj({
    name: line('the file name'),
    backup: nullable(line('the backup of the file as it was (a name for GET and DELETE); null when nothing changed')),
    reload: ReloadOutcomeSchema,
    option_check: v.optional(OptionCheckSchema),
  }),
);

/** PUT of a whole file as JSON. */
export const ConfigFileBodySchema = obj({
  data: text('the whole new file'),
  name: opt(line('the file name; when given, it must be the one in the URL')),
});
