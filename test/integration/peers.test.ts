// /peers and /registries against a real Asterisk 22: every endpoint is a peer; a phone that REGISTERs (the test bed's
// SIP client) shows Registered with the address it registered from, its qualify (OPTIONS answered by the client)
// turns monitor_status into "OK (N ms)", and unregistering turns both back; an outbound registration to a registrar
// here shows Registered with its registration_time, one to a registrar that answers 403 shows Rejected. The spec's
// GET-with-a-body form is sent over a real socket. Every answer is checked against the gateway's OpenAPI document,
// every published event against its schema.
//
// Run: node --import tsx --test --test-concurrency=1 test/integration/peers.test.ts
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { BusMessage } from '../../core/bus/bus.ts';
import { TESTBED } from '../asterisk/testbed.ts';
import { amiList, type Bed, skipReason, startBed } from '../support/bed.ts';
import { eventually, getWithBody } from '../support/http.ts';
import { answerOptions, newUa, sipRegister, startRegistrar } from '../support/sip.ts';

const skip = skipReason() ?? false;
const T = { timeout: 90_000, skip };
const P = TESTBED.pjsip;
const CONF = '/v1/admin/pjsip/configurations/pjsip.conf';
const PHONE = 'gw-phone';
const QUALIFY_S = 2;
let bed: Bed;
let original = '';
let registrar: Awaited<ReturnType<typeof startRegistrar>>;
let refuser: Awaited<ReturnType<typeof startRegistrar>>;
const published: BusMessage[] = [];

before(
  async () => {
    if (skip) return;
    bed = await startBed({ plugins: ['pjsip'] });
    bed.gateway.bus.subscribe((m) => published.push(m));
    registrar = await startRegistrar();
    refuser = await startRegistrar({ status: 403 });
    const cur = await bed.api.get(CONF);
    assert.equal(cur.status, 200, cur.text);
    original = cur.body.result.data;
    // a phone whose AOR is qualified, and two outbound registrations: one accepted, one refused (403)
    const added = `
[${PHONE}]
type = endpoint
transport = ${P.transport}
context = ${TESTBED.contexts.wait}
disallow = all
allow = ulaw,h264
aors = ${PHONE}
auth = ${PHONE}
rtp_symmetric = yes
force_rport = yes

[${PHONE}]
type = auth
auth_type = userpass
username = ${PHONE}
password = ${PHONE}-secret

[${PHONE}]
type = aor
max_contacts = 1
qualify_frequency = ${QUALIFY_S}

[gw-prov]
type = registration
transport = ${P.transport}
server_uri = sip:127.0.0.1:${registrar.port}
client_uri = sip:provuser@127.0.0.1:${registrar.port}
retry_interval = 60
expiration = 120
max_random_initial_delay = 0

[gw-refused]
type = registration
transport = ${P.transport}
server_uri = sip:127.0.0.1:${refuser.port}
client_uri = sip:refuseduser@127.0.0.1:${refuser.port}
retry_interval = 60
forbidden_retry_interval = 0
max_random_initial_delay = 0
`;
    const put = await bed.api.put(CONF, { data: original + added });
    assert.equal(put.status, 200, put.text);
    assert.equal(put.body.result.reload.status, 'done', JSON.stringify(put.body.result.reload));
    await eventually(
      async () =>
        (await bed.api.get('/v1/registries')).body.result?.list?.length === 2 && (await bed.api.get(`/v1/peers/${PHONE}`)).status === 200,
      15000,
      'the re-read after the reload',
    );
  },
  { timeout: 90_000 },
);
after(
  async () => {
    if (bed && original) await bed.api.put(CONF, { data: original });
    registrar?.close();
    refuser?.close();
    await bed?.close();
  },
  { timeout: 60_000 },
);

async function peer(name: string): Promise<any> {
  const a = await bed.api.get(`/v1/peers/${encodeURIComponent(name)}`);
  assert.equal(a.status, 200, a.text);
  return a.body.result;
}

async function registry(key: string): Promise<any> {
  const a = await bed.api.get(`/v1/registries/${encodeURIComponent(key)}`);
  assert.equal(a.status, 200, a.text);
  return a.body.result;
}

const PEER_FIELDS = [
  'peer',
  'status',
  'address',
  'monitor_status',
  'channel_type',
  'chan_object_type',
  'dynamic',
  'auto_comedia',
  'auto_force_port',
  'acl',
  'comedia',
  'description',
  'force_port',
  'realtime_device',
  'text_support',
  'video_support',
  'tm_update',
];

