// REST routes over one of Asterisk's config files, declared for the plugin that serves it (tag, summaries and paths
// come from the spec, so every plugin's routes read as its own in the documents):
//
//   registerConfigFileRoutes(ctx, {file, base, tag})          whole file + backups   (spec: /admin/*/configurations)
//     GET    base           {list: [{name, data}]}      the current file first, then its backups, newest first
//     GET    base/<name>    {name, data}                the current file or one of its backups
//     PUT    base/<name>    {data: "<text>"}            replace the current file (or the text itself, text/plain)
//     DELETE base/<name>                                delete a backup (the current file is refused)
//
//   registerConfigSectionRoutes(ctx, {file, base, tag, form, filter, noun})   sections (contexts, lots, queues)
//     GET    base           {list: [{name, data, index?}]}
//     POST   base           {name, data?, templates?, is_template?}
//     GET    base/<name>    {name, data, index?}       ?index=N picks among sections that share a name
//     PUT    base/<name>    {data}                     replaces the section's entries
//     PATCH  base/<name>    {data: {key: value|null|[values]}}   changes only the keys given (section-form.ts)
//     DELETE base/<name>
//
// Section data comes in the two forms of section-form.ts. Bodies are checked by the schemas first (400 before any
// byte is read or written); answers carry the file's ETag header, and writes honour If-Match (service.ts).
import type { Context } from 'hono';
import { route } from '../contract/route.ts';
import { listOf, obj, opt, oneOf, pathName, queryInt, list, bool, ignored, line, nonNegInt, text, v } from '../contract/schema.ts';
import { ok } from '../http/envelope.ts';
import { ConfigDryRunSchema, WRITE_MODE_QUERY, writeMode } from '../config-files.ts';
import { ConfigFileBodySchema, ConfigFileSchema, ConfigFileWrittenSchema } from './schemas.ts';
import {
  FORMS,
  SectionDataSchema,
  SectionDeletedSchema,
  SectionNameSchema,
  SectionPatchDataSchema,
  SectionSchema,
  SectionWrittenSchema,
  TemplateNameSchema,
  type SectionForm,
} from './section-form.ts';
import { ConfigFileService, ConfigSectionService, type ConfigRoutesContext, type Tagged } from './service.ts';

export type { ConfigRoutesContext };
export type { SectionForm };

export interface ConfigFileRoutesSpec {
  /** Plain file name in asterisk.config_dir, e.g. 'extensions.conf'. */
  file: string;
  /** Route path without /v1, e.g. '/admin/dialplan/configurations'; the role follows the path. */
  base: string;
  /** The documents' tag: the plugin serving the file. */
  tag: string;
}

export interface ConfigSectionRoutesSpec extends ConfigFileRoutesSpec {
  /** The form answers use (both are accepted on input). */
  form: SectionForm;
  /** Which sections this path may see and edit: others are answered 404, and creating one is refused (403). */
  filter?: (name: string) => boolean;
  /** What one section is called in messages and summaries: 'context', 'parking lot', 'queue'. Default 'section'. */
  noun?: string;
  /** What the filter leaves out, in words, for the documents ("[general] and [globals]"). */
  filterNote?: string;
}

const IF_MATCH =
  'Send the ETag header of the GET you based the change on as If-Match: if the file changed since, the answer is ' +
  '412 and nothing is written. Without If-Match the edit applies to the file as it is on disk now.';
const ETAG = "The answer's ETag header is the file's (the next write's If-Match).";
const RELOAD =
  'After a write the module the file feeds is reloaded: `reload` says how that went (done, failed, pending while ' +
  'Asterisk is not connected: made on reconnect, none when nothing changed). `backup` names the copy of the old file.';

const ifMatch = (c: Context) => c.req.header('if-match');

const MODES =
  '?dry_run=true checks the write as for real (400, 404, 409, 412 alike) and answers the unified diff it would make ' +
  'and the reload it would do (ConfigDryRun), writing nothing. ?reload=later writes without reloading (reload.status ' +
  'later; POST /v1/admin/config/apply reloads). After a reload the gateway checks that Asterisk took the file; if ' +
  'not, the previous file is put back and reloaded, and the answer is 422 reload_rejected.';
/** A write's answer: what was written, or on ?dry_run=true the diff. */
const orDryRun = <S extends v.GenericSchema>(s: S) => v.union([s, ConfigDryRunSchema]);

/** The answer with the file's ETag header. */
function tagged<T>({ result, etag }: Tagged<T>): Response {
  return ok(result, 200, etag ? { etag } : undefined);
}

// ---------------------------------------------------------------------------------------------------------------
// whole file

