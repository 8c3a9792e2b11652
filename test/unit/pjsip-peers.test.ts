// /peers and /registries of the pjsip plugin: the mapping from PJSIP state to the spec's peer and registry objects
// (pure functions), and the plugin wired as the gateway wires it with a fake AMI: the routes (list, detail by path,
// with or without PJSIP/, by ?peer= / ?account=, 400 without a key, 404), the live changes (ContactStatus,
// Registry) with their events, registration_time, and the re-read that refreshes an old qualify round trip. Every
// answer is checked against the OpenAPI document, every published event against its declared schema. (A GET with a
// JSON body cannot go through fetch; the integration test sends the spec's form over a socket.)
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { AmiMessage } from '../../core/ami/message.ts';
import type { AmiHeaders, AmiListResult, AmiPort } from '../../core/ami/port.ts';
import type { BusMessage } from '../../core/bus/bus.ts';
import type { GatewayConfig } from '../../core/config.ts';
import type { PluginInstance } from '../../core/plugins/contract.ts';
import pjsip from '../../plugins/pjsip/index.ts';
import { bestContact, codecs, contactAddress, monitorStatus, peerFields, registryOf, sipUriParts } from '../../plugins/pjsip/peers.ts';
import { endpointRow, registrationFrom } from '../../plugins/pjsip/rows.ts';
import type { Contact } from '../../plugins/pjsip/schemas.ts';
import { DEBOUNCE_MS } from '../../plugins/pjsip/service.ts';
import { pluginApp } from '../support/app.ts';
import type { client } from '../support/http.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const settle = () => sleep(DEBOUNCE_MS + 150);
const msg = (fields: Record<string, string>): AmiMessage => ({ fields });

function contact(over: Partial<Contact>): Contact {
  return {
    aor: 'a',
    authentication_qualify: 0,
    call_id: '',
    endpoint_name: 'a',
    id: 'a;@1',
    outbound_proxy: '',
    path: '',
    qualify_frequency: 0,
    qualify_timout: 3,
    reg_expire: 0,
    round_trip_usec: 'N/A',
    status: 'NonQualified',
    tm_update: '2026-01-01T00:00:00.000Z',
    uri: 'sip:a@127.0.0.1:5070',
    user_agent: '',
    via_address: '',
    ...over,
  };
}

// ---- the mapping ----

test('sipUriParts: user, host and port of SIP URIs, with the default ports of sip: and sips:', () => {
  assert.deepEqual(sipUriParts('sip:2345@sip_proxy'), { user: '2345', host: 'sip_proxy', port: 5060 });
  assert.deepEqual(sipUriParts('sip:reguser@127.0.0.1:5070'), { user: 'reguser', host: '127.0.0.1', port: 5070 });
  assert.deepEqual(sipUriParts('sip:127.0.0.1:5070'), { user: '', host: '127.0.0.1', port: 5070 });
  assert.deepEqual(sipUriParts('sips:u@example.com'), { user: 'u', host: 'example.com', port: 5061 });
  assert.deepEqual(sipUriParts('sip:u@example.com;transport=tls'), { user: 'u', host: 'example.com', port: 5061 });
  assert.deepEqual(sipUriParts('sip:u@example.com;transport=udp'), { user: 'u', host: 'example.com', port: 5060 });
  assert.deepEqual(sipUriParts('sip:u:pw@[2001:db8::1]:5080;ob'), { user: 'u', host: '[2001:db8::1]', port: 5080 });
  assert.deepEqual(sipUriParts('sip:[::1]'), { user: '', host: '[::1]', port: 5060 });
  assert.deepEqual(sipUriParts('"Bob" <sip:bob@h:5099>;tag=x'), { user: 'bob', host: 'h', port: 5099 });
  assert.deepEqual(sipUriParts('sip:u@h?X-Header=1'), { user: 'u', host: 'h', port: 5060 });
  assert.deepEqual(sipUriParts(''), { user: '', host: '', port: 5060 });
});

