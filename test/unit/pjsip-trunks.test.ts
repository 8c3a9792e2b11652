// /manager/trunks without Asterisk (plugins/pjsip/trunks.ts, trunk-service.ts): which sections make a trunk
// (hand-made ones included, a phone's not), the exact bytes a POST, PUT and DELETE write (comments and every other
// section kept), one backup and one reload of res_pjsip per write, the password written but never answered, the live
// status from the pjsip tables, and every refusal leaving pjsip.conf byte-identical with no backup and no reload.
// The routes run in an HttpApp that serves its OpenAPI document, so every answer is checked against the schemas.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, beforeEach, test } from 'node:test';
import type { AmiMessage } from '../../core/ami/message.ts';
import { ConfigFiles } from '../../core/config-files.ts';
import type { GatewayConfig } from '../../core/config.ts';
import { LiveTable } from '../../core/live/table.ts';
import { testLogger } from '../support/log.ts';
import type { Registration } from '../../plugins/pjsip/rows.ts';
import type { Contact, Endpoint } from '../../plugins/pjsip/schemas.ts';
import { changedEntries, hostOfUri, rehost, trunkOf } from '../../plugins/pjsip/trunk-service.ts';
import { parseHostPort } from '../../plugins/pjsip/trunk-schemas.ts';
import { registerTrunkRoutes } from '../../plugins/pjsip/trunks.ts';
import { parseConfig, type ConfigDocument, type Section } from '../../config-store/index.ts';
import { ApiError } from '../../core/http/errors.ts';
import { routeApp } from '../support/app.ts';
import { client } from '../support/http.ts';

const FIXTURE = `; pjsip.conf: hand-written by the admin, keep me
[global]
type = global
user_agent = test-pbx

[udp]
type = transport
protocol = udp
bind = 0.0.0.0:5060

; a phone: endpoint, auth and aor but no identify, so not a trunk
[6001]
type = endpoint
context = phones
aors = 6001
auth = 6001

[6001]
type = auth
auth_type = userpass
username = 6001
password = phone-secret

[6001]
type = aor
max_contacts = 1

; the old carrier, made by hand
[carrier]
type = endpoint
context = from-carrier ; where its calls go
disallow = all
allow = ulaw
allow = g722
aors = carrier
outbound_auth = carrier
rtp_symmetric = yes

[carrier]
type = aor
contact = sip:sip.carrier.example:5080\\;transport=udp
qualify_frequency = 30

[carrier]
type = auth
auth_type = userpass
username = acct1
password = carrier-secret

[carrier]
type = registration
outbound_auth = carrier
server_uri = sip:sip.carrier.example:5080
client_uri = sip:acct1@sip.carrier.example:5080
retry_interval = 60

[carrier]
type = identify
endpoint = carrier
match = sip.carrier.example

; a template-based endpoint: never a trunk
[tpl](!)
type = endpoint
context = x

; the section below is the tail
[tail]
type = transport
protocol = tcp
bind = 0.0.0.0:5060
`;

let dir: string;
let etc: string;
let backups: string;
let api: ReturnType<typeof client>;
let manager: ReturnType<typeof client>;
let user: ReturnType<typeof client>;
const failures: unknown[] = [];
/** Every AMI action the config files made (ModuleLoad of res_pjsip.so after each write). */
const actions: { name: string; headers: Record<string, unknown> }[] = [];

const live = {
  endpoints: new LiveTable<Endpoint>(),
  registrations: new LiveTable<Registration>(),
  contacts: new LiveTable<Contact>(),
};

const conf = () => path.join(etc, 'pjsip.conf');
const onDisk = () => readFileSync(conf());
const text = () => onDisk().toString('utf8');
const etagOf = (b: Buffer) => `"${createHash('sha256').update(b).digest('hex')}"`;
const backupNames = () => (existsSync(backups) ? readdirSync(backups).filter((n) => n.startsWith('pjsip.conf.')) : []);
const reloads = () => actions.filter((a) => a.name === 'ModuleLoad' && a.headers.Module === 'res_pjsip.so').length;

/** Runs `fn` (refused requests) and checks nothing happened: same bytes, no backup, no reload. */
async function unchanged(fn: () => Promise<void>): Promise<void> {
  const bytes = onDisk();
  const bk = backupNames().length;
  const r = reloads();
  await fn();
  assert.ok(onDisk().equals(bytes), 'pjsip.conf must be byte-identical after a refusal');
  assert.equal(backupNames().length, bk, 'no backup made by a refusal');
  assert.equal(reloads(), r, 'no reload after a refusal');
}

/** A write: exactly one backup more and one reload more. */
async function oneWrite<T>(fn: () => Promise<T>): Promise<T> {
  const bk = backupNames().length;
  const r = reloads();
  const out = await fn();
  assert.equal(backupNames().length, bk + 1, 'one backup');
  assert.equal(reloads(), r + 1, 'one reload of res_pjsip');
  return out;
}

