// gateway.yaml's nats block (the nats plugin): defaults, credentials, and the pbx_id a subject token must be.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../core/config.ts';
import { defaultPbxId } from '../../plugins/nats/index.ts';
import { streamSubjects } from '../../plugins/nats/link.ts';

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

test('pbx_id is one subject token and not "all"; servers are nats:// or tls:// URLs', () => {
  assert.throws(() => parse('nats: {pbx_id: "a.b"}'), /nats.pbx_id: must be 1 to 64 letters/);
  assert.throws(() => parse('nats: {pbx_id: "a*"}'), /nats.pbx_id/);
  assert.throws(() => parse('nats: {pbx_id: all}'), /nats.pbx_id: must not be "all"/);
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