test("monitor_status in chan_sip's words, from the qualify of the best contact", () => {
  assert.equal(monitorStatus(contact({ status: 'Reachable', round_trip_usec: '22400' }), true), 'OK (22 ms)');
  assert.equal(monitorStatus(contact({ status: 'Reachable', round_trip_usec: '180' }), true), 'OK (1 ms)', 'never 0 ms');
  assert.equal(monitorStatus(contact({ status: 'Reachable', round_trip_usec: 'N/A' }), true), 'UNKNOWN');
  assert.equal(monitorStatus(contact({ status: 'Unreachable' }), true), 'UNREACHABLE');
  assert.equal(monitorStatus(contact({ status: 'NonQualified' }), false), 'Unmonitored');
  assert.equal(monitorStatus(contact({ status: 'Unknown' }), true), 'UNKNOWN');
  assert.equal(monitorStatus(contact({ status: 'Created' }), true), 'UNKNOWN');
  assert.equal(monitorStatus(undefined, true), 'UNKNOWN', 'qualified, but nothing to qualify');
  assert.equal(monitorStatus(undefined, false), 'Unmonitored');
});

test('the best contact: reachable first, registered before static, then the latest registration; its address', () => {
  const old = contact({ id: 'a;@1', reg_expire: 100, via_address: '10.0.0.1:5060' });
  const recent = contact({ id: 'a;@2', reg_expire: 200, via_address: '10.0.0.2:5062' });
  const stat = contact({ id: 'a@@3', reg_expire: 0, uri: 'sip:pbx.example.com' });
  const reachable = contact({ id: 'a@@4', status: 'Reachable', round_trip_usec: '900', uri: 'sip:10.0.0.4:5099;transport=udp' });
  const down = contact({ id: 'a;@5', reg_expire: 900, status: 'Unreachable' });
  assert.equal(bestContact([]), undefined);
  assert.equal(bestContact([old, stat, recent]), recent);
  assert.equal(bestContact([stat, old]), old);
  assert.equal(bestContact([down, stat]), stat, 'an unreachable contact comes last');
  assert.equal(bestContact([old, recent, down, reachable]), reachable);
  assert.equal(contactAddress(recent), '10.0.0.2:5062', 'where the REGISTER came from');
  assert.equal(contactAddress(stat), 'pbx.example.com:5060', 'else the host and port of the URI');
  assert.equal(contactAddress(reachable), '10.0.0.4:5099');
  assert.equal(contactAddress(undefined), '');
  assert.deepEqual(codecs('(ulaw|alaw|H264)'), ['ulaw', 'alaw', 'h264']);
  assert.deepEqual(codecs(''), []);
});

test("peerFields: every field of the spec's peer from the endpoint, its AORs and their contacts", () => {
  const ep = endpointRow(
    msg({
      Event: 'EndpointDetail',
      ObjectType: 'endpoint',
      ObjectName: '1001',
      Aors: '1001',
      Allow: '(ulaw|vp8|t140)',
      RtpSymmetric: 'true',
      ForceRport: 'false',
      Acl: 'deny/permit',
      MaxVideoStreams: '1',
    }),
  );
  const reg = contact({
    aor: '1001',
    id: '1001;@9',
    reg_expire: 2e9,
    via_address: '192.168.200.1:5060',
    status: 'Reachable',
    round_trip_usec: '22000',
  });
  assert.deepEqual(peerFields({ endpoint: ep, aors: [{ max_contacts: 1, qualify_frequency: 60 }], contacts: [reg] }), {
    peer: 'PJSIP/1001',
    status: 'Registered',
    address: '192.168.200.1:5060',
    monitor_status: 'OK (22 ms)',
    channel_type: 'PJSIP',
    chan_object_type: 'endpoint',
    dynamic: 'yes',
    auto_comedia: 'no',
    auto_force_port: 'no',
    acl: 'yes',
    comedia: 'yes',
    description: '',
    force_port: 'no',
    realtime_device: 'no',
    text_support: 'yes',
    video_support: 'yes',
  });
  // a trunk: no registrations accepted, one static contact, no qualify, no ACL, audio only
  const trunk = endpointRow(
    msg({
      Event: 'EndpointDetail',
      ObjectType: 'endpoint',
      ObjectName: 'prov',
      Aors: 'prov',
      Allow: '(alaw)',
      ForceRport: 'true',
      Acl: '',
    }),
  );
  const st = contact({ aor: 'prov', id: 'prov@@ab', uri: 'sip:sip.provider.example:5080', status: 'NonQualified' });
  const p = peerFields({ endpoint: trunk, aors: [{ max_contacts: 0, qualify_frequency: 0 }], contacts: [st] });
  assert.equal(p.status, 'Unregistered', 'a static contact is no registration');
  assert.equal(p.address, 'sip.provider.example:5080');
  assert.equal(p.monitor_status, 'Unmonitored');
  assert.equal(p.dynamic, 'no');
  assert.equal(p.acl, 'no');
  assert.equal(p.force_port, 'yes');
  assert.equal(p.comedia, 'no');
  assert.equal(p.text_support, 'no');
  assert.equal(p.video_support, 'no');
  // video codecs but no video stream allowed
  const noVideo = endpointRow(
    msg({ Event: 'EndpointDetail', ObjectType: 'endpoint', ObjectName: 'v', Allow: '(h264)', MaxVideoStreams: '0' }),
  );
  assert.equal(peerFields({ endpoint: noVideo, aors: [], contacts: [] }).video_support, 'no');
  const none = peerFields({ endpoint: noVideo, aors: [], contacts: [] });
  assert.equal(none.address, '');
  assert.equal(none.status, 'Unregistered');
  assert.equal(none.monitor_status, 'Unmonitored');
});

