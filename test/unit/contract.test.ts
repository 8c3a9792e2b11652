// Contract tests: the OpenAPI and AsyncAPI documents are generated from the declarations, so they cannot drift from
// what is registered; every documented request schema refuses a wrong type, an unknown field and a line break; and
// the answer checker the other tests go through really fails on an answer the document does not describe.
import { schemaTools } from '../support/openapi-samples.ts';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import Ajv2020 from 'ajv/dist/2020.js';
import { openApiPath } from '../../core/contract/route.ts';
import type { Gateway } from '../../core/gateway.ts';
import { ERROR_CODES } from '../../core/http/errors.ts';
import { testLogger } from '../support/log.ts';
import { BUILTIN_PLUGINS } from '../../core/plugins/builtin.ts';
import { ContractChecker } from '../support/contract.ts';
import { type TempGateway, tempGateway } from '../support/gateway.ts';
import { client } from '../support/http.ts';

type Json = Record<string, any>;
const ROOT = path.resolve(import.meta.dirname ?? path.dirname(new URL(import.meta.url).pathname), '../..');
const ALL = BUILTIN_PLUGINS.map((p) => p.name);

let gateway: TempGateway;
let gw: Gateway;
let doc: Json;
let api: ReturnType<typeof client>;

before(async () => {
  const conf = (d: string) => path.join(d, 'asterisk');
  gateway = await tempGateway({
    prefix: 'gw-contract',
    prepare: (d) => mkdirSync(conf(d)),
    yaml: (d) => ({
      ami: { host: '127.0.0.1', port: 1, username: 'x', secret: 'y' },
      asterisk: { config_dir: conf(d), modules_dir: conf(d) },
      data_dir: d,
      auth: { bootstrap_admin: { username: 'admin', password: 'pw' } },
      plugins: ALL,
    }),
    known: ALL,
    logger: testLogger('contract'),
  });
  // Not started: no AMI; input is validated before the live guard, so every refusal below is the schema's.
  gw = gateway.gw;
  api = client((req) => gw.http.fetch(req));
  doc = (await api.get('/v1/openapi.json')).body as unknown as Json;
  await api.login('admin', 'pw');
});

after(() => gateway?.close());

test('the OpenAPI document validates as OpenAPI 3.1', async () => {
  assert.equal(doc.openapi, '3.1.0');
  const res = await new Validator().validate(doc as never);
  assert.equal(res.valid, true, JSON.stringify(res.errors)?.slice(0, 2000));
});

test('every registered route is documented, and every documented operation is registered', () => {
  const registered = new Set(gw.http.routes.map((r) => `${r.route.method} /v1${openApiPath(r.route.path)}`));
  const documented = new Set<string>();
  for (const [p, item] of Object.entries<Json>(doc.paths)) for (const m of Object.keys(item)) documented.add(`${m.toUpperCase()} ${p}`);
  assert.deepEqual(
    [...registered].filter((r) => !documented.has(r)),
    [],
    'registered but not documented',
  );
  assert.deepEqual(
    [...documented].filter((d) => !registered.has(d)),
    [],
    'documented but not registered',
  );
  assert.ok(registered.size > 90, `only ${registered.size} routes`);
});

test('every route of the spec is documented (except those an open issue still has to add)', () => {
  const lines = readFileSync(path.join(ROOT, 'test/fixtures/spec-routes.txt'), 'utf8')
    .split('\n')
    .filter((l) => l && !l.startsWith('#'));
  const templates = Object.keys(doc.paths).map((p) => ({ p, re: new RegExp(`^${p.replace(/\{[^}]+\}/g, '[^/]+')}$`) }));
  const missing: string[] = [];
  let pending = 0;
  for (const l of lines) {
    const [method, specPath] = l.split(/\s+/);
    if (l.includes('pending:')) {
      pending++;
      continue;
    }
    const concrete = `/v1${specPath!.replace(/<[^>]+>/g, 'x')}`;
    const hit = templates.find((t) => t.re.test(concrete) && doc.paths[t.p][method!.toLowerCase()]);
    if (!hit) missing.push(l);
  }
  assert.deepEqual(missing, []);
  assert.ok(lines.length - pending > 80, `${lines.length - pending} spec routes checked`);
});