function refused(a: { status: number; body: any; text: string }, status: number, msg?: RegExp, field?: string) {
  assert.equal(a.status, status, a.text);
  assert.equal(a.body.statuscode, status);
  if (msg) assert.match(a.body.result.message, msg);
  if (field) assert.equal(a.body.result.field, field);
}

/** Stands in for Asterisk's option lists (core/config-routes/options.ts): records what each write added or changed. */
const checkedKeys: string[][] = [];
let refuseOption: string | undefined;
const optionCheck = {
  async check(file: string, before: readonly Section[], doc: ConfigDocument) {
    const had = new Set(before.flatMap((s) => s.entries.map((e) => `${s.name} ${e.key} ${e.value}`)));
    const added = doc.sections().flatMap((s) => s.entries.filter((e) => !had.has(`${s.name} ${e.key} ${e.value}`)).map((e) => e.key));
    assert.equal(file, 'pjsip.conf');
    checkedKeys.push(added);
    if (refuseOption && added.includes(refuseOption))
      throw new ApiError(400, `${refuseOption}: refused by the option check`, undefined, 'unknown_option');
    return { status: 'done' as const, message: 'checked' };
  },
};

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'gw-trunks-'));
  etc = path.join(dir, 'etc');
  backups = path.join(dir, 'data', 'backups');
  mkdirSync(etc);
  mkdirSync(path.join(dir, 'data'));
  const config = { asterisk: { config_dir: etc }, data_dir: path.join(dir, 'data'), backups: { retention: 100 } } as GatewayConfig;
  const ami = {
    connected: true,
    action: async (name: string, headers: Record<string, unknown> = {}): Promise<AmiMessage> => {
      actions.push({ name, headers });
      return { fields: { Response: 'Success', Message: 'Module reloaded.' } };
    },
    command: async (): Promise<string[]> => [],
  };
  const files = new ConfigFiles(config, ami, testLogger('test'));
  const app = await routeApp({
    plugins: ['pjsip'],
    tokens: {
      'admin-token': { userUuid: 'admin', roles: new Set(['admin']) },
      'manager-token': { userUuid: 'mgr', roles: new Set(['manager']) },
      'user-token': { userUuid: 'usr', roles: new Set(['user']) },
    },
    logError: (e) => failures.push(e),
    mount: (http) => registerTrunkRoutes({ router: http.router('pjsip'), configFiles: files, configOptions: optionCheck }, live),
  });
  api = app.api;
  manager = client(app.http.fetch);
  manager.setToken('manager-token');
  user = client(app.http.fetch);
  user.setToken('user-token');
});
beforeEach(() => {
  writeFileSync(conf(), FIXTURE);
  live.endpoints.clear();
  live.registrations.clear();
  live.contacts.clear();
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
  assert.deepEqual(failures, [], 'no request failed inside the gateway (500)');
});

const CARRIER = {
  name: 'carrier',
  hostname: 'sip.carrier.example:5080',
  username: 'acct1',
  context: 'from-carrier',
  register: true,
  transport: '',
  allow: 'ulaw,g722',
  caller_id: '',
  from_user: '',
  from_domain: '',
  qualify_frequency: 30,
  sections: ['endpoint', 'aor', 'auth', 'registration', 'identify'].map((type) => ({ name: 'carrier', type })),
};

// ---------------------------------------------------------------------------------------------------------------
// pure parts

test('host[:port]: DNS names and IPv4 addresses, an optional port 1-65535; nothing else', () => {
  for (const ok of ['sip.example.com', 'sip.example.com:5060', '192.0.2.10', '192.0.2.10:5080', 'localhost', 'a-b.c1', 'x:1', 'x:65535'])
    assert.ok(parseHostPort(ok), ok);
  for (const bad of [
    '',
    ':5060',
    'sip:host',
    'user@host',
    'a b',
    'host:0',
    'host:65536',
    'host:99999',
    'host:',
    '1.2.3',
    '12345',
    '999.1.1.1',
    '-bad.example',
    'bad-.example',
    'a..b',
    '::1',
    'host:5060:1',
    'host/x',
  ])
    assert.equal(parseHostPort(bad), null, bad);
});

test('rehost: another host[:port] (and user) in a URI, its parameters kept', () => {
  assert.equal(rehost('sip:old.example:5080;transport=tcp', 'new.example'), 'sip:new.example;transport=tcp');
  assert.equal(rehost('sip:acct@old.example', 'new.example:5070'), 'sip:acct@new.example:5070');
  assert.equal(rehost('sip:acct@old.example', 'new.example', 'acct2'), 'sip:acct2@new.example');
  assert.equal(rehost('sips:old.example', 'new.example', 'u'), 'sips:u@new.example');
  assert.equal(rehost('sip:a.example,sip:b.example', 'new.example'), 'sip:new.example');
  assert.equal(rehost(undefined, 'new.example', 'u'), 'sip:u@new.example');
  assert.equal(rehost('garbage', 'new.example'), 'sip:new.example');
});

