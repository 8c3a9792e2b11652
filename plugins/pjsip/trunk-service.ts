// The logic of /manager/trunks: a trunk is a set of same-named sections of pjsip.conf (trunk-schemas.ts lists what
// each holds), written and removed together through config-store, so hand-written comments and every other section
// keep their bytes. Each write is one ConfigFileStore.update (If-Match, one backup, atomic) followed by one reload
// of res_pjsip (ConfigFiles.reload); a refused request never changes a byte (every check runs before the edit, or
// throws inside it, which leaves the file as it was).
//
// A name is a trunk when all its sections are plain (no template, no [name](+)), each of a trunk type at most once,
// with an endpoint, an aor and an identify, the endpoint's aors naming the trunk and the identify's endpoint too.
// Hand-made trunks that follow this are served like the gateway's own; other sections are never touched.
import { parseConfig, type ConfigDocument, type EntryInput, type Section, type SectionEntry } from '../../config-store/index.ts';
import type { ConfigDryRun, ConfigFiles, ReloadOutcome, WriteMode } from '../../core/config-files.ts';
import type { ConfigRoutesContext } from '../../core/config-routes/routes.ts';
import { badRequest, conflict, notFound } from '../../core/http/errors.ts';
import type { LiveTable } from '../../core/live/table.ts';
import type { Registration } from './rows.ts';
import type { Contact, Endpoint } from './schemas.ts';
import {
  DEFAULT_ALLOW,
  DEFAULT_QUALIFY_FREQUENCY,
  parseHostPort,
  TRUNK_TYPES,
  type Trunk,
  type TrunkCreate,
  type TrunkStatus,
  type TrunkType,
  type TrunkUpdate,
} from './trunk-schemas.ts';

export const TRUNK_FILE = 'pjsip.conf';

/** The live tables a trunk's status comes from (PjsipState has them). */
export interface TrunkLiveState {
  readonly endpoints: Pick<LiveTable<Endpoint>, 'has'>;
  readonly registrations: Pick<LiveTable<Registration>, 'get'>;
  readonly contacts: Pick<LiveTable<Contact>, 'values'>;
}

/** A trunk's configuration as pjsip.conf holds it: the answer without its live status and sections. */
export type TrunkConfig = Omit<Trunk, 'status' | 'sections'>;

/** The sections of one trunk, by type. */
export interface TrunkSections {
  name: string;
  /** In file order. */
  sections: Section[];
  byType: Partial<Record<TrunkType, Section>>;
}

type Files = Pick<ConfigFiles, 'store' | 'reload' | 'settle' | 'preview'>;

export interface Tagged<T> {
  result: T;
  etag?: string;
}

type Written<T> = Tagged<(T & { backup: string | null; reload: ReloadOutcome }) | ConfigDryRun>;

const NOTHING_CHANGED: ReloadOutcome = { status: 'none', message: 'nothing changed; no reload needed' };

// ---------------------------------------------------------------------------------------------------------------
// reading

const typeOf = (s: Section): string | undefined => {
  const types = s.entries.filter((e) => e.key === 'type');
  return types.length === 1 ? types[0]!.value : undefined;
};

/** The value Asterisk uses for a single-valued option: its last line. */
function last(s: Section | undefined, key: string): string | undefined {
  if (!s) return undefined;
  let out: string | undefined;
  for (const e of s.entries) if (e.key === key) out = e.value;
  return out;
}

