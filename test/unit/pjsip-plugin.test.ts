// The pjsip plugin wired as the gateway wires it (plugins/pjsip/index.ts), with a fake AMI: the full read and its
// empty-list errors, the per-endpoint detail reads a few at a time, the routes (list, detail, 400, 404, the /auth
// alias, config routes still there), and the events that re-read (Reload of res_pjsip, ContactStatus of a new
// contact, PeerStatus, DeviceStateChange, Registry). Every answer is checked against the OpenAPI document the routes
// generate, and every published event against its declared schema.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AmiError } from '../../core/ami/errors.ts';
import type { AmiMessage } from '../../core/ami/message.ts';
import type { AmiHeaders, AmiListResult, AmiPort } from '../../core/ami/port.ts';
import type { BusMessage } from '../../core/bus/bus.ts';
import type { GatewayConfig } from '../../core/config.ts';
import type { PluginInstance } from '../../core/plugins/contract.ts';
import pjsip from '../../plugins/pjsip/index.ts';
import { DEBOUNCE_MS, DETAIL_CONCURRENCY, mapLimit } from '../../plugins/pjsip/service.ts';
import { pluginApp } from '../support/app.ts';
import type { client } from '../support/http.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const settle = () => sleep(DEBOUNCE_MS + 150);
const msg = (fields: Record<string, string>): AmiMessage => ({ fields });

/** A small Asterisk: endpoints with one AOR and one auth each, contacts per AOR, one outbound registration. */
class FakeAsterisk implements AmiPort {
  connected = true;
  calls: string[] = [];
  /** PJSIPShowEndpoint reads in flight now, and at most */
  inFlight = 0;
  maxInFlight = 0;
  /** action (or "PJSIPShowEndpoint <name>") -> Response: Error message */
  errors: Record<string, string> = {};
  endpoints: string[] = [];
  /** aor -> contact URIs (registered) */
  contacts = new Map<string, string[]>();
  registration = true;

  async action(): Promise<AmiMessage> {
    throw new Error('not used');
  }
  async command(): Promise<string[]> {
    return [];
  }
  async list(name: string, headers: AmiHeaders = {}): Promise<AmiListResult> {
    const key = headers.Endpoint ? `${name} ${headers.Endpoint}` : name;
    this.calls.push(key);
    const detail = name === 'PJSIPShowEndpoint';
    if (detail) this.maxInFlight = Math.max(this.maxInFlight, ++this.inFlight);
    await sleep(3);
    if (detail) this.inFlight--;
    const err = this.errors[key] ?? this.errors[name];
    if (err) throw new AmiError(err, msg({ Response: 'Error', Message: err }));
    const events = this.answer(name, String(headers.Endpoint ?? ''));
    if (events === null) throw new AmiError(`Unable to retrieve endpoint ${headers.Endpoint}`, msg({ Response: 'Error' }));
    return { response: msg({ Response: 'Success' }), events, complete: msg({ Event: `${name}Complete` }), seq: 0 };
  }

  private contactDetails(aor: string): AmiMessage[] {
    return (this.contacts.get(aor) ?? []).map((uri) =>
      msg({
        Event: 'ContactStatusDetail',
        AOR: aor,
        URI: uri,
        UserAgent: 'ua',
        RegExpire: '2000000000',
        ViaAddress: '127.0.0.1:5',
        CallID: 'c',
        Status: 'NonQualified',
        RoundtripUsec: 'N/A',
        EndpointName: aor,
        ID: `${aor};@${uri.length}`,
        AuthenticateQualify: '0',
        OutboundProxy: '',
        Path: '',
        QualifyFrequency: '0',
        QualifyTimeout: '3.000',
      }),
    );
  }

  private aor(ev: string, name: string): AmiMessage {
    const uris = this.contacts.get(name) ?? [];
    return msg({
      Event: ev,
      ObjectType: 'aor',
      ObjectName: name,
      MaxContacts: '1',
      QualifyTimeout: '3.000000',
      Contacts: uris.map((u) => `${name}/${u}`).join(','),
    });
  }