test('hostOfUri: the host[:port] of a contact or server URI', () => {
  assert.equal(hostOfUri('sip:sip.carrier.example:5080;transport=udp'), 'sip.carrier.example:5080');
  assert.equal(hostOfUri('<sip:user@host.example>'), 'host.example');
  assert.equal(hostOfUri('sips:a@b:5061?x=y'), 'b:5061');
  assert.equal(hostOfUri('sip:one.example, sip:two.example'), 'one.example');
  assert.equal(hostOfUri(''), undefined);
  assert.equal(hostOfUri(undefined), undefined);
});

test('which names are trunks: all sections plain, endpoint + aor + identify linked by name, each type once', () => {
  const sections = parseConfig(FIXTURE).sections();
  assert.equal(typeof trunkOf('carrier', sections), 'object');
  assert.match(trunkOf('6001', sections) as string, /no section of type identify/);
  assert.match(trunkOf('udp', sections) as string, /type "transport"/);
  assert.match(trunkOf('tpl', sections) as string, /template/);
  assert.equal(trunkOf('nope', sections), undefined);
  const twice = parseConfig(`${FIXTURE}\n[carrier]\ntype = aor\n`).sections();
  assert.match(trunkOf('carrier', twice) as string, /two sections of type aor/);
  const unlinked = parseConfig(FIXTURE.replace('aors = carrier', 'aors = other')).sections();
  assert.match(trunkOf('carrier', unlinked) as string, /does not use the AOR carrier/);
  const otherIdentify = parseConfig(FIXTURE.replace('endpoint = carrier', 'endpoint = 6001')).sections();
  assert.match(trunkOf('carrier', otherIdentify) as string, /identify \[carrier\] is not for the endpoint carrier/);
});

test('changedEntries: a changed key keeps its place, a group of keys is replaced where its first line was', () => {
  const old = parseConfig('[s]\na = 1\nallow = x\nb = 2\ndisallow = all\nallow = y\nc += 3\n').sections()[0]!.entries;
  const out = changedEntries(old, [
    { keys: ['a'], lines: [['a', '9']] },
    {
      keys: ['disallow', 'allow'],
      lines: [
        ['disallow', 'all'],
        ['allow', 'z'],
      ],
    },
    { keys: ['b'], lines: [] },
    { keys: ['d'], lines: [['d', 'new']] },
  ]);
  assert.deepEqual(out, [
    { key: 'a', value: '9' },
    { key: 'disallow', value: 'all' },
    { key: 'allow', value: 'z' },
    { key: 'c', op: '+=', value: '3' },
    { key: 'd', value: 'new' },
  ]);
});

// ---------------------------------------------------------------------------------------------------------------
// reading

test('GET lists the hand-made trunk (not the phone, the transports or the template); no password is answered', async () => {
  const a = await api.get('/v1/manager/trunks');
  assert.equal(a.status, 200, a.text);
  assert.equal(a.headers.get('etag'), etagOf(onDisk()));
  assert.deepEqual(a.body.result.list, [{ ...CARRIER, status: { loaded: false, registration: '', qualify: '' } }]);
  assert.ok(!a.text.includes('carrier-secret') && !a.text.includes('"password"'));
  const one = await api.get('/v1/manager/trunks/carrier');
  assert.equal(one.status, 200, one.text);
  assert.deepEqual(one.body.result, a.body.result.list[0]);
  assert.equal(one.headers.get('etag'), etagOf(onDisk()));
  // the legacy path without /v1, and a manager may
  assert.equal((await manager.get('/manager/trunks/carrier')).status, 200);
  refused(await user.get('/v1/manager/trunks'), 403);
});

test('status is live: registration, qualify and loaded from the pjsip tables', async () => {
  live.endpoints.set('carrier', { object_name: 'carrier' } as Endpoint);
  const reg = (status: string) => ({ row: { object_name: 'carrier', status }, next_reg_at: 0 }) as unknown as Registration;
  live.registrations.set('carrier', reg('Registered'));
  live.contacts.set('carrier@@abc', { aor: 'carrier', id: 'carrier@@abc', status: 'Reachable' } as Contact);
  live.contacts.set('other@@abc', { aor: 'other', id: 'other@@abc', status: 'Unreachable' } as Contact);
  const t = (await api.get('/v1/manager/trunks/carrier')).body.result;
  assert.deepEqual(t.status, { loaded: true, registration: 'Registered', qualify: 'Reachable' });
  live.registrations.set('carrier', reg('Rejected'));
  assert.equal((await api.get('/v1/manager/trunks/carrier')).body.result.status.registration, 'Rejected');
});