test("registryOf: the spec's registry from an outbound registration", () => {
  const r = registrationFrom(
    msg({
      Event: 'OutboundRegistrationDetail',
      ObjectType: 'registration',
      ObjectName: 'prov',
      ClientUri: 'sip:2345@sip_proxy',
      ServerUri: 'sip:registrar.example.com:5070',
      Expiration: '120',
      Status: 'Rejected',
      OutboundAuth: 'prov-auth',
      NextReg: '0',
    }),
  );
  r.registered_at = 1700000000;
  const v = registryOf(r);
  assert.deepEqual(v, {
    account: '2345@registrar.example.com:5070',
    state: 'Rejected',
    username: '2345',
    domain: 'sip_proxy',
    domain_port: 5060,
    host: 'registrar.example.com',
    port: 5070,
    refresh: 120,
    registration_time: 1700000000,
    tm_update: r.row.tm_update,
  });
  // no user in the client URI: the outbound auth's username
  r.row.client_uri = 'sips:example.com';
  const w = registryOf(r, (auth) => (auth === 'prov-auth' ? 'authuser' : ''));
  assert.equal(w.username, 'authuser');
  assert.equal(w.account, 'authuser@registrar.example.com:5070');
  assert.equal(w.domain_port, 5061);
});

// ---- the plugin, with a fake AMI ----

interface FakeContact {
  uri: string;
  status: string;
  rtt: string;
  static?: boolean;
}

/** A small Asterisk: endpoints with one AOR each (its options here), their contacts, outbound registrations. */
class FakeAsterisk implements AmiPort {
  connected = true;
  calls: string[] = [];
  endpoints = new Map<string, { allow: string; maxContacts: string; qualify: string }>();
  contacts = new Map<string, FakeContact[]>();
  registrations: Record<string, string>[] = [];

  async action(): Promise<AmiMessage> {
    throw new Error('not used');
  }
  async command(): Promise<string[]> {
    return [];
  }
  async list(name: string, headers: AmiHeaders = {}): Promise<AmiListResult> {
    this.calls.push(headers.Endpoint ? `${name} ${headers.Endpoint}` : name);
    await sleep(2);
    const events = this.answer(name, String(headers.Endpoint ?? ''));
    return { response: msg({ Response: 'Success' }), events, complete: msg({ Event: `${name}Complete` }), seq: 0 };
  }

  private aor(ev: string, name: string): AmiMessage {
    const o = this.endpoints.get(name)!;
    return msg({
      Event: ev,
      ObjectType: 'aor',
      ObjectName: name,
      MaxContacts: o.maxContacts,
      QualifyFrequency: o.qualify,
      QualifyTimeout: '3.000000',
      Contacts: (this.contacts.get(name) ?? []).map((c) => `${name}/${c.uri}`).join(','),
    });
  }