test('every operation documents its error answers with the error envelope and a code', () => {
  for (const [p, item] of Object.entries<Json>(doc.paths)) {
    for (const [m, op] of Object.entries<Json>(item)) {
      assert.ok(op.summary, `${m} ${p}: summary`);
      assert.ok(op.tags?.length, `${m} ${p}: tags`);
      assert.ok(op['x-required-role'], `${m} ${p}: role`);
      if (op['x-required-role'] !== 'none') assert.ok(op.responses['401'], `${m} ${p}: 401`);
      if (op.parameters?.length || op.requestBody) assert.ok(op.responses['400'], `${m} ${p}: 400`);
    }
  }
  const codes = doc.components.schemas.ErrorResult.properties.code.enum;
  assert.deepEqual(codes, Object.keys(ERROR_CODES));
});

test('the README lists every error code', () => {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  for (const code of Object.keys(ERROR_CODES)) assert.ok(readme.includes(`\`${code}\``), `README lacks ${code}`);
});

test('the AsyncAPI document lists every event type the plugins declare', async () => {
  const a = (await api.get('/v1/asyncapi.json')).body as unknown as Json;
  assert.equal(a.asyncapi, '3.0.0');
  const names = new Set(Object.values<Json>(a.channels.events.messages).map((m) => m.name));
  assert.ok(gw.events.length >= 20, `${gw.events.length} events declared`);
  for (const e of gw.events) assert.ok(names.has(e.type), e.type);
  // each event says who receives it: the role of the GET route that shows the same object, or the named members
  for (const e of gw.events) {
    const m = Object.values<Json>(a.channels.events.messages).find((x) => x.name === e.type)!;
    if ('like' in e.access) {
      assert.ok(doc.paths[`/v1${e.access.like}`]?.get, `${e.type}: GET /v1${e.access.like} is a documented route`);
      assert.equal(m['x-required-role'], doc.paths[`/v1${e.access.like}`].get['x-required-role'], e.type);
    } else assert.equal(m['x-required-role'], 'members', e.type);
  }
  // the operation refers to every message
  // the receive operation refers to every frame the gateway sends; the send operation to the client's requests
  assert.equal(a.operations.receiveEvents.messages.length, Object.keys(a.channels.events.messages).length - 1);
  assert.deepEqual(a.operations.sendRequests.messages, [{ $ref: '#/channels/events/messages/client_request' }]);
  for (const t of ['hello', 'snapshot', 'gateway.resync', 'ack', 'error']) assert.ok(names.has(t), t);
  // every event frame carries seq and run
  const ev = Object.values<Json>(a.channels.events.messages).find((m) => m.name === 'core.channel.updated')!;
  assert.deepEqual(ev.payload.required, ['type', 'seq', 'run', 'data', 'timestamp']);
});