test('GET of a name that is not a trunk is 404 and says why; of an unknown name 404', async () => {
  refused(await api.get('/v1/manager/trunks/6001'), 404, /not a trunk.*|no section of type identify/);
  refused(await api.get('/v1/manager/trunks/udp'), 404, /transport/);
  refused(await api.get('/v1/manager/trunks/nope'), 404, /no trunk named "nope"/);
});

// ---------------------------------------------------------------------------------------------------------------
// POST

test('POST appends every section in one write and one reload; the exact bytes; the password stored, not answered', async () => {
  const a = await oneWrite(() =>
    api.post('/v1/manager/trunks', {
      name: 'prov',
      hostname: 'sip.prov.example:5070',
      username: 'u-prov',
      password: 'p;ss word',
      register: true,
      context: 'from-prov',
      transport: 'udp',
      allow: 'alaw,ulaw',
      caller_id: '"Office" <+15551230000>',
      from_user: 'u-prov',
      from_domain: 'prov.example',
      qualify_frequency: 20,
      status: { ignored: true },
    }),
  );
  assert.equal(a.status, 200, a.text);
  assert.equal(
    text(),
    `${FIXTURE}
[prov]
type = endpoint
context = from-prov
disallow = all
allow = alaw,ulaw
aors = prov
outbound_auth = prov
transport = udp
callerid = "Office" <+15551230000>
from_user = u-prov
from_domain = prov.example

[prov]
type = aor
contact = sip:sip.prov.example:5070
qualify_frequency = 20

[prov]
type = auth
auth_type = userpass
username = u-prov
password = p\\;ss word

[prov]
type = registration
transport = udp
outbound_auth = prov
server_uri = sip:sip.prov.example:5070
client_uri = sip:u-prov@sip.prov.example:5070

[prov]
type = identify
endpoint = prov
match = sip.prov.example
`,
  );
  const r = a.body.result;
  assert.match(r.backup, /^pjsip\.conf\./);
  assert.deepEqual(r.reload, { status: 'done', message: 'Module reloaded.' });
  assert.equal(a.headers.get('etag'), etagOf(onDisk()));
  assert.ok(!a.text.includes('p;ss') && !a.text.includes('"password"'));
  assert.deepEqual(
    { ...r, backup: undefined, reload: undefined },
    {
      name: 'prov',
      hostname: 'sip.prov.example:5070',
      username: 'u-prov',
      context: 'from-prov',
      register: true,
      transport: 'udp',
      allow: 'alaw,ulaw',
      caller_id: '"Office" <+15551230000>',
      from_user: 'u-prov',
      from_domain: 'prov.example',
      qualify_frequency: 20,
      status: { loaded: false, registration: '', qualify: '' },
      sections: ['endpoint', 'aor', 'auth', 'registration', 'identify'].map((type) => ({ name: 'prov', type })),
      backup: undefined,
      reload: undefined,
    },
  );
  // it reads back the same, and is listed after the hand-made one
  const { backup: _backup, reload: _reload, ...trunk } = r;
  assert.deepEqual((await api.get('/v1/manager/trunks/prov')).body.result, trunk);
  assert.deepEqual(
    (await api.get('/v1/manager/trunks')).body.result.list.map((t: any) => t.name),
    ['carrier', 'prov'],
  );
});

test('POST of a provider without account: no auth, no registration; default codecs and qualify', async () => {
  const a = await oneWrite(() => manager.post('/v1/manager/trunks', { name: 'ip-prov', hostname: '192.0.2.10', context: 'from-ip' }));
  assert.equal(a.status, 200, a.text);
  assert.equal(
    text(),
    `${FIXTURE}
[ip-prov]
type = endpoint
context = from-ip
disallow = all
allow = ulaw,alaw
aors = ip-prov

[ip-prov]
type = aor
contact = sip:192.0.2.10
qualify_frequency = 60

[ip-prov]
type = identify
endpoint = ip-prov
match = 192.0.2.10
`,
  );
  assert.equal(a.body.result.register, false);
  assert.equal(a.body.result.username, '');
  assert.deepEqual(
    a.body.result.sections.map((s: any) => s.type),
    ['endpoint', 'aor', 'identify'],
  );
});

test('POST then DELETE: the file is what it was (plus the blank line the trunk was put after)', async () => {
  assert.equal((await api.post('/v1/manager/trunks', { name: 'tmp', hostname: 'h.example', context: 'c' })).status, 200);
  const d = await oneWrite(() => api.del('/v1/manager/trunks/tmp'));
  assert.equal(d.status, 200, d.text);
  assert.deepEqual(
    d.body.result.sections,
    ['endpoint', 'aor', 'identify'].map((type) => ({ name: 'tmp', type })),
  );
  assert.equal(text(), `${FIXTURE}\n`);
  // a file that ends with a blank line gets exactly its bytes back
  writeFileSync(conf(), `${FIXTURE}\n`);
  await api.post('/v1/manager/trunks', { name: 'tmp', hostname: 'h.example', context: 'c' });
  await api.del('/v1/manager/trunks/tmp');
  assert.equal(text(), `${FIXTURE}\n`);
});

