// gateway.yaml's nats block (the nats plugin): defaults, credentials, and the pbx_id a subject token must be.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { parseConfig } from '../../core/config.ts';
import { FleetKeys, parseApiSubject } from '../../plugins/nats/fleet.ts';
import { defaultPbxId } from '../../plugins/nats/index.ts';
import { capturesApi, streamSubjects } from '../../plugins/nats/link.ts';

const BASE = 'ami: {username: u, secret: s}\nplugins: [core, nats]\n';
const parse = (nats: string) => parseConfig(`${BASE}${nats}`, '/etc/gw/gateway.yaml', ['core', 'nats']);

test('the nats block has its defaults when left out', () => {
  const n = parse('').nats;
  assert.deepEqual(n.servers, ['nats://127.0.0.1:4222']);
  assert.equal(n.pbx_id, undefined);
  assert.equal(n.stream, 'ASTERISK');
  assert.equal(n.buffer_max_events, 10000);
  assert.equal(n.tls, false);
});

test('nats credentials: user needs password, one kind only; creds_file is relative to the file', () => {
  assert.throws(() => parse('nats: {user: gw}'), /gateway.yaml: nats.user: needs both user and password/);
  assert.throws(() => parse('nats: {user: gw, password: pw, token: t}'), /gateway.yaml: nats: give one of/);
  assert.equal(parse('nats: {creds_file: nats.creds}').nats.creds_file, '/etc/gw/nats.creds');
  assert.equal(parse('nats: {token: abc}').nats.token, 'abc');
});

test('pbx_id is one subject token (never a wildcard); servers are nats:// or tls:// URLs', () => {
  assert.throws(() => parse('nats: {pbx_id: "a.b"}'), /nats.pbx_id: must be 1 to 64 letters/);
  assert.throws(() => parse('nats: {pbx_id: "a*"}'), /nats.pbx_id/);
  assert.throws(() => parse('nats: {pbx_id: "*"}'), /nats.pbx_id/);
  assert.throws(() => parse('nats: {pbx_id: ">"}'), /nats.pbx_id/);
  assert.throws(() => parse('nats: {servers: ["http://x:1"]}'), /nats.servers\[0\]|nats.servers/);
  assert.throws(() => parse('nats: {buffer_max_events: 0}'), /nats.buffer_max_events/);
  assert.throws(() => parse('nats: {subject: x}'), /nats.subject: unknown key/);
  assert.equal(parse('nats: {pbx_id: pbx-1}').nats.pbx_id, 'pbx-1');
});

test('the default pbx_id is the host name as one token; stream subjects never cover the api subjects', () => {
  assert.equal(defaultPbxId('pbx1.example.com'), 'pbx1');
  assert.equal(defaultPbxId('my host'), 'my_host');
  assert.deepEqual(streamSubjects(['core', 'api', 'gateway', 'core']), ['asterisk.*.core.>', 'asterisk.*.gateway.>']);
});

test('stream subjects that would take in fleet requests (asterisk.<x>.api.<path>) are recognised', () => {
  for (const s of ['>', 'asterisk.>', 'asterisk.*.>', '*.*.*.*', 'asterisk.*.api.>', 'asterisk.pbx-1.api.status', 'asterisk.*.*.>'])
    assert.equal(capturesApi(s), true, s);
  for (const s of ['asterisk.*.core.>', 'asterisk.*.gateway.>', 'asterisk.*', 'asterisk.*.api', 'other.>', 'asterisk.pbx-1.queue.>'])
    assert.equal(capturesApi(s), false, s);
  assert.equal(streamSubjects(['core', 'queue', 'gateway']).some(capturesApi), false);
});

test('a fleet request subject: the pbx token (an id or *) and the path', () => {
  assert.deepEqual(parseApiSubject('asterisk.*.api.status'), { target: '*', path: ['status'] });
  assert.deepEqual(parseApiSubject('asterisk.pbx-1.api.admin.core.channels'), { target: 'pbx-1', path: ['admin', 'core', 'channels'] });
  assert.equal(parseApiSubject('asterisk.pbx-1.core.channel.new'), undefined);
  assert.equal(parseApiSubject('asterisk.pbx-1.api'), undefined);
});

const sha = (k: string) => createHash('sha256').update(k).digest('hex');

test('fleet_keys hold a name, the SHA-256 of the key (never the key) and a role', () => {
  const key = 'a'.repeat(64);
  const n = parse(`nats: {fleet_keys: [{name: central, sha256: "${sha(key).toUpperCase()}", role: admin}]}`).nats;
  assert.deepEqual(n.fleet_keys, [{ name: 'central', sha256: sha(key), role: 'admin' }]);
  assert.deepEqual(parse('').nats.fleet_keys, []);
  assert.throws(
    () => parse(`nats: {fleet_keys: [{name: c, sha256: "${key.slice(0, 32)}", role: admin}]}`),
    /nats.fleet_keys\[0\].sha256: must be the 64 hex digits/,
  );
  assert.throws(
    () => parse(`nats: {fleet_keys: [{name: c, sha256: "${sha(key)}", role: root}]}`),
    /nats.fleet_keys\[0\].role: must be one of admin, manager, user/,
  );
  assert.throws(
    () => parse(`nats: {fleet_keys: [{name: c, sha256: "${sha(key)}", role: admin, key: x}]}`),
    /nats.fleet_keys\[0\].key: unknown key/,
  );
  assert.throws(
    () => parse(`nats: {fleet_keys: [{name: c, sha256: "${sha(key)}", role: admin}, {name: c, sha256: "${sha('b')}", role: user}]}`),
    /nats.fleet_keys: names must be unique/,
  );
});

test('a fleet key resolves to its role only when its SHA-256 is listed', () => {
  const keys = new FleetKeys([
    { name: 'central', sha256: sha('k1'.repeat(16)), role: 'admin' },
    { name: 'wallboard', sha256: sha('k2'.repeat(16)), role: 'user' },
  ]);
  const a = keys.resolve('k1'.repeat(16));
  assert.deepEqual(a, { userUuid: 'fleet-key:central', roles: new Set(['admin']), apiKey: true });
  assert.deepEqual(keys.resolve('k2'.repeat(16))?.roles, new Set(['user']));
  assert.equal(keys.resolve('k3'.repeat(16)), undefined);
  assert.equal(keys.resolve(''), undefined);
  assert.equal(keys.resolve(sha('k1'.repeat(16))), undefined, 'the hash itself is not the key');
  assert.equal(new FleetKeys([]).resolve('k1'.repeat(16)), undefined);
});