/** Every local $ref in the document (a JSON pointer into it), and what it points at. */
function refsOf(doc: Json): { ref: string; target: unknown }[] {
  const out: { ref: string; target: unknown }[] = [];
  const walk = (x: unknown) => {
    if (!x || typeof x !== 'object') return;
    if (Array.isArray(x)) return x.forEach(walk);
    for (const [k, val] of Object.entries(x)) {
      if (k === '$ref' && typeof val === 'string') {
        let t: any = doc;
        for (const part of val.replace(/^#\//, '').split('/')) t = t?.[part.replace(/~1/g, '/').replace(/~0/g, '~')];
        out.push({ ref: val, target: t });
      } else walk(val);
    }
  };
  walk(doc);
  return out;
}

test('with the nats plugin, the AsyncAPI document describes the NATS subjects, payloads and request/reply', async () => {
  const a = (await api.get('/v1/asyncapi.json')).body as unknown as Json;
  // every reference resolves; every payload and header schema compiles as JSON Schema 2020-12
  const refs = refsOf(a);
  assert.ok(refs.length > 100, `${refs.length} refs`);
  assert.deepEqual(
    refs.filter((r) => r.target === undefined).map((r) => r.ref),
    [],
  );
  const ajv = new Ajv2020({ strict: false, validateFormats: false });
  ajv.addSchema(a, 'asyncapi');
  const check = (pointer: string) => ajv.compile({ $ref: `asyncapi${pointer}` });
  for (const [ck, ch] of Object.entries<Json>(a.channels)) {
    for (const [mk, m] of Object.entries<Json>(ch.messages)) {
      check(`#/channels/${ck}/messages/${mk.replace(/~/g, '~0').replace(/\//g, '~1')}/payload`);
      if (m.headers) check(`#/channels/${ck}/messages/${mk}/headers`);
    }
  }
  // the server and the channels; each channel on its server
  assert.equal(a.servers.nats.protocol, 'nats');
  assert.equal(a.servers.nats.host, '127.0.0.1:4222');
  assert.deepEqual(a.channels.events.servers, [{ $ref: '#/servers/gateway' }]);
  const ev = a.channels.natsEvents;
  assert.equal(ev.address, 'asterisk.{pbx_id}.{event_type}');
  assert.deepEqual(ev.servers, [{ $ref: '#/servers/nats' }]);
  // the events carried: every declared event but members-only ones, and gateway.resync; each the WebSocket's frame
  const carried = gw.events
    .filter((e) => !('members' in e.access))
    .map((e) => e.type)
    .concat('gateway.resync')
    .sort();
  assert.ok(
    gw.events.some((e) => 'members' in e.access),
    'some event is for members only (chat)',
  );
  assert.deepEqual(ev.parameters.event_type.enum, carried);
  assert.deepEqual(
    Object.values<Json>(ev.messages).map((m) => m.name),
    carried,
  );
  for (const [k, m] of Object.entries<Json>(ev.messages)) {
    assert.equal(m.payload.$ref, `#/channels/events/messages/${k}/payload`);
    assert.deepEqual(m.headers.required, ['Pbx-Id', 'Nats-Msg-Id']);
  }
  const resync = check('#/channels/natsEvents/messages/gateway.resync/payload');
  assert.equal(resync({ type: 'gateway.resync', seq: 3, run: 'r1', data: { reason: 'x' }, timestamp: new Date().toISOString() }), true);
  assert.equal(resync({ type: 'gateway.resync', seq: 3, data: { reason: 'x' } }), false, 'run and timestamp are required');
  assert.deepEqual(a.operations.receiveNatsEvents.messages.length, carried.length);
  // request/reply: the request payload, the reply envelope (one real answer of each kind validates)
  const rq = a.channels.natsRequests;
  assert.equal(rq.address, 'asterisk.{pbx_id}.api.{path}');
  assert.deepEqual(Object.keys(rq.parameters), ['pbx_id', 'path']);
  const request = check('#/channels/natsRequests/messages/request/payload');
  assert.equal(request({ authtoken: 'k', query: { limit: 10, state: ['up', 'ring'] } }), true);
  assert.equal(request({ query: {} }), false, 'authtoken is required');
  assert.equal(request({ authtoken: 'k', method: 'POST' }), false);
  const reply = check('#/channels/natsReplies/messages/reply/payload');
  assert.equal(reply((await api.get('/v1/status')).body), true);
  assert.equal(reply((await api.call('GET', '/v1/admin/core/channels', undefined, { authorization: 'Bearer nope' })).body), true);
  assert.equal(reply({ statuscode: 200 }), false);
  assert.deepEqual(a.operations.sendNatsRequests.reply.channel, { $ref: '#/channels/natsReplies' });
});

test('without the nats plugin the AsyncAPI document has no NATS side', async () => {
  const t = await tempGateway({
    prefix: 'gw-contract-nonats',
    yaml: (d) => ({
      ami: { host: '127.0.0.1', port: 1, username: 'x', secret: 'y' },
      asterisk: { config_dir: d, modules_dir: d },
      data_dir: d,
      plugins: ALL.filter((p) => p !== 'nats'),
    }),
    known: ALL,
    logger: testLogger('contract-nonats'),
  });
  try {
    const a = (await (await t.gw.http.fetch(new Request('http://x/v1/asyncapi.json'))).json()) as Json;
    assert.equal(a.servers, undefined);
    assert.deepEqual(Object.keys(a.channels), ['events']);
    assert.deepEqual(Object.keys(a.operations), ['receiveEvents', 'sendRequests']);
    assert.doesNotMatch(JSON.stringify(a), /asterisk\.\{pbx_id\}/);
  } finally {
    await t.close();
  }
});

// ---- every documented request schema refuses bad input ----

const { resolve, nonNull, sample, wrongValue } = schemaTools(() => doc);

const concretePath = (p: string) => p.replace(/\{[^}]+\}/g, 'x');

test('every documented JSON body refuses a wrong type, an unknown field and CR/LF in a single-line string', async () => {
  const failures: string[] = [];
  let checked = 0;
  for (const [p, item] of Object.entries<Json>(doc.paths)) {
    for (const [m, op] of Object.entries<Json>(item)) {
      const schema = op.requestBody?.content?.['application/json']?.schema;
      if (!schema) continue;
      const obj = resolve(schema);
      if (obj.type !== 'object' || !obj.properties) continue;
      const method = m.toUpperCase();
      const url = concretePath(p);
      const base = sample(obj) as Json;
      const send = async (body: unknown) => {
        checked++;
        return method === 'GET'
          ? api.call('GET', url, undefined, {}) // GET bodies are covered in-process below
          : api.call(method, url, body);
      };
      if (method === 'GET') continue;
      // unknown field
      if (obj.additionalProperties === false) {
        const a = await send({ ...base, no_such_field_zz: 1 });
        if (a.status !== 400 || a.body.result?.code !== 'unknown_field' || a.body.result?.field !== 'no_such_field_zz') {
          failures.push(`${method} ${p}: unknown field -> ${a.status} ${a.text.slice(0, 160)}`);
        }
      }
      for (const [key, propSchema] of Object.entries<Json>(obj.properties)) {
        const prop = nonNull(propSchema);
        if (Object.keys(prop).length === 0 || prop.description?.startsWith('read-only')) continue; // ignored()
        // wrong type
        const w = await send({ ...base, [key]: wrongValue(propSchema) });
        if (w.status !== 400 || w.body.result?.field !== key || w.body.result?.code !== 'invalid_field') {
          failures.push(`${method} ${p}: ${key} of a wrong type -> ${w.status} ${w.text.slice(0, 160)}`);
        }
        // CR/LF in a single-line string
        if (prop.type === 'string' && typeof prop.pattern === 'string' && prop.pattern.includes('\\r\\n')) {
          const l = await send({ ...base, [key]: 'a\r\nAction: Hangup' });
          if (l.status !== 400 || l.body.result?.field !== key || !/CR, LF/.test(l.body.result?.message ?? '')) {
            failures.push(`${method} ${p}: ${key} with CR/LF -> ${l.status} ${l.text.slice(0, 160)}`);
          }
        }
      }
    }
  }
  assert.deepEqual(failures, []);
  assert.ok(checked > 100, `only ${checked} refusals checked`);
});

test('malformed JSON is refused with code malformed_json; a known path with another method is 405 with Allow', async () => {
  const post = Object.entries<Json>(doc.paths).find(([, item]) => item.post?.requestBody?.content?.['application/json']);
  assert.ok(post);
  const a = await api.call('POST', concretePath(post[0]), '{"a":', { 'content-type': 'application/json' });
  assert.equal(a.status, 400);
  assert.equal(a.body.result.code, 'malformed_json');
  const b = await api.call('PATCH', '/v1/admin/core/channels');
  assert.equal(b.status, 405);
  assert.equal(b.body.result.code, 'method_not_allowed');
  assert.equal(b.headers.get('allow'), 'GET, POST, HEAD');
  const c = await api.call('GET', '/v1/no/such/route');
  assert.equal(c.status, 404);
  assert.equal(c.body.result.code, 'not_found');
});

test('the answer checker fails on an answer the document does not describe', async () => {
  const checker = new ContractChecker(doc);
  const good = (await api.get('/v1/status')).text;
  checker.check('GET', '/v1/status', 200, 'application/json', good);
  const extra = JSON.parse(good);
  extra.result.undeclared_field = 1;
  assert.throws(() => checker.check('GET', '/v1/status', 200, 'application/json', JSON.stringify(extra)), /does not match/);
  const wrongType = JSON.parse(good);
  wrongType.result.gateway.uptime_s = '12';
  assert.throws(() => checker.check('GET', '/v1/status', 200, 'application/json', JSON.stringify(wrongType)), /does not match/);
  assert.throws(() => checker.check('GET', '/v1/status', 418, 'application/json', good), /does not document/);
  assert.ok((await api.contract())!.checked > 5, 'the test client checks its answers');
});

test('--print-openapi / --print-asyncapi write the whole document into a pipe (it was cut at 64 KiB)', async () => {
  const { spawn } = await import('node:child_process');
  const { generateDocuments } = await import('../../core/contract/documents.ts');
  const docs = await generateDocuments();
  const runtime = process.versions.bun ? [] : ['--import', 'tsx'];
  for (const [flag, key] of [
    ['--print-openapi', 'openapi'],
    ['--print-asyncapi', 'asyncapi'],
  ] as const) {
    const child = spawn(process.execPath, [...runtime, 'core/main.ts', flag], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    let text = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (text += d));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(code, 0);
    assert.ok(text.length > 65_536, `${flag}: ${text.length} characters`);
    assert.deepEqual(JSON.parse(text), JSON.parse(JSON.stringify(docs[key])), flag);
  }
});