// ---------------------------------------------------------------------------------------------------------------
// PUT

/** The lines of the file that differ from the fixture's (same line count expected). */
function changedLines(before: string, after: string): [string, string][] {
  const a = before.split('\n');
  const b = after.split('\n');
  assert.equal(a.length, b.length, 'no line added or removed');
  return a.flatMap((l, i) => (l === b[i] ? [] : [[l, b[i]!] as [string, string]]));
}

test('PUT changes only the fields given: one line each, comments and unmanaged options kept', async () => {
  const a = await oneWrite(() => api.put('/v1/manager/trunks/carrier', { context: 'from-carrier-2' }));
  assert.equal(a.status, 200, a.text);
  assert.deepEqual(changedLines(FIXTURE, text()), [
    ['context = from-carrier ; where its calls go', 'context = from-carrier-2 ; where its calls go'],
  ]);
  assert.deepEqual(
    { ...a.body.result, backup: undefined, reload: undefined, status: undefined },
    {
      ...CARRIER,
      context: 'from-carrier-2',
      backup: undefined,
      reload: undefined,
      status: undefined,
    },
  );

  writeFileSync(conf(), FIXTURE);
  const p = await oneWrite(() => api.put('/v1/manager/trunks/carrier', { password: 'new-secret' }));
  assert.ok(!p.text.includes('new-secret'));
  assert.deepEqual(changedLines(FIXTURE, text()), [['password = carrier-secret', 'password = new-secret']]);

  // a GET answer sent back (status and sections are read-only, the name the URL's) changes nothing: no write
  writeFileSync(conf(), FIXTURE);
  const got = (await api.get('/v1/manager/trunks/carrier')).body.result;
  await unchanged(async () => {
    const same = await api.put('/v1/manager/trunks/carrier', got);
    assert.equal(same.status, 200, same.text);
    assert.equal(same.body.result.backup, null);
    assert.equal(same.body.result.reload.status, 'none');
    assert.equal((await api.put('/v1/manager/trunks/carrier', {})).body.result.backup, null);
  });
});

test('PUT hostname moves the contact, the registration URIs and the identify match', async () => {
  await oneWrite(() => api.put('/v1/manager/trunks/carrier', { hostname: 'sip2.carrier.example' }));
  assert.deepEqual(changedLines(FIXTURE, text()), [
    // the contact keeps its parameters (written \\; as Asterisk reads ;)
    ['contact = sip:sip.carrier.example:5080\\;transport=udp', 'contact = sip:sip2.carrier.example\\;transport=udp'],
    ['server_uri = sip:sip.carrier.example:5080', 'server_uri = sip:sip2.carrier.example'],
    ['client_uri = sip:acct1@sip.carrier.example:5080', 'client_uri = sip:acct1@sip2.carrier.example'],
    ['match = sip.carrier.example', 'match = sip2.carrier.example'],
  ]);
  writeFileSync(conf(), FIXTURE);
  await oneWrite(() => api.put('/v1/manager/trunks/carrier', { username: 'acct2' }));
  assert.deepEqual(changedLines(FIXTURE, text()), [
    ['username = acct1', 'username = acct2'],
    ['client_uri = sip:acct1@sip.carrier.example:5080', 'client_uri = sip:acct2@sip.carrier.example:5080'],
  ]);
});

test('PUT allow replaces every disallow/allow line with disallow=all and allow, where they were', async () => {
  const a = await oneWrite(() => api.put('/v1/manager/trunks/carrier', { allow: 'alaw' }));
  assert.equal(a.body.result.allow, 'alaw');
  assert.equal(text(), FIXTURE.replace('disallow = all\nallow = ulaw\nallow = g722\n', 'disallow = all\nallow = alaw\n'));
});

test('PUT optional options: "" removes the line, a value adds it at the end of its section', async () => {
  await oneWrite(() => api.put('/v1/manager/trunks/carrier', { from_user: 'acct1', transport: 'udp', qualify_frequency: 0 }));
  assert.equal(
    text(),
    FIXTURE.replace('rtp_symmetric = yes\n', 'rtp_symmetric = yes\ntransport = udp\nfrom_user = acct1\n')
      .replace('qualify_frequency = 30', 'qualify_frequency = 0')
      .replace('retry_interval = 60\n', 'retry_interval = 60\ntransport = udp\n'),
  );
  await oneWrite(() => api.put('/v1/manager/trunks/carrier', { from_user: '', transport: '' }));
  assert.equal(text(), FIXTURE.replace('qualify_frequency = 30', 'qualify_frequency = 0'));
});