  private answer(name: string, endpoint: string): AmiMessage[] {
    switch (name) {
      case 'PJSIPShowEndpoints':
        return [...this.endpoints.keys()].map((n) => msg({ Event: 'EndpointList', ObjectType: 'endpoint', ObjectName: n }));
      case 'PJSIPShowEndpoint': {
        const o = this.endpoints.get(endpoint)!;
        return [
          msg({
            Event: 'EndpointDetail',
            ObjectType: 'endpoint',
            ObjectName: endpoint,
            Aors: endpoint,
            Allow: o.allow,
            RtpSymmetric: 'true',
            ForceRport: 'true',
            Acl: '',
            MaxVideoStreams: '1',
            DeviceState: 'Not in use',
          }),
          { fields: { ...this.aor('AorDetail', endpoint).fields, EndpointName: endpoint } },
          ...(this.contacts.get(endpoint) ?? []).map((c, i) =>
            msg({
              Event: 'ContactStatusDetail',
              AOR: endpoint,
              URI: c.uri,
              UserAgent: 'ua',
              RegExpire: c.static ? '0' : String(Math.floor(Date.now() / 1000) + 3600),
              ViaAddress: c.static ? '' : `10.0.0.${i + 1}:5060`,
              CallID: 'c',
              Status: c.status,
              RoundtripUsec: c.rtt,
              EndpointName: endpoint,
              ID: c.static ? `${endpoint}@@${i}` : `${endpoint};@${i}`,
              AuthenticateQualify: '0',
              OutboundProxy: '',
              Path: '',
              QualifyFrequency: this.endpoints.get(endpoint)!.qualify,
              QualifyTimeout: '3.000',
            }),
          ),
        ];
      }
      case 'PJSIPShowAors':
        return [...this.endpoints.keys()].map((n) => this.aor('AorList', n));
      case 'PJSIPShowAuths':
      case 'PJSIPShowContacts':
        return [];
      case 'PJSIPShowRegistrationsOutbound':
        return this.registrations.map((r) => msg({ Event: 'OutboundRegistrationDetail', ObjectType: 'registration', NextReg: '0', ...r }));
      default:
        throw new Error(`unexpected action ${name}`);
    }
  }
}

let dir: string;
let ami: FakeAsterisk;
let inst: PluginInstance;
let api: ReturnType<typeof client>;
const published: BusMessage[] = [];
const invalid: string[] = [];

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'gw-peers-'));
  writeFileSync(path.join(dir, 'pjsip.conf'), '[t]\ntype = transport\n');
  ami = new FakeAsterisk();
  ami.endpoints.set('1001', { allow: '(ulaw|h264)', maxContacts: '1', qualify: '1' });
  ami.endpoints.set('prov', { allow: '(alaw)', maxContacts: '0', qualify: '0' });
  ami.contacts.set('1001', [{ uri: 'sip:1001@10.0.0.1:5060', status: 'Reachable', rtt: '22400' }]);
  ami.contacts.set('prov', [{ uri: 'sip:sip.provider.example', status: 'NonQualified', rtt: 'N/A', static: true }]);
  ami.registrations = [
    { ObjectName: 'prov-reg', ClientUri: 'sip:2345@sip_proxy', ServerUri: 'sip:sip_proxy', Expiration: '120', Status: 'Unregistered' },
  ];
  const config = { asterisk: { config_dir: dir }, data_dir: path.join(dir, 'data'), backups: { retention: 5 } } as GatewayConfig;
  ({ api, inst } = await pluginApp(pjsip, {
    ami,
    config,
    published,
    invalid,
    // an ordinary user: /peers and /registries need no role
    tokens: { tok: { userUuid: 'u1', roles: new Set(['user']) } },
  }));
  await inst.resync!();
});
after(async () => {
  await inst.close?.();
  rmSync(dir, { recursive: true, force: true });
});

const event = (fields: Record<string, string>) => inst.events![fields.Event!]!(msg(fields));
async function get(p: string, status = 200): Promise<any> {
  const a = await api.get(p);
  assert.equal(a.status, status, `${p}: ${a.text}`);
  return a.body.result;
}

test('GET /peers lists one PJSIP/<endpoint> per endpoint; the detail by name, PJSIP/name, ?peer=; 400 and 404', async () => {
  assert.deepEqual(await get('/v1/peers'), { list: [{ peer: 'PJSIP/1001' }, { peer: 'PJSIP/prov' }] });
  assert.deepEqual(await get('/peers'), await get('/v1/peers'), 'the unversioned path too');
  const p = await get('/v1/peers/1001');
  assert.equal(p.peer, 'PJSIP/1001');
  assert.equal(p.status, 'Registered');
  assert.equal(p.address, '10.0.0.1:5060');
  assert.equal(p.monitor_status, 'OK (22 ms)');
  assert.equal(p.dynamic, 'yes');
  assert.equal(p.video_support, 'yes');
  assert.equal(p.comedia, 'yes');
  assert.equal(p.force_port, 'yes');
  for (const form of ['/v1/peers/PJSIP/1001', '/v1/peers/PJSIP%2F1001', '/v1/peers/?peer=PJSIP%2F1001', '/v1/peers/?peer=1001']) {
    assert.deepEqual(await get(form), p, form);
  }
  const prov = await get('/v1/peers/PJSIP/prov');
  assert.equal(prov.status, 'Unregistered');
  assert.equal(prov.address, 'sip.provider.example:5060');
  assert.equal(prov.monitor_status, 'Unmonitored');
  assert.equal(prov.dynamic, 'no');

  assert.equal((await get('/v1/peers/SIP/1001', 404)).code, 'not_found');
  await get('/v1/peers/nobody', 404);
  await get('/v1/peers/?peer=nobody', 404);
  const none = await get('/v1/peers/', 400);
  assert.equal(none.field, 'peer');
  await get('/v1/peers/?peer=a%0D%0Ab', 400);
  api.setToken(undefined);
  assert.equal((await api.get('/v1/peers')).status, 401);
  api.setToken('tok');
});