  private answer(name: string, endpoint: string): AmiMessage[] | null {
    switch (name) {
      case 'PJSIPShowEndpoints':
        return this.endpoints.map((n) => msg({ Event: 'EndpointList', ObjectType: 'endpoint', ObjectName: n }));
      case 'PJSIPShowEndpoint':
        if (!this.endpoints.includes(endpoint)) return null;
        return [
          msg({
            Event: 'EndpointDetail',
            ObjectType: 'endpoint',
            ObjectName: endpoint,
            Aors: endpoint,
            Auth: endpoint,
            TosAudio: '0',
            DeviceState: 'Unavailable',
            ActiveChannels: '0',
          }),
          msg({
            Event: 'AuthDetail',
            ObjectType: 'auth',
            ObjectName: endpoint,
            Username: endpoint,
            Password: 'pw-secret',
            EndpointName: endpoint,
          }),
          { ...this.aor('AorDetail', endpoint), fields: { ...this.aor('AorDetail', endpoint).fields, EndpointName: endpoint } },
          ...this.contactDetails(endpoint),
        ];
      case 'PJSIPShowAors':
        return this.endpoints.map((n) => this.aor('AorList', n));
      case 'PJSIPShowAuths':
        return this.endpoints.map((n) =>
          msg({ Event: 'AuthList', ObjectType: 'auth', ObjectName: n, Username: n, Password: 'pw-secret', NonceLifetime: '32' }),
        );
      case 'PJSIPShowContacts':
        return [];
      case 'PJSIPShowRegistrationsOutbound':
        return this.registration
          ? [
              msg({
                Event: 'OutboundRegistrationDetail',
                ObjectType: 'registration',
                ObjectName: 'reg1',
                ClientUri: 'sip:u@h',
                ServerUri: 'sip:h',
                RetryInterval: '60',
                Status: 'Unregistered',
                NextReg: '0',
              }),
            ]
          : [];
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
/** Events whose payload did not match their declared schema. */
const invalid: string[] = [];

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'gw-pjsip-'));
  writeFileSync(path.join(dir, 'pjsip.conf'), '[t]\ntype = transport\n');
  ami = new FakeAsterisk();
  const config = { asterisk: { config_dir: dir }, data_dir: path.join(dir, 'data'), backups: { retention: 5 } } as GatewayConfig;
  ({ api, inst } = await pluginApp(pjsip, { ami, config, published, invalid }));
});
after(async () => {
  await inst.close?.();
  rmSync(dir, { recursive: true, force: true });
});

const event = (fields: Record<string, string>) => inst.events![fields.Event!]!(msg(fields));
const list = async (what: string) => {
  const a = await api.get(`/v1/admin/pjsip/${what}`);
  assert.equal(a.status, 200, a.text);
  return a.body.result.list as any[];
};

test('mapLimit keeps order and the limit', async () => {
  let inFlight = 0,
    max = 0;
  const out = await mapLimit([5, 1, 4, 2, 3], 2, async (n) => {
    max = Math.max(max, ++inFlight);
    await sleep(n);
    inFlight--;
    return n * 10;
  });
  assert.deepEqual(out, [50, 10, 40, 20, 30]);
  assert.equal(max, 2);
});

test('an empty Asterisk: the "No ... found" errors and a missing outbound-registration module are empty lists', async () => {
  Object.assign(ami.errors, {
    PJSIPShowEndpoints: 'No endpoints found',
    PJSIPShowAors: 'No AORs found',
    PJSIPShowAuths: 'No Auths found',
    PJSIPShowContacts: 'No Contacts found',
    PJSIPShowRegistrationsOutbound:
      'Invalid/unknown command: PJSIPShowRegistrationsOutbound. Use Action: ListCommands to show available commands.',
  });
  await inst.resync!();
  ami.errors = {};
  for (const what of ['endpoints', 'aors', 'auths', 'auth', 'contacts', 'registration_outbounds'])
    assert.deepEqual(await list(what), [], what);
});

test('a real failure fails the resync (the plugin then answers 503 with the reason)', async () => {
  ami.errors = { PJSIPShowEndpoints: 'Could not get endpoints' };
  await assert.rejects(inst.resync!(), /Could not get endpoints/);
  ami.errors = {};
});