test('PATCH: the fields given change as with PUT; null removes an optional option, and is refused for the others', async () => {
  await oneWrite(() => api.patch('/v1/manager/trunks/carrier', { from_user: 'acct1', transport: 'udp', qualify_frequency: 0 }));
  const withThem = FIXTURE.replace('rtp_symmetric = yes\n', 'rtp_symmetric = yes\ntransport = udp\nfrom_user = acct1\n')
    .replace('qualify_frequency = 30', 'qualify_frequency = 0')
    .replace('retry_interval = 60\n', 'retry_interval = 60\ntransport = udp\n');
  assert.equal(text(), withThem);
  await oneWrite(() => api.patch('/v1/manager/trunks/carrier', { from_user: null, transport: null }));
  assert.equal(text(), FIXTURE.replace('qualify_frequency = 30', 'qualify_frequency = 0'));
  await unchanged(async () => {
    for (const body of [{ hostname: null }, { context: null }, { password: null }]) {
      const r = await api.patch('/v1/manager/trunks/carrier', body);
      assert.equal(r.status, 400, `${JSON.stringify(body)}: ${r.text}`);
    }
  });
});

test('writes run the option check inside the write: it sees what changed, and its refusal writes nothing', async () => {
  checkedKeys.length = 0;
  await oneWrite(() => api.patch('/v1/manager/trunks/carrier', { from_domain: 'carrier.example' }));
  assert.deepEqual(checkedKeys, [['from_domain']]);
  refuseOption = 'from_user';
  try {
    await unchanged(async () => {
      const r = await api.patch('/v1/manager/trunks/carrier', { from_user: 'acct9' });
      assert.equal(r.status, 400, r.text);
      assert.equal(r.body.result.code, 'unknown_option');
    });
  } finally {
    refuseOption = undefined;
  }
});

test('PUT register false removes the registration section, true writes it again (at the end)', async () => {
  const off = await oneWrite(() => api.put('/v1/manager/trunks/carrier', { register: false }));
  assert.equal(off.body.result.register, false);
  const reg =
    '[carrier]\ntype = registration\noutbound_auth = carrier\nserver_uri = sip:sip.carrier.example:5080\nclient_uri = sip:acct1@sip.carrier.example:5080\nretry_interval = 60\n\n';
  assert.ok(FIXTURE.includes(reg));
  assert.equal(text(), FIXTURE.replace(reg, ''));
  const on = await oneWrite(() => api.put('/v1/manager/trunks/carrier', { register: true }));
  assert.equal(on.body.result.register, true);
  assert.equal(
    text(),
    `${FIXTURE.replace(reg, '')}
[carrier]
type = registration
outbound_auth = carrier
server_uri = sip:sip.carrier.example:5080
client_uri = sip:acct1@sip.carrier.example:5080
`,
  );
  // still one trunk, its sections in file order
  assert.deepEqual(
    on.body.result.sections.map((s: any) => s.type),
    ['endpoint', 'aor', 'auth', 'identify', 'registration'],
  );
});

test('PUT username "" drops the auth (and outbound_auth); a username with a password brings them back', async () => {
  await unchanged(async () => {
    // it still registers: a registration needs the account
    refused(await api.put('/v1/manager/trunks/carrier', { username: '' }), 400, /register: .*needs a username/, 'register');
  });
  const a = await oneWrite(() => api.put('/v1/manager/trunks/carrier', { username: '', register: false }));
  assert.equal(a.body.result.username, '');
  assert.ok(!text().includes('type = auth\nauth_type = userpass\nusername = acct1'));
  assert.ok(!text().includes('outbound_auth = carrier'));
  await unchanged(async () => {
    refused(await api.put('/v1/manager/trunks/carrier', { username: 'acct9' }), 400, /password: is required/, 'password');
    refused(await api.put('/v1/manager/trunks/carrier', { password: 'x' }), 400, /password: a password needs a username/, 'password');
  });
  const b = await oneWrite(() => api.put('/v1/manager/trunks/carrier', { username: 'acct9', password: 'pw9', register: true }));
  assert.equal(b.body.result.username, 'acct9');
  assert.match(text(), /\[carrier\]\ntype = auth\nauth_type = userpass\nusername = acct9\npassword = pw9\n/);
  assert.match(
    text(),
    /\[carrier\]\ntype = registration\noutbound_auth = carrier\nserver_uri = sip:sip\.carrier\.example:5080\nclient_uri = sip:acct9@sip\.carrier\.example:5080\n/,
  );
  assert.match(text(), /aors = carrier\nrtp_symmetric = yes\noutbound_auth = carrier\n/);
});

// ---------------------------------------------------------------------------------------------------------------
// DELETE