test('ContactStatus changes the peer at once and publishes it; unregistering turns it Unregistered', async () => {
  const before = await get('/v1/peers/1001');
  published.length = 0;
  await sleep(5);
  event({
    Event: 'ContactStatus',
    URI: 'sip:1001@10.0.0.1:5060',
    ContactStatus: 'Unreachable',
    AOR: '1001',
    EndpointName: '1001',
    RoundtripUsec: '0',
  });
  const down = await get('/v1/peers/1001');
  assert.equal(down.monitor_status, 'UNREACHABLE');
  assert.equal(down.status, 'Registered');
  assert.notEqual(down.tm_update, before.tm_update);
  const ev = published.filter((m) => m.type === 'pjsip.peer.updated');
  assert.equal(ev.length, 1);
  assert.deepEqual(ev[0]!.data, down);
  // asking again changes nothing and publishes nothing
  assert.deepEqual(await get('/v1/peers/1001'), down);
  assert.equal(published.filter((m) => m.type === 'pjsip.peer.updated').length, 1);

  event({
    Event: 'ContactStatus',
    URI: 'sip:1001@10.0.0.1:5060',
    ContactStatus: 'Reachable',
    AOR: '1001',
    EndpointName: '1001',
    RoundtripUsec: '5600',
  });
  assert.equal((await get('/v1/peers/1001')).monitor_status, 'OK (6 ms)');

  event({
    Event: 'ContactStatus',
    URI: 'sip:1001@10.0.0.1:5060',
    ContactStatus: 'Removed',
    AOR: '1001',
    EndpointName: '1001',
    RoundtripUsec: '0',
  });
  const gone = await get('/v1/peers/1001');
  assert.equal(gone.status, 'Unregistered');
  assert.equal(gone.address, '');
  assert.equal(gone.monitor_status, 'UNKNOWN', 'qualified AOR without a contact');
  const last = published.filter((m) => m.type === 'pjsip.peer.updated').at(-1)!;
  assert.deepEqual(last.data, gone);
});

test('a registration found by a re-read (ContactStatus of a new contact) turns the peer Registered and is published', async () => {
  ami.contacts.set('1001', [{ uri: 'sip:1001@10.0.0.1:5062', status: 'Reachable', rtt: '3100' }]);
  published.length = 0;
  event({
    Event: 'ContactStatus',
    URI: 'sip:1001@10.0.0.1:5062',
    ContactStatus: 'Created',
    AOR: '1001',
    EndpointName: '1001',
    RoundtripUsec: '0',
  });
  await settle();
  const p = await get('/v1/peers/1001');
  assert.equal(p.status, 'Registered');
  assert.equal(p.monitor_status, 'OK (3 ms)');
  assert.deepEqual(published.filter((m) => m.type === 'pjsip.peer.updated').at(-1)?.data, p);
});

test("a detail asked for after the AOR's qualify_frequency re-reads the endpoint for a fresh round trip", async () => {
  ami.contacts.set('1001', [{ uri: 'sip:1001@10.0.0.1:5062', status: 'Reachable', rtt: '8800' }]);
  ami.calls = [];
  assert.equal((await get('/v1/peers/1001')).monitor_status, 'OK (3 ms)', 'read just now: no re-read');
  await settle();
  assert.deepEqual(ami.calls, []);
  await sleep(1100); // qualify_frequency is 1 s
  assert.equal((await get('/v1/peers/1001')).monitor_status, 'OK (3 ms)', 'answered at once from what is known');
  await get('/v1/peers/1001');
  await settle();
  assert.deepEqual(ami.calls, ['PJSIPShowEndpoint 1001'], 'one re-read for both asks');
  assert.equal((await get('/v1/peers/1001')).monitor_status, 'OK (9 ms)');
  // a peer without qualify is never re-read for it
  ami.calls = [];
  await get('/v1/peers/prov');
  await settle();
  assert.deepEqual(ami.calls, []);
});