test('full read: one PJSIPShowEndpoint per endpoint, a few at a time; a vanished endpoint is left out', async () => {
  ami.endpoints = Array.from({ length: 12 }, (_, i) => `ep${String(i).padStart(2, '0')}`);
  ami.contacts.set('ep03', ['sip:ep03@127.0.0.1:5']);
  ami.errors = { 'PJSIPShowEndpoint ep05': 'Unable to retrieve endpoint ep05' };
  ami.calls = [];
  ami.maxInFlight = 0;
  await inst.resync!();
  ami.errors = {};
  assert.equal(ami.calls.filter((c) => c.startsWith('PJSIPShowEndpoint ')).length, 12);
  assert.equal(ami.maxInFlight, DETAIL_CONCURRENCY, 'detail reads in flight at once');
  const eps = await list('endpoints');
  assert.equal(eps.length, 11);
  assert.ok(!eps.some((e) => e.object_name === 'ep05'));
  assert.equal(eps[0].tos_audio, 0);
  assert.equal((await list('contacts')).length, 1);
  const auths = await list('auths');
  assert.ok(
    auths.every((a) => a.password === ''),
    'no password',
  );
  assert.ok(!(await api.get('/v1/admin/pjsip/auths')).text.includes('pw-secret'));
  assert.equal((await api.get('/v1/admin/pjsip/aors/ep03')).body.result.total_contacts, 1);
  assert.equal((await api.get('/v1/admin/pjsip/aors/ep03')).body.result.endpoint_name, 'ep03');
  assert.deepEqual((await api.get('/v1/admin/pjsip/auth/ep03')).body.result, (await api.get('/v1/admin/pjsip/auths/ep03')).body.result);
  const c = (await list('contacts'))[0];
  const byId = await api.get(`/v1/admin/pjsip/contacts/${encodeURIComponent(c.id)}`);
  assert.equal(byId.status, 200, byId.text);
  assert.equal(byId.body.result.uri, 'sip:ep03@127.0.0.1:5');
  assert.equal((await api.get('/v1/admin/pjsip/registration_outbounds/reg1')).body.result.retry_interval, 60);
});

test('detail routes: 400 for path characters or line breaks, 404 for unknown names; config routes still served', async () => {
  for (const what of ['endpoints', 'aors', 'auths', 'contacts', 'registration_outbounds']) {
    assert.equal((await api.get(`/v1/admin/pjsip/${what}/a%2Fb`)).status, 400);
    assert.equal((await api.get(`/v1/admin/pjsip/${what}/a%0D%0Ab`)).status, 400);
    assert.equal((await api.get(`/v1/admin/pjsip/${what}/x..y`)).status, 400);
    const nf = await api.get(`/v1/admin/pjsip/${what}/nope`);
    assert.equal(nf.status, 404);
    assert.match(nf.body.result.message, /nope/);
  }
  const conf = await api.get('/v1/admin/pjsip/configurations/pjsip.conf');
  assert.equal(conf.status, 200, conf.text);
  assert.match(conf.body.result.data, /type = transport/);
});

test("Reload of res_pjsip re-reads everything (debounced); other modules' reloads do not", async () => {
  ami.calls = [];
  event({ Event: 'Reload', Module: 'app_queue.so', Status: '0' });
  await settle();
  assert.deepEqual(ami.calls, []);
  ami.endpoints.push('ep99');
  event({ Event: 'Reload', Module: 'res_pjsip.so', Status: '0' });
  event({ Event: 'Reload', Module: 'res_pjsip_outbound_registration.so', Status: '0' });
  await settle();
  assert.equal(ami.calls.filter((c) => c === 'PJSIPShowEndpoints').length, 1, 'two Reload events, one read');
  assert.ok((await list('endpoints')).some((e) => e.object_name === 'ep99'));
  ami.calls = [];
  event({ Event: 'Reload', Module: 'All', Status: '0' });
  await settle();
  assert.equal(ami.calls.filter((c) => c === 'PJSIPShowEndpoints').length, 1, 'a reload of everything re-reads too');
});

test('ContactStatus of a new contact re-reads its endpoint; the contact appears and is published; Removed drops it', async () => {
  published.length = 0;
  ami.calls = [];
  ami.contacts.set('ep01', ['sip:ep01@127.0.0.1:7']);
  event({
    Event: 'ContactStatus',
    URI: 'sip:ep01@127.0.0.1:7',
    ContactStatus: 'NonQualified',
    AOR: 'ep01',
    EndpointName: 'ep01',
    RoundtripUsec: '0',
  });
  await settle();
  assert.deepEqual(ami.calls, ['PJSIPShowEndpoint ep01']);
  const c = (await list('contacts')).find((x) => x.aor === 'ep01');
  assert.equal(c.uri, 'sip:ep01@127.0.0.1:7');
  assert.ok(published.some((p) => p.type === 'pjsip.contact.updated' && (p.data as any).id === c.id));
  assert.equal((await api.get('/v1/admin/pjsip/aors/ep01')).body.result.contacts_registered, 1);

  event({
    Event: 'ContactStatus',
    URI: 'sip:ep01@127.0.0.1:7',
    ContactStatus: 'Reachable',
    AOR: 'ep01',
    EndpointName: 'ep01',
    RoundtripUsec: '812',
  });
  const now = (await list('contacts')).find((x) => x.aor === 'ep01');
  assert.equal(now.status, 'Reachable');
  assert.equal(now.round_trip_usec, '812');
  event({
    Event: 'ContactStatus',
    URI: 'sip:ep01@127.0.0.1:7',
    ContactStatus: 'Removed',
    AOR: 'ep01',
    EndpointName: 'ep01',
    RoundtripUsec: '0',
  });
  assert.equal(
    (await list('contacts')).some((x) => x.aor === 'ep01'),
    false,
  );
  assert.ok(published.some((p) => p.type === 'pjsip.contact.removed'));
  assert.equal((await api.get('/v1/admin/pjsip/aors/ep01')).body.result.total_contacts, 0);
  ami.contacts.delete('ep01');
});