test('DELETE removes exactly the trunk sections: comments above them and every other section stay', async () => {
  const a = await oneWrite(() => api.del('/v1/manager/trunks/carrier'));
  assert.equal(a.status, 200, a.text);
  assert.deepEqual(a.body.result.sections, CARRIER.sections);
  const start = FIXTURE.indexOf('[carrier]\ntype = endpoint');
  const end = FIXTURE.indexOf('; a template-based endpoint');
  assert.equal(text(), FIXTURE.slice(0, start) + FIXTURE.slice(end));
  refused(await api.get('/v1/manager/trunks/carrier'), 404);
});

// ---------------------------------------------------------------------------------------------------------------
// refusals

test('an existing name is 409 (a trunk, a phone, a transport), and nothing is written', async () => {
  await unchanged(async () => {
    for (const name of ['carrier', '6001', 'udp', 'global', 'tpl'])
      refused(await api.post('/v1/manager/trunks', { name, hostname: 'h.example', context: 'c' }), 409, /already has a section named/);
  });
});

test('CR, LF, "[" or "]" in any field or in the URL is 400, and nothing is written', async () => {
  const base = { name: 'newt', hostname: 'h.example', context: 'c', username: 'u', password: 'p' };
  const strings = ['name', 'hostname', 'context', 'username', 'password', 'transport', 'allow', 'caller_id', 'from_user', 'from_domain'];
  await unchanged(async () => {
    for (const field of strings) {
      for (const bad of ['a\r\nb', 'a\nb', 'a\rb', 'a[b', 'a]b', '[x]']) {
        refused(await api.post('/v1/manager/trunks', { ...base, [field]: bad }), 400, undefined, field);
        if (field !== 'name') refused(await api.put('/v1/manager/trunks/carrier', { [field]: bad }), 400, undefined, field);
      }
    }
    for (const method of ['get', 'put', 'del'] as const) {
      refused(await api[method]('/v1/manager/trunks/a%5Bb', method === 'put' ? {} : undefined), 400);
      refused(await api[method]('/v1/manager/trunks/a%5Db', method === 'put' ? {} : undefined), 400);
      refused(await api[method]('/v1/manager/trunks/a%0D%0Ab', method === 'put' ? {} : undefined), 400);
    }
  });
});

test('a hostname that is not host[:port] is 400, and nothing is written', async () => {
  await unchanged(async () => {
    for (const hostname of [
      '',
      'sip:h.example',
      'u@h.example',
      'h.example:0',
      'h.example:70000',
      'h.example:',
      'a b',
      '1.2.3',
      '::1',
      'h/x',
    ]) {
      refused(await api.post('/v1/manager/trunks', { name: 'newt', hostname, context: 'c' }), 400, /hostname: /, 'hostname');
      refused(await api.put('/v1/manager/trunks/carrier', { hostname }), 400, /hostname: /, 'hostname');
    }
  });
});

test('an unknown trunk is 404 for GET, PUT and DELETE; a name that is not a trunk too; nothing is written', async () => {
  await unchanged(async () => {
    for (const name of ['nope', '6001', 'udp', 'tpl']) {
      refused(await api.get(`/v1/manager/trunks/${name}`), 404);
      refused(await api.put(`/v1/manager/trunks/${name}`, { context: 'x' }), 404);
      refused(await api.del(`/v1/manager/trunks/${name}`), 404);
    }
  });
});

test('other refusals write nothing: rules across fields, unknown fields, types, a rename, a bad transport, codecs', async () => {
  const base = { name: 'newt', hostname: 'h.example', context: 'c' };
  await unchanged(async () => {
    refused(await api.post('/v1/manager/trunks', { ...base, register: true }), 400, /register: /, 'register');
    refused(await api.post('/v1/manager/trunks', { ...base, username: 'u' }), 400, /password: is required/, 'password');
    refused(await api.post('/v1/manager/trunks', { ...base, password: 'p' }), 400, /password: /, 'password');
    refused(
      await api.post('/v1/manager/trunks', { ...base, password: ' p', username: 'u' }),
      400,
      /password: must not start or end/,
      'password',
    );
    refused(await api.post('/v1/manager/trunks', { ...base, secret: 'x' }), 400, /secret: unknown field/, 'secret');
    refused(await api.post('/v1/manager/trunks', { ...base, register: 'yes' }), 400, /register: must be a boolean \(true or false\)/);
    refused(await api.post('/v1/manager/trunks', { ...base, qualify_frequency: -1 }), 400, /qualify_frequency: /);
    refused(await api.post('/v1/manager/trunks', { hostname: 'h.example', context: 'c' }), 400, /name: is required/);
    refused(await api.post('/v1/manager/trunks', { ...base, context: undefined }), 400, /context: is required/);
    refused(await api.post('/v1/manager/trunks', { ...base, name: 'a@b' }), 400, /name: must start with a letter or digit/);
    refused(await api.post('/v1/manager/trunks', { ...base, name: 'a;b' }), 400, /name: /);
    refused(
      await api.post('/v1/manager/trunks', { ...base, transport: 'tcp' }),
      400,
      /transport: pjsip\.conf has no transport section named "tcp"/,
    );
    refused(await api.post('/v1/manager/trunks', { ...base, transport: '6001' }), 400, /transport: /);
    refused(await api.post('/v1/manager/trunks', { ...base, allow: 'ulaw;alaw' }), 400, /allow: must be codec names/);
    refused(await api.put('/v1/manager/trunks/carrier', { name: 'other' }), 400, /renaming is not supported/, 'name');
    refused(await api.put('/v1/manager/trunks/carrier', { transport: 'tcp' }), 400, /transport: /);
    refused(await api.put('/v1/manager/trunks/carrier', { context: '' }), 400, /context: must not be empty/, 'context');
    refused(await api.post('/v1/manager/trunks', { ...base, context: '' }), 400, /context: must not be empty/, 'context');
    refused(await api.put('/v1/manager/trunks/carrier', { bogus: 1 }), 400, /bogus: unknown field/);
    refused(await user.post('/v1/manager/trunks', base), 403);
  });
});