export function registerConfigFileRoutes(ctx: ConfigRoutesContext, spec: ConfigFileRoutesSpec): void {
  const { router: r } = ctx;
  const { file, base } = spec;
  const svc = new ConfigFileService(ctx.configFiles, file, base, ctx.configOptions);
  const tags = [spec.tag];
  const params = { name: v.pipe(pathName('configuration name'), v.description(`${file}, or a backup of it (${file}.<ISO timestamp>)`)) };

  r.add(
    route({
      method: 'GET',
      path: base,
      summary: `${file} and its backups`,
      tags,
      description: `The current ${file} first (left out when it does not exist), then its backups, newest first. ${ETAG}`,
      responses: { 200: listOf(ConfigFileSchema) },
      handler: async () => tagged(await svc.list()),
    }),
  );
  r.add(
    route({
      method: 'GET',
      path: `${base}/:name`,
      summary: `${file} or one of its backups`,
      tags,
      description: ETAG,
      params,
      responses: { 200: ConfigFileSchema },
      errors: [404],
      handler: async (_c, { params }) => tagged(await svc.read(params.name)),
    }),
  );
  r.add(
    route({
      method: 'PUT',
      path: `${base}/:name`,
      summary: `Replace ${file}`,
      tags,
      description:
        `The whole new file, as JSON {"data": "<text>"} or as the text itself (Content-Type: text/plain). It is checked ` +
        `whole first: a line Asterisk would not read is 400, naming the line, with every problem in result.problems. ` +
        `A backup cannot be changed (400). ${IF_MATCH} ${ETAG} ${RELOAD} ${MODES}`,
      params,
      query: WRITE_MODE_QUERY,
      body: ConfigFileBodySchema,
      textBody: v.pipe(
        text(`the whole new ${file}`),
        v.transform((data): { data: string; name?: string } => ({ data })),
      ),
      responses: { 200: orDryRun(ConfigFileWrittenSchema) },
      errors: [404, 412, 422, 504, 507],
      handler: async (c, { params, query, body }) => tagged(await svc.replace(params.name, body, ifMatch(c), writeMode(query))),
    }),
  );
  r.add(
    route({
      method: 'DELETE',
      path: `${base}/:name`,
      summary: `Delete a backup of ${file}`,
      tags,
      description: `Only backups (${file}.<timestamp>) can be deleted; the current file is refused (400).`,
      params,
      responses: { 200: null },
      errors: [404],
      handler: async (_c, { params }) => {
        await svc.deleteBackup(params.name);
        return ok();
      },
    }),
  );
}

// ---------------------------------------------------------------------------------------------------------------
// sections