test('GET /peers: one PJSIP/<endpoint> per endpoint Asterisk has; every field of the spec as a string', T, async () => {
  const list = (await bed.api.get('/v1/peers')).body.result.list;
  const eps = (await amiList(bed, 'PJSIPShowEndpoints', 'EndpointList')).map((e) => `PJSIP/${e.ObjectName}`);
  assert.deepEqual(list.map((p: { peer: string }) => p.peer).sort(), eps.sort());
  assert.deepEqual(list.map((p: { peer: string }) => p.peer).sort(), [`PJSIP/${P.endpoint}`, `PJSIP/${PHONE}`]);

  const p = await peer(`PJSIP/${PHONE}`);
  assert.deepEqual(Object.keys(p).sort(), [...PEER_FIELDS].sort());
  for (const k of PEER_FIELDS) assert.equal(typeof p[k], 'string', `${k} is a string`);
  assert.equal(p.peer, `PJSIP/${PHONE}`);
  assert.equal(p.status, 'Unregistered');
  assert.equal(p.address, '');
  assert.equal(p.monitor_status, 'UNKNOWN', 'qualified, nothing registered yet');
  assert.equal(p.channel_type, 'PJSIP');
  assert.equal(p.chan_object_type, 'endpoint');
  assert.equal(p.dynamic, 'yes');
  assert.equal(p.comedia, 'yes');
  assert.equal(p.force_port, 'yes');
  assert.equal(p.video_support, 'yes', 'h264 is allowed');
  assert.equal(p.text_support, 'no');
  assert.equal(p.acl, 'no');
  // the same peer by name without PJSIP/, with the "/" not encoded, by ?peer=, and in a GET body (the spec's form)
  assert.deepEqual(await peer(PHONE), p);
  assert.deepEqual((await bed.api.get(`/v1/peers/PJSIP/${PHONE}`)).body.result, p);
  assert.deepEqual((await bed.api.get(`/v1/peers/?peer=${PHONE}`)).body.result, p);
  const body = await getWithBody(bed.base, '/v1/peers/', { peer: `PJSIP/${PHONE}` }, bed.api.token);
  assert.equal(body.status, 200, body.text);
  assert.deepEqual(body.body.result, p);
  const unversioned = await getWithBody(bed.base, '/peers/', { peer: PHONE }, bed.api.token);
  assert.deepEqual(unversioned.body.result, p);

  const ep1 = await peer(P.endpoint);
  assert.equal(ep1.monitor_status, 'Unmonitored', 'gw-ep1 has no qualify');
  assert.equal(ep1.video_support, 'no');
  assert.equal(ep1.comedia, 'no', 'rtp_symmetric defaults to no');
  assert.equal(ep1.force_port, 'yes', 'force_rport defaults to yes');

  assert.equal((await bed.api.get('/v1/peers/PJSIP%2Fnobody')).status, 404);
  assert.equal((await getWithBody(bed.base, '/v1/peers/', { peer: 'nobody' }, bed.api.token)).status, 404);
  const bad = await getWithBody(bed.base, '/v1/peers/', { peer: 'x', other: 1 }, bed.api.token);
  assert.equal(bad.status, 400, bad.text);
  assert.equal(bad.body.result.field, 'other');
  assert.equal((await getWithBody(bed.base, '/v1/peers/', {}, bed.api.token)).status, 400);
});

test(
  'a phone registers: Registered with its address; its qualify makes monitor_status "OK (N ms)"; unregistering turns it back',
  T,
  async () => {
    const ua = await newUa();
    const options = answerOptions(ua);
    const since = published.length;
    try {
      assert.equal(await sipRegister(ua, PHONE, `${PHONE}-secret`, 300), 'SIP/2.0 200 OK');
      const reg = await eventually(
        async () => {
          const p = await peer(`PJSIP/${PHONE}`);
          return p.status === 'Registered' ? p : null;
        },
        10000,
        'peer Registered',
      );
      assert.equal(reg.address, `127.0.0.1:${ua.port}`, 'where the REGISTER came from');
      const amiContact = (await amiList(bed, 'PJSIPShowContacts', 'ContactList')).find((c) => c.Endpoint === PHONE)!;
      assert.equal(`${amiContact.ViaAddr}:${amiContact.ViaPort}`, reg.address);

      const ok = await eventually(
        async () => {
          const p = await peer(PHONE);
          return /^OK \(\d+ ms\)$/.test(p.monitor_status) ? p : null;
        },
        (QUALIFY_S + 8) * 1000,
        'monitor_status OK (N ms)',
      );
      assert.ok(options.answered > 0, 'Asterisk qualified the contact');
      assert.equal(ok.status, 'Registered');
      // Asterisk's own word: the contact is Reachable, with a round trip
      const detail = (await bed.gateway.ami.list('PJSIPShowEndpoint', { Endpoint: PHONE })).events.find(
        (e) => e.fields.Event === 'ContactStatusDetail',
      )!;
      assert.equal(detail.fields.Status, 'Reachable');
      assert.ok(Number(detail.fields.RoundtripUsec) > 0);
      assert.match(await bed.asterisk.cli(`pjsip show contacts`), new RegExp(`${PHONE}/sip:${PHONE}@127\\.0\\.0\\.1:${ua.port}.*Avail`));
      const ms = Number(/\((\d+) ms\)/.exec(ok.monitor_status)![1]);
      assert.ok(ms >= 1 && ms < 3000, `${ms} ms`);

      assert.equal(await sipRegister(ua, PHONE, `${PHONE}-secret`, 0), 'SIP/2.0 200 OK');
      const gone = await eventually(
        async () => {
          const p = await peer(PHONE);
          return p.status === 'Unregistered' ? p : null;
        },
        10000,
        'peer Unregistered',
      );
      assert.equal(gone.address, '');
      assert.equal(gone.monitor_status, 'UNKNOWN');
      assert.ok(gone.tm_update > ok.tm_update, 'tm_update moved');
      // the changes were published as they came (and checked against the event's schema by the bed)
      const seen = published
        .slice(since)
        .filter((m) => m.type === 'pjsip.peer.updated' && (m.data as { peer: string }).peer === `PJSIP/${PHONE}`)
        .map((m) => m.data as { status: string; monitor_status: string });
      assert.ok(
        seen.some((d) => d.status === 'Registered'),
        JSON.stringify(seen),
      );
      assert.ok(
        seen.some((d) => d.monitor_status.startsWith('OK (')),
        JSON.stringify(seen),
      );
      assert.deepEqual(seen.at(-1), gone);
    } finally {
      options.stop();
      ua.sock.close();
    }
  },
);