test('If-Match: a stale ETag is 412 and writes nothing; the current one is accepted', async () => {
  const { headers } = await api.get('/v1/manager/trunks');
  const etag = headers.get('etag')!;
  writeFileSync(conf(), `${FIXTURE}; a hand edit meanwhile\n`);
  await unchanged(async () => {
    refused(await api.post('/v1/manager/trunks', { name: 'newt', hostname: 'h.example', context: 'c' }, { 'if-match': etag }), 412);
    refused(await api.put('/v1/manager/trunks/carrier', { context: 'x' }, { 'if-match': etag }), 412);
    refused(await api.del('/v1/manager/trunks/carrier', undefined, { 'if-match': etag }), 412);
  });
  const fresh = (await api.get('/v1/manager/trunks/carrier')).headers.get('etag')!;
  const a = await api.put('/v1/manager/trunks/carrier', { context: 'x' }, { 'if-match': fresh });
  assert.equal(a.status, 200, a.text);
  assert.equal(a.headers.get('etag'), etagOf(onDisk()));
});

test('the GETs are live routes (503 while the pjsip state is not current), the writes are not; all need a manager', async () => {
  const doc = (await api.get('/v1/openapi.json')).body as any;
  assert.equal(doc.paths['/v1/manager/trunks'].get['x-live'], true);
  assert.equal(doc.paths['/v1/manager/trunks'].post['x-live'], false);
  assert.equal(doc.paths['/v1/manager/trunks/{name}'].get['x-live'], true);
  assert.equal(doc.paths['/v1/manager/trunks/{name}'].put['x-live'], false);
  assert.equal(doc.paths['/v1/manager/trunks/{name}'].delete['x-live'], false);
  assert.equal(doc.paths['/v1/manager/trunks'].post['x-required-role'], 'manager');
});

test('?dry_run=true on trunk POST, PUT, PATCH and DELETE: the diff, and no byte, backup or reload', async () => {
  assert.equal((await api.post('/v1/manager/trunks', { name: 'dry', hostname: 'h.example', context: 'c' })).status, 200);
  const before = text();
  const bk = backupNames().length;
  const r = reloads();
  const cases: [() => Promise<{ status: number; body: any; text: string }>, RegExp][] = [
    [
      () => api.post('/v1/manager/trunks?dry_run=true', { name: 'dry2', hostname: 'h2.example', context: 'c' }),
      /\+\[dry2\]\n\+type = endpoint\n/,
    ],
    [() => api.put('/v1/manager/trunks/dry?dry_run=true', { context: 'c2' }), /-context = c\n\+context = c2\n/],
    [() => api.call('PATCH', '/v1/manager/trunks/dry?dry_run=true', { context: 'c3' }), /-context = c\n\+context = c3\n/],
    [() => api.del('/v1/manager/trunks/dry?dry_run=true'), /-\[dry\]\n-type = endpoint\n/],
  ];
  for (const [call, diff] of cases) {
    const a = await call();
    assert.equal(a.status, 200, a.text);
    assert.equal(a.body.result.dry_run, true);
    assert.equal(a.body.result.name, 'pjsip.conf');
    assert.match(a.body.result.diff, diff);
    assert.equal(a.body.result.reload, 'module reload res_pjsip.so');
  }
  assert.equal(text(), before, 'no byte written');
  assert.equal(backupNames().length, bk, 'no backup');
  assert.equal(reloads(), r, 'no reload');
  assert.equal((await api.del('/v1/manager/trunks/dry')).status, 200);
});