export function registerConfigSectionRoutes(ctx: ConfigRoutesContext, spec: ConfigSectionRoutesSpec): void {
  const { router: r } = ctx;
  const { file, base, form } = spec;
  const svc = new ConfigSectionService(ctx.configFiles, spec, ctx.configOptions);
  const tags = [spec.tag];
  const noun = svc.noun;
  const nouns = `${noun}s`;
  const other = form === 'array' ? 'object' : 'array';

  const FORM =
    `Answers use the ${form} form${form === 'object' ? ' (a section that repeats a key, or uses +=, is answered in the array form)' : ''}; ` +
    `?form=${other} asks for the ${other} form. Writes take either form.`;
  const seen = spec.filter
    ? ` Only ${nouns} this path may edit are shown${spec.filterNote ? ` (not ${spec.filterNote})` : ''}; others are 404.`
    : '';
  const params = { name: SectionNameSchema };
  const formQuery = { form: opt(oneOf(FORMS, `the form of the answer (default ${form})`)) };
  const indexQuery = {
    index: opt(queryInt(`which of the ${nouns} of this name (0, 1 ...), when ${file} has more than one`)),
  };
  const want = (q: { form?: SectionForm }) => q.form ?? form;

  r.add(
    route({
      method: 'GET',
      path: base,
      summary: `All ${nouns} in ${file}`,
      tags,
      description: `In file order; a ${noun} whose name repeats has its index. ${FORM}${seen} ${ETAG}`,
      query: formQuery,
      responses: { 200: listOf(SectionSchema) },
      errors: [404],
      handler: async (_c, { query }) => tagged(await svc.list(want(query))),
    }),
  );
  r.add(
    route({
      method: 'GET',
      path: `${base}/:name`,
      summary: `One ${noun} of ${file}`,
      tags,
      description: `The first ${noun} of that name, or the one ?index= says. ${FORM}${seen} ${ETAG}`,
      params,
      query: { ...indexQuery, ...formQuery },
      responses: { 200: SectionSchema },
      errors: [404],
      handler: async (_c, { params, query }) => tagged(await svc.get(params.name, query.index, want(query))),
    }),
  );
  r.add(
    route({
      method: 'POST',
      path: base,
      summary: `Create a ${noun} in ${file}`,
      tags,
      description:
        `Appended at the end of ${file}; a name already there is 409. templates and is_template make [name](t1,t2) and ` +
        `[name](!).${spec.filter ? ` A name this path may not edit is 403.` : ''} A new name must be addressable by its ` +
        `path: no '/', '\\', '..', control characters or blanks at either end, at most 79 bytes (400). ` +
        `${FORM} ${IF_MATCH} ${ETAG} ${RELOAD} ${MODES}`,
      query: { ...formQuery, ...WRITE_MODE_QUERY },
      body: obj({
        name: SectionNameSchema,
        data: opt(SectionDataSchema),
        templates: opt(list(TemplateNameSchema)),
        is_template: opt(bool('make a template ([name](!)), for other sections to use')),
        index: ignored('read-only: the index a GET answers; ignored here'),
      }),
      responses: { 200: orDryRun(SectionWrittenSchema) },
      errors: [404, 409, 412, 422, 504, 507],
      handler: async (c, { query, body }) => tagged(await svc.create(body, want(query), ifMatch(c), writeMode(query))),
    }),
  );
  r.add(
    route({
      method: 'PUT',
      path: `${base}/:name`,
      summary: `Replace the entries of a ${noun}`,
      tags,
      description:
        `data replaces every entry; lines that stay keep their comments and layout. When ${file} has more than one ${noun} ` +
        `of this name, say which with ?index= (or index in the body), else 409. The object form cannot write a ${noun} ` +
        `that repeats a key (409): use the array form. name, templates and is_template may be sent back as a GET ` +
        `answered them, but not changed (400). ${FORM} ${IF_MATCH} ${ETAG} ${RELOAD} ${MODES}`,
      params,
      query: { ...indexQuery, ...formQuery, ...WRITE_MODE_QUERY },
      body: obj({
        data: SectionDataSchema,
        name: opt(line('the name in the URL (renaming is not supported)')),
        index: opt(nonNegInt(`which of the ${nouns} of this name; as ?index=`)),
        templates: opt(list(TemplateNameSchema, 'must be the ones it has')),
        is_template: opt(bool('must be what it is')),
      }),
      responses: { 200: orDryRun(SectionWrittenSchema) },
      errors: [404, 409, 412, 422, 504, 507],
      handler: async (c, { params, query, body }) =>
        tagged(await svc.replace(params.name, query.index, body, want(query), ifMatch(c), writeMode(query))),
    }),
  );
  r.add(
    route({
      method: 'PATCH',
      path: `${base}/:name`,
      summary: `Change some keys of a ${noun}`,
      tags,
      description:
        `Only the keys in data change; every other line keeps its bytes, comments and place (PUT, by contrast, replaces ` +
        `all entries). "key": "value" sets a key in place (a new key goes after the ${noun}'s last entry; a value ` +
        `starting with ">" is written key => value, otherwise the line keeps its = or =>); "key": null removes every ` +
        `line of it; "key": ["a", "b"] is how a repeated key (member =>, exten =>) is changed: the values replace its ` +
        `lines in place and in order, extra values go after its last line, lines left over are removed. A plain value ` +
        `for a key that repeats is 409 (nothing written). When ${file} has more than one ${noun} of this name, say which ` +
        `with ?index=, else 409. ${FORM} ${IF_MATCH} ${ETAG} ${RELOAD} ${MODES}`,
      params,
      query: { ...indexQuery, ...formQuery, ...WRITE_MODE_QUERY },
      body: obj({
        data: SectionPatchDataSchema,
        index: opt(nonNegInt(`which of the ${nouns} of this name; as ?index=`)),
      }),
      responses: { 200: orDryRun(SectionWrittenSchema) },
      errors: [404, 409, 412, 422, 504, 507],
      handler: async (c, { params, query, body }) =>
        tagged(await svc.patch(params.name, query.index, body, want(query), ifMatch(c), writeMode(query))),
    }),
  );
  r.add(
    route({
      method: 'DELETE',
      path: `${base}/:name`,
      summary: `Delete a ${noun}`,
      tags,
      description: `When ${file} has more than one ${noun} of this name, say which with ?index=, else 409. ${IF_MATCH} ${ETAG} ${RELOAD} ${MODES}`,
      params,
      query: { ...indexQuery, ...WRITE_MODE_QUERY },
      responses: { 200: orDryRun(SectionDeletedSchema) },
      errors: [404, 409, 412, 422, 504, 507],
      handler: async (c, { params, query }) => tagged(await svc.remove(params.name, query.index, ifMatch(c), writeMode(query))),
    }),
  );
}