test('DeviceStateChange shows at once and re-reads the endpoint; PeerStatus re-reads it; Registry sets the status', async () => {
  ami.calls = [];
  event({ Event: 'DeviceStateChange', Device: 'PJSIP/ep02', State: 'INUSE' });
  assert.equal((await api.get('/v1/admin/pjsip/endpoints/ep02')).body.result.device_state, 'In use');
  event({ Event: 'PeerStatus', ChannelType: 'PJSIP', Peer: 'PJSIP/ep04', PeerStatus: 'Reachable' });
  event({ Event: 'PeerStatus', ChannelType: 'SIP', Peer: 'SIP/ep06', PeerStatus: 'Reachable' });
  await settle();
  assert.deepEqual(ami.calls.sort(), ['PJSIPShowEndpoint ep02', 'PJSIPShowEndpoint ep04']);
  // the re-read has Asterisk's word for it now
  assert.equal((await api.get('/v1/admin/pjsip/endpoints/ep02')).body.result.device_state, 'Unavailable');

  ami.calls = [];
  event({ Event: 'Registry', ChannelType: 'PJSIP', Username: 'sip:u@h', Domain: 'sip:h', Status: 'Registered' });
  assert.equal((await api.get('/v1/admin/pjsip/registration_outbounds/reg1')).body.result.status, 'Registered');
  await settle();
  assert.deepEqual(ami.calls, ['PJSIPShowRegistrationsOutbound']);
});

test('reset forgets everything and cancels pending re-reads; close cancels them too', async () => {
  ami.calls = [];
  event({ Event: 'PeerStatus', ChannelType: 'PJSIP', Peer: 'PJSIP/ep04', PeerStatus: 'Reachable' });
  event({ Event: 'Registry', ChannelType: 'PJSIP', Username: 'sip:u@h', Domain: 'sip:h', Status: 'Registered' });
  inst.close!();
  await settle();
  assert.deepEqual(ami.calls, [], 'close cancelled the endpoint and registration re-reads');

  event({ Event: 'PeerStatus', ChannelType: 'PJSIP', Peer: 'PJSIP/ep04', PeerStatus: 'Reachable' });
  event({ Event: 'Reload', Module: 'res_pjsip.so', Status: '0' });
  inst.reset!();
  await settle();
  assert.deepEqual(ami.calls, []);
  assert.deepEqual(await list('endpoints'), []);
  // the endpoint that waited for the cancelled re-read is not read with the next one
  event({ Event: 'PeerStatus', ChannelType: 'PJSIP', Peer: 'PJSIP/ep02', PeerStatus: 'Reachable' });
  await settle();
  assert.deepEqual(ami.calls, ['PJSIPShowEndpoint ep02']);
});

test('every answer above was checked against the OpenAPI document, every event against its schema', async () => {
  const checker = await api.contract();
  assert.ok(checker, 'the app serves its OpenAPI document');
  assert.ok(checker.checked > 20, `answers checked: ${checker.checked}`);
  assert.deepEqual(invalid, []);
  const types = new Set(published.map((p) => p.type));
  for (const t of ['pjsip.contact.updated', 'pjsip.contact.removed', 'pjsip.endpoint.updated', 'pjsip.registration_outbound.updated']) {
    assert.ok(types.has(t), `${t} was published (and checked)`);
  }
  const doc = (await api.get('/v1/openapi.json')).body as any;
  assert.equal(doc.paths['/v1/admin/pjsip/auths/{name}'].get['x-live'], true);
  for (const k of ['password', 'md5_cred'])
    assert.equal(doc.components.schemas.PjsipAuth.properties[k].const, '', `${k} is documented as never returned`);
});