test('GET /registries lists <user>@<host>:<port>; the detail by account, name, account without port; Registry events', async () => {
  assert.deepEqual(await get('/v1/registries'), { list: [{ account: '2345@sip_proxy:5060' }] });
  const r = await get('/v1/registries/2345@sip_proxy:5060');
  assert.deepEqual(
    { ...r, tm_update: '' },
    {
      account: '2345@sip_proxy:5060',
      state: 'Unregistered',
      username: '2345',
      domain: 'sip_proxy',
      domain_port: 5060,
      host: 'sip_proxy',
      port: 5060,
      refresh: 120,
      registration_time: 0,
      tm_update: '',
    },
  );
  for (const form of [
    '/v1/registries/prov-reg',
    '/v1/registries/2345@sip_proxy',
    '/v1/registries/?account=2345%40sip_proxy%3A5060',
    '/registries/?account=prov-reg',
  ])
    assert.deepEqual(await get(form), r, form);
  await get('/v1/registries/2345@other:5060', 404);
  assert.equal((await get('/v1/registries/', 400)).field, 'account');

  published.length = 0;
  const t0 = Math.floor(Date.now() / 1000);
  event({ Event: 'Registry', ChannelType: 'PJSIP', Username: 'sip:2345@sip_proxy', Domain: 'sip:sip_proxy', Status: 'Registered' });
  const reg = await get('/v1/registries/prov-reg');
  assert.equal(reg.state, 'Registered');
  assert.ok(reg.registration_time >= t0 && reg.registration_time <= t0 + 2, `registration_time ${reg.registration_time}`);
  assert.deepEqual(published.find((m) => m.type === 'pjsip.registry.updated')?.data, reg);
  // the re-read the event asks for keeps what the gateway saw
  ami.registrations[0]!.Status = 'Registered';
  await settle();
  assert.equal((await get('/v1/registries/prov-reg')).registration_time, reg.registration_time);

  event({ Event: 'Registry', ChannelType: 'PJSIP', Username: 'sip:2345@sip_proxy', Domain: 'sip:sip_proxy', Status: 'Rejected' });
  const rej = await get('/v1/registries/prov-reg');
  assert.equal(rej.state, 'Rejected');
  assert.equal(rej.registration_time, reg.registration_time, 'the last successful registration stays');
  await settle();
});

test('a reload that removes an endpoint removes its peer; a full re-read publishes only what changed', async () => {
  published.length = 0;
  await inst.resync!();
  await sleep(5);
  assert.deepEqual(
    published.filter((m) => m.type === 'pjsip.peer.updated'),
    [],
    'nothing changed',
  );
  ami.endpoints.delete('prov');
  ami.contacts.set('1001', []);
  await inst.resync!();
  await sleep(5);
  assert.deepEqual(await get('/v1/peers'), { list: [{ peer: 'PJSIP/1001' }] });
  await get('/v1/peers/prov', 404);
  const ev = published.filter((m) => m.type === 'pjsip.peer.updated');
  assert.deepEqual(
    ev.map((m) => (m.data as { peer: string; status: string }).status),
    ['Unregistered'],
  );
});

test('every answer above was checked against the OpenAPI document, every event against its schema', async () => {
  const checker = await api.contract();
  assert.ok(checker && checker.checked > 30, `answers checked: ${checker?.checked}`);
  assert.deepEqual(invalid, []);
  const doc = (await api.get('/v1/openapi.json')).body as any;
  for (const p of ['/v1/peers', '/v1/peers/', '/v1/peers/{peer}', '/v1/registries', '/v1/registries/', '/v1/registries/{account}']) {
    assert.equal(doc.paths[p]?.get?.['x-live'], true, p);
    assert.equal(doc.paths[p].get['x-required-role'], 'any', p);
  }
  const s = doc.components.schemas;
  for (const k of ['domain_port', 'port', 'refresh', 'registration_time']) assert.equal(s.Registry.properties[k].type, 'integer', k);
  for (const k of Object.keys(s.Peer.properties)) assert.ok(s.Peer.properties[k].description, `Peer.${k} says where it comes from`);
});