const listed = (value: string | undefined) =>
  (value ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

/**
 * The sections of `name` as a trunk, or why they are not one (a string). Undefined when no section has that name.
 */
export function trunkOf(name: string, sections: readonly Section[]): TrunkSections | string | undefined {
  const own = sections.filter((s) => s.name === name);
  if (own.length === 0) return undefined;
  const byType: Partial<Record<TrunkType, Section>> = {};
  for (const s of own) {
    if (s.isTemplate || s.isAppend || s.templates.length) return `[${name}] is a template, uses one, or is an append section`;
    const t = typeOf(s);
    if (!t || !(TRUNK_TYPES as readonly string[]).includes(t)) return `[${name}] has a section of type ${JSON.stringify(t ?? '')}`;
    if (byType[t as TrunkType]) return `[${name}] has two sections of type ${t}`;
    byType[t as TrunkType] = s;
  }
  for (const t of ['endpoint', 'aor', 'identify'] as const) if (!byType[t]) return `[${name}] has no section of type ${t}`;
  if (!listed(last(byType.endpoint, 'aors')).includes(name)) return `the endpoint [${name}] does not use the AOR ${name}`;
  if (last(byType.identify, 'endpoint') !== name) return `the identify [${name}] is not for the endpoint ${name}`;
  return { name, sections: own, byType };
}

/** Every trunk of the file, in the order of their first section. */
export function trunksIn(sections: readonly Section[]): TrunkSections[] {
  const names = [...new Set(sections.map((s) => s.name))];
  const out: TrunkSections[] = [];
  for (const n of names) {
    const t = trunkOf(n, sections);
    if (t && typeof t !== 'string') out.push(t);
  }
  return out;
}

/** `sip:user@host:port;transport=udp` (or `<sip:...>`) -> `host:port`; undefined when there is no host. */
export function hostOfUri(uri: string | undefined): string | undefined {
  if (!uri) return undefined;
  let s = uri.split(',')[0]!.trim().replace(/^<|>$/g, '');
  s = s.replace(/^sips?:/i, '');
  const at = s.lastIndexOf('@');
  if (at >= 0) s = s.slice(at + 1);
  s = s.split(/[;?>]/)[0]!.trim();
  return s || undefined;
}

/** The fields a trunk's sections say. */
export function configOf(t: TrunkSections): TrunkConfig {
  const { endpoint, aor, auth, registration, identify } = t.byType;
  const hostname =
    hostOfUri(last(aor, 'contact')) ?? hostOfUri(last(registration, 'server_uri')) ?? listed(last(identify, 'match'))[0] ?? '';
  const allow = endpoint!.entries
    .filter((e) => e.key === 'allow')
    .flatMap((e) => listed(e.value))
    .join(',');
  const freq = Number(last(aor, 'qualify_frequency') ?? '0');
  return {
    name: t.name,
    hostname,
    username: last(auth, 'username') ?? '',
    context: last(endpoint, 'context') ?? '',
    register: registration !== undefined,
    transport: last(endpoint, 'transport') ?? '',
    allow,
    caller_id: last(endpoint, 'callerid') ?? '',
    from_user: last(endpoint, 'from_user') ?? '',
    from_domain: last(endpoint, 'from_domain') ?? '',
    qualify_frequency: Number.isInteger(freq) && freq >= 0 ? freq : 0,
  };
}

/** The trunk's live state, from the pjsip plugin's tables. */
export function statusOf(name: string, register: boolean, live: TrunkLiveState): TrunkStatus {
  let qualify = '';
  for (const c of live.contacts.values()) {
    if (c.aor === name) {
      qualify = c.status;
      break;
    }
  }
  const reg = register ? live.registrations.get(name)?.row.status : undefined;
  return { loaded: live.endpoints.has(name), registration: typeof reg === 'string' ? reg : '', qualify };
}

const sectionsOf = (t: TrunkSections) => t.sections.map((s) => ({ name: s.name, type: typeOf(s) as TrunkType }));

// ---------------------------------------------------------------------------------------------------------------
// writing

const uri = (hostname: string, user?: string) => `sip:${user ? `${user}@` : ''}${hostname}`;

const URI = /^(\s*<?\s*sips?:)([^@;?>,]*@)?([^;?>,\s]+)([^,]*)/i;

/**
 * The URI `old` (a hand-made contact or server_uri may carry ;transport=tcp and such) with another host[:port] and,
 * when `user` is given, another user; its parameters stay. A value that is not a SIP URI gives way to a plain one.
 */
export function rehost(old: string | undefined, hostname: string, user?: string): string {
  const m = old === undefined ? null : URI.exec(old);
  if (!m) return uri(hostname, user);
  const userPart = user === undefined ? (m[2] ?? '') : user ? `${user}@` : '';
  return `${m[1]}${userPart}${hostname}${m[4]}`;
}
const hostOnly = (hostname: string) => parseHostPort(hostname)?.host ?? hostname;

/** What a trunk's sections hold: its configuration plus the password (only when it is being written). */
interface Wanted extends TrunkConfig {
  password?: string;
}

/** The entries of a new section of `type` for the trunk `w`. */
function entriesFor(type: TrunkType, w: Wanted): EntryInput[] {
  const e: [string, string][] = [['type', type]];
  const opt = (key: string, value: string) => {
    if (value !== '') e.push([key, value]);
  };
  const hasAuth = w.username !== '';
  switch (type) {
    case 'endpoint':
      e.push(['context', w.context], ['disallow', 'all'], ['allow', w.allow], ['aors', w.name]);
      if (hasAuth) e.push(['outbound_auth', w.name]);
      opt('transport', w.transport);
      opt('callerid', w.caller_id);
      opt('from_user', w.from_user);
      opt('from_domain', w.from_domain);
      break;
    case 'aor':
      e.push(['contact', uri(w.hostname)], ['qualify_frequency', String(w.qualify_frequency)]);
      break;
    case 'auth':
      e.push(['auth_type', 'userpass'], ['username', w.username], ['password', w.password ?? '']);
      break;
    case 'registration':
      opt('transport', w.transport);
      e.push(['outbound_auth', w.name], ['server_uri', uri(w.hostname)], ['client_uri', uri(w.hostname, w.username)]);
      break;
    case 'identify':
      e.push(['endpoint', w.name], ['match', hostOnly(w.hostname)]);
      break;
  }
  return e.map(([key, value]) => ({ key, value }));
}

/**
 * A change to a section: the lines of `keys` are replaced by `lines`, put where the first of them was (else at the
 * end). Lines of other keys stay as they are, comments included.
 */
interface Change {
  keys: string[];
  lines: [string, string][];
}

const set = (key: string, value: string): Change => ({ keys: [key], lines: value === '' ? [] : [[key, value]] });

export function changedEntries(old: readonly SectionEntry[], changes: readonly Change[]): EntryInput[] {
  const out: EntryInput[] = [];
  const done = new Set<Change>();
  const emit = (c: Change) => {
    done.add(c);
    for (const [key, value] of c.lines) out.push({ key, value });
  };
  for (const e of old) {
    const c = changes.find((x) => x.keys.includes(e.key));
    if (!c) out.push({ key: e.key, op: e.op, value: e.value });
    else if (!done.has(c)) emit(c);
  }
  for (const c of changes) if (!done.has(c)) emit(c);
  return out;
}

/** The changes each existing section needs to go from `cur` to `next` (only what `given` names, and what follows). */
function changesFor(section: Section, cur: TrunkConfig, next: Wanted, given: TrunkUpdate): Change[] {
  const type = typeOf(section) as TrunkType;
  const out: Change[] = [];
  const hostChanged = given.hostname !== undefined && next.hostname !== cur.hostname;
  const userChanged = given.username !== undefined && next.username !== cur.username;
  const transportChanged = given.transport !== undefined && next.transport !== cur.transport;
  const authChanged = (cur.username === '') !== (next.username === '');
  switch (type) {
    case 'endpoint':
      if (given.context !== undefined) out.push(set('context', next.context));
      if (transportChanged) out.push(set('transport', next.transport));
      if (given.allow !== undefined && next.allow !== cur.allow)
        out.push({
          keys: ['disallow', 'allow'],
          lines: [
            ['disallow', 'all'],
            ['allow', next.allow],
          ],
        });
      if (given.caller_id !== undefined) out.push(set('callerid', next.caller_id));
      if (given.from_user !== undefined) out.push(set('from_user', next.from_user));
      if (given.from_domain !== undefined) out.push(set('from_domain', next.from_domain));
      if (authChanged) out.push(set('outbound_auth', next.username === '' ? '' : next.name));
      break;
    case 'aor':
      if (hostChanged) out.push(set('contact', rehost(last(section, 'contact'), next.hostname)));
      if (given.qualify_frequency !== undefined) out.push(set('qualify_frequency', String(next.qualify_frequency)));
      break;
    case 'auth':
      if (userChanged) out.push(set('username', next.username));
      if (next.password !== undefined) out.push(set('password', next.password));
      break;
    case 'registration':
      if (transportChanged) out.push(set('transport', next.transport));
      if (hostChanged) out.push(set('server_uri', rehost(last(section, 'server_uri'), next.hostname)));
      if (hostChanged || userChanged) out.push(set('client_uri', rehost(last(section, 'client_uri'), next.hostname, next.username)));
      break;
    case 'identify':
      if (hostChanged) out.push(set('match', hostOnly(next.hostname)));
      break;
  }
  return out;
}

/** A transport must be a transport section of the file (unless an #include may hold it). */
function checkTransport(doc: ConfigDocument, transport: string): void {
  if (transport === '' || doc.hasIncludingDirective()) return;
  const ok = doc.sections().some((s) => s.name === transport && typeOf(s) === 'transport');
  if (!ok) throw badRequest(`transport: ${TRUNK_FILE} has no transport section named ${JSON.stringify(transport)}`, { field: 'transport' });
}

/** Rules across fields, on the trunk as it will be. */
function checkRules(w: Wanted, needPassword: boolean): void {
  if (w.register && w.username === '')
    throw badRequest('register: a trunk that registers needs a username (and a password)', { field: 'register' });
  if (w.username === '' && w.password !== undefined) throw badRequest('password: a password needs a username', { field: 'password' });
  if (needPassword && w.username !== '' && w.password === undefined)
    throw badRequest('password: is required with a username', { field: 'password' });
}

// ---------------------------------------------------------------------------------------------------------------
// the service

export class TrunkService {
  constructor(
    private readonly files: Files,
    private readonly live: TrunkLiveState,
    /** Asterisk's option lists (core/config-routes/options.ts): what a write adds or changes is checked inside it. */
    private readonly options?: ConfigRoutesContext['configOptions'],
  ) {
    files.store.resolve(TRUNK_FILE);
  }

  private view(t: TrunkSections): Trunk {
    const c = configOf(t);
    return { ...c, status: statusOf(t.name, c.register, this.live), sections: sectionsOf(t) };
  }

  private static find(name: string, sections: readonly Section[]): TrunkSections {
    const t = trunkOf(name, sections);
    if (t === undefined) throw notFound(`no trunk named ${JSON.stringify(name)} in ${TRUNK_FILE}`);
    if (typeof t === 'string') throw notFound(`no trunk named ${JSON.stringify(name)} in ${TRUNK_FILE}: ${t}, so it is not a trunk`);
    return t;
  }

  async list(): Promise<Tagged<{ list: Trunk[] }>> {
    const { text, etag } = await this.files.store.read(TRUNK_FILE);
    const sections = parseConfig(text, TRUNK_FILE).sections();
    return { result: { list: trunksIn(sections).map((t) => this.view(t)) }, etag };
  }

  async get(name: string): Promise<Tagged<Trunk>> {
    const { text, etag } = await this.files.store.read(TRUNK_FILE);
    return { result: this.view(TrunkService.find(name, parseConfig(text, TRUNK_FILE).sections())), etag };
  }

  async create(body: TrunkCreate, ifMatch: string | undefined, mode: WriteMode = {}): Promise<Written<Trunk>> {
    const w: Wanted = {
      name: body.name,
      hostname: body.hostname,
      username: body.username ?? '',
      password: body.password,
      context: body.context,
      register: body.register ?? false,
      transport: body.transport ?? '',
      allow: body.allow ?? DEFAULT_ALLOW,
      caller_id: body.caller_id ?? '',
      from_user: body.from_user ?? '',
      from_domain: body.from_domain ?? '',
      qualify_frequency: body.qualify_frequency ?? DEFAULT_QUALIFY_FREQUENCY,
    };
    checkRules(w, true);
    return this.writeTrunk(ifMatch, mode, (doc) => {
      if (doc.countSections(w.name) > 0)
        throw conflict(`${TRUNK_FILE} already has a section named ${JSON.stringify(w.name)}; a trunk needs a name of its own`);
      checkTransport(doc, w.transport);
      for (const type of TRUNK_TYPES) {
        if (type === 'auth' && w.username === '') continue;
        if (type === 'registration' && !w.register) continue;
        doc.addSection(w.name, entriesFor(type, w), { allowDuplicate: true });
      }
      return w.name;
    });
  }

  async update(name: string, body: TrunkUpdate, ifMatch: string | undefined, mode: WriteMode = {}): Promise<Written<Trunk>> {
    if (body.name !== undefined && body.name !== name)
      throw badRequest(`name: renaming is not supported (the URL names ${JSON.stringify(name)})`, { field: 'name' });
    return this.writeTrunk(ifMatch, mode, (doc) => {
      const t = TrunkService.find(name, doc.sections());
      const cur = configOf(t);
      // the trunk as it will be: what the body gives over what the file has (status and sections are read-only)
      const next: Wanted = {
        ...cur,
        ...Object.fromEntries(Object.entries(body).filter(([k, x]) => x !== undefined && k !== 'status' && k !== 'sections')),
        name,
      };
      checkRules(next, !t.byType.auth);
      if (body.transport !== undefined) checkTransport(doc, next.transport);
      // 1. edit the sections that stay (indexes do not move), 2. remove (last first), 3. add at the end
      const remove: Section[] = [];
      for (const s of t.sections) {
        const type = typeOf(s) as TrunkType;
        if ((type === 'auth' && next.username === '') || (type === 'registration' && !next.register)) {
          remove.push(s);
          continue;
        }
        const changes = changesFor(s, cur, next, body);
        if (changes.length) doc.replaceSectionEntries(name, changedEntries(s.entries, changes), { sectionIndex: s.index });
      }
      for (const s of remove.sort((a, b) => b.index - a.index)) doc.deleteSection(name, { sectionIndex: s.index });
      // a new auth or registration takes every field from the trunk as it will be
      if (next.username !== '' && !t.byType.auth) doc.addSection(name, entriesFor('auth', next), { allowDuplicate: true });
      if (next.register && !t.byType.registration) doc.addSection(name, entriesFor('registration', next), { allowDuplicate: true });
      return name;
    });
  }

  async remove(
    name: string,
    ifMatch: string | undefined,
    mode: WriteMode = {},
  ): Promise<Written<{ name: string; sections: Trunk['sections'] }>> {
    return this.write(
      ifMatch,
      mode,
      (doc) => {
        const t = TrunkService.find(name, doc.sections());
        for (const s of [...t.sections].sort((a, b) => b.index - a.index)) doc.deleteSection(name, { sectionIndex: s.index });
        return t;
      },
      (t) => ({ name, sections: sectionsOf(t) }),
    );
  }

  /** Write the trunk `edit` names and answer it as read back from the edited document. */
  private writeTrunk(ifMatch: string | undefined, mode: WriteMode, edit: (doc: ConfigDocument) => string): Promise<Written<Trunk>> {
    return this.write(
      ifMatch,
      mode,
      (doc) => {
        const name = edit(doc);
        const t = trunkOf(name, doc.sections());
        // what was written must read back as a trunk; else nothing is written
        if (!t || typeof t === 'string')
          throw conflict(`${JSON.stringify(name)} would not read back as a trunk (${t ?? 'no sections'}); nothing was written`);
        return t;
      },
      (t) => this.view(t),
    );
  }

  /**
   * One update of pjsip.conf (If-Match, lock, backup, atomic write), then one reload of res_pjsip when bytes
   * changed. `edit` runs on the document as it is on disk (a throw leaves the file untouched); `answer` makes the
   * result from what it returned.
   */
  private async write<T, R>(
    ifMatch: string | undefined,
    mode: WriteMode,
    edit: (doc: ConfigDocument) => T,
    answer: (t: T) => R,
  ): Promise<Written<R>> {
    let out!: T;
    const { options } = this;
    const res = await this.files.store.update(
      TRUNK_FILE,
      async (doc) => {
        const before = options ? doc.sections() : [];
        out = edit(doc);
        if (options) await options.check(TRUNK_FILE, before, doc);
      },
      { ...(ifMatch === undefined ? {} : { ifMatch }), dryRun: mode.dryRun },
    );
    if (mode.dryRun) return { result: this.files.preview(TRUNK_FILE, res), etag: res.etag };
    // reloaded, checked and rolled back (422) when res_pjsip does not list the endpoint: ConfigFiles.settle
    const reload = res.backup !== null ? await this.files.settle(TRUNK_FILE, res, mode) : NOTHING_CHANGED;
    return { result: { ...answer(out), backup: res.backup, reload }, etag: res.etag };
  }
}