test('GET /registries: an accepted registration is Registered, a refused one (403) Rejected; spec fields and types', T, async () => {
  const accepted = `provuser@127.0.0.1:${registrar.port}`;
  const refused = `refuseduser@127.0.0.1:${refuser.port}`;
  const list = (await bed.api.get('/v1/registries')).body.result.list;
  assert.deepEqual(list.map((r: { account: string }) => r.account).sort(), [accepted, refused].sort());

  const ok = await eventually(
    async () => {
      const r = await registry(accepted);
      return r.state === 'Registered' ? r : null;
    },
    15000,
    'gw-prov Registered',
  );
  assert.ok(registrar.registers > 0);
  const now = Math.floor(Date.now() / 1000);
  assert.ok(ok.registration_time > now - 60 && ok.registration_time <= now, `registration_time ${ok.registration_time}`);
  assert.deepEqual(
    { ...ok, registration_time: 0, tm_update: '' },
    {
      account: accepted,
      state: 'Registered',
      username: 'provuser',
      domain: '127.0.0.1',
      domain_port: registrar.port,
      host: '127.0.0.1',
      port: registrar.port,
      refresh: 120,
      registration_time: 0,
      tm_update: '',
    },
  );
  const amiRegs = await amiList(bed, 'PJSIPShowRegistrationsOutbound', 'OutboundRegistrationDetail');
  assert.equal(amiRegs.find((r) => r.ObjectName === 'gw-prov')!.Status, ok.state);

  const no = await eventually(
    async () => {
      const r = await registry(refused);
      return r.state === 'Rejected' ? r : null;
    },
    15000,
    'gw-refused Rejected',
  );
  assert.ok(refuser.registers > 0);
  assert.equal(no.registration_time, 0, 'never registered');
  assert.equal(no.username, 'refuseduser');
  assert.equal(no.refresh, 3600, "Asterisk's default expiration");
  const amiNo = (await amiList(bed, 'PJSIPShowRegistrationsOutbound', 'OutboundRegistrationDetail')).find(
    (r) => r.ObjectName === 'gw-refused',
  )!;
  assert.equal(amiNo.Status, 'Rejected');
  assert.match(await bed.asterisk.cli('pjsip show registrations'), /gw-refused\/sip:127\.0\.0\.1:\d+\s+.*Rejected/);

  // the same registry by its name, by the account without its port, by ?account=, and in a GET body (the spec's form)
  const current = await registry(accepted);
  assert.deepEqual(await registry('gw-prov'), current);
  assert.deepEqual(await registry(`provuser@127.0.0.1`), current);
  assert.deepEqual((await bed.api.get(`/v1/registries/?account=${encodeURIComponent(accepted)}`)).body.result, current);
  const body = await getWithBody(bed.base, '/v1/registries/', { account: accepted }, bed.api.token);
  assert.equal(body.status, 200, body.text);
  assert.deepEqual(body.body.result, current);
  assert.equal((await getWithBody(bed.base, '/registries/', { account: 'nobody@nowhere' }, bed.api.token)).status, 404);
  assert.equal((await bed.api.get('/v1/registries/nobody@nowhere:5060')).status, 404);

  // the Registry events were published with the view
  const events = published.filter((m) => m.type === 'pjsip.registry.updated').map((m) => m.data as { account: string; state: string });
  assert.ok(events.some((e) => e.account === accepted && e.state === 'Registered'));
  assert.ok(events.some((e) => e.account === refused && e.state === 'Rejected'));
});

test('every answer above was checked against the OpenAPI document', T, async () => {
  const checker = await bed.api.contract();
  assert.ok(checker && checker.checked >= 15, `answers checked: ${checker?.checked}`);
});
