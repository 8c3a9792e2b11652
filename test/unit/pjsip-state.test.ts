// The pjsip plugin's rows and state (plugins/pjsip/rows.ts, state.ts) on AMI messages as Asterisk 22 sends them: the generic
// CamelCase -> snake_case mapping with the spec's renames and number fields, secrets blanked, contacts merged from
// three sources (PJSIPShowContacts, PJSIPShowEndpoint, static contacts of AORs no endpoint uses), AOR counts and
// endpoint links derived, and the events ContactStatus, DeviceStateChange and Registry.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { AmiMessage } from '../../core/ami/message.ts';
import { v } from '../../core/contract/schema.ts';
import {
  aorOfContactId,
  authRow,
  endpointRow,
  NUMBERS,
  renderRegistration,
  registrationFrom,
  snakeKey,
  toNumber,
} from '../../plugins/pjsip/rows.ts';
import { AorSchema, AuthSchema, ContactSchema, EndpointSchema, RegistrationOutboundSchema } from '../../plugins/pjsip/schemas.ts';
import { PjsipState, type Snapshot } from '../../plugins/pjsip/state.ts';

const msg = (fields: Record<string, string>, multi?: Record<string, string[]>): AmiMessage => ({ fields, ...(multi ? { multi } : {}) });
const md5 = (s: string) => createHash('md5').update(s).digest('hex');

/** EndpointDetail as Asterisk 22 dumps it (a subset; hash order, not alphabetical). */
function endpointDetail(name: string, extra: Record<string, string> = {}): AmiMessage {
  return msg({
    Event: 'EndpointDetail',
    ActionID: 'a1',
    ObjectType: 'endpoint',
    ObjectName: name,
    RpidImmediate: 'false',
    DeviceStateBusyAt: '0',
    T38UdptlMaxdatagram: '0',
    Context: 'gw-test-wait',
    Aors: name,
    Auth: name,
    OutboundAuth: '',
    Transport: 'gw-udp',
    TosAudio: '0',
    CosVideo: '0',
    MaxAudioStreams: '1',
    TimersSessExpires: '1800',
    TimersMinSe: '90',
    SubMinExpiry: '0',
    Accountcode: '',
    Callerid: '<unknown>',
    CalleridPrivacy: 'allowed_not_screened',
    CalleridTag: '',
    G726NonStandard: 'false',
    '100rel': 'yes',
    FaxDetectTimeout: '0',
    Ignore183WithoutSdp: 'false',
    Allow: '(ulaw)',
    RtpIpv6: 'false',
    T38UdptlIpv6: 'false',
    SetVar: 'A=1',
    DeviceState: 'Unavailable',
    ActiveChannels: '0',
    ...extra,
  });
}

function aorFields(name: string, contacts = '', extra: Record<string, string> = {}): Record<string, string> {
  return {
    ObjectType: 'aor',
    ObjectName: name,
    MinimumExpiration: '60',
    DefaultExpiration: '3600',
    QualifyTimeout: '3.000000',
    Qualify2xxOnly: 'false',
    Mailboxes: '',
    SupportPath: 'false',
    RemoveUnavailable: 'false',
    VoicemailExtension: '',
    MaxContacts: '1',
    AuthenticateQualify: 'false',
    Contacts: contacts,
    MaximumExpiration: '7200',
    QualifyFrequency: '0',
    RemoveExisting: 'false',
    OutboundProxy: '',
    ...extra,
  };
}

function authFields(name: string): Record<string, string> {
  return {
    ObjectType: 'auth',
    ObjectName: name,
    OauthSecret: 'oauth-s',
    PasswordDigest: 'digest-s',
    SupportedAlgorithmsUas: 'MD5',
    RefreshToken: 'refresh-s',
    Username: name,
    Md5Cred: 'md5-s',
    Realm: '',
    AuthType: 'userpass',
    Password: `${name}-secret`,
    SupportedAlgorithmsUac: 'MD5',
    NonceLifetime: '32',
    OauthClientid: '',
  };
}

function contactStatusDetail(aor: string, uri: string, id: string, extra: Record<string, string> = {}): AmiMessage {
  return msg({
    Event: 'ContactStatusDetail',
    ActionID: 'a1',
    AOR: aor,
    URI: uri,
    UserAgent: '',
    RegExpire: '0',
    Status: 'NonQualified',
    RoundtripUsec: 'N/A',
    EndpointName: aor,
    ID: id,
    AuthenticateQualify: '0',
    OutboundProxy: '',
    Path: '',
    QualifyFrequency: '0',
    QualifyTimeout: '3.000',
    Qualify2xxOnly: '0',
    ...extra,
  });
}

/** A registered contact as PJSIPShowContacts lists it. */
function contactList(aor: string, port: number, expires: number): AmiMessage {
  const uri = `sip:${aor}@127.0.0.1:${port}`;
  return msg({
    Event: 'ContactList',
    ActionID: 'a2',
    ObjectType: 'contact',
    ObjectName: `${aor};@${md5(uri)}`,
    ViaAddr: '127.0.0.1',
    QualifyTimeout: '3.000000',
    Qualify2xxOnly: 'false',
    CallId: 'call-1@x',
    RegServer: '',
    PruneOnBoot: 'no',
    Path: '',
    Endpoint: aor,
    ViaPort: String(port),
    AuthenticateQualify: 'no',
    Uri: uri,
    QualifyFrequency: '0',
    UserAgent: 'ua/1',
    ExpirationTime: String(expires),
    OutboundProxy: '',
    Status: 'NonQualified',
    RoundtripUsec: 'N/A',
  });
}

function registrationDetail(status: string, nextReg = '0'): AmiMessage {
  return msg({
    Event: 'OutboundRegistrationDetail',
    ActionID: 'a3',
    ObjectType: 'registration',
    ObjectName: 'gw-reg',
    MaxRetries: '10',
    ClientUri: 'sip:reguser@127.0.0.1:5998',
    ServerUri: 'sip:127.0.0.1:5998',
    RetryInterval: '60',
    Expiration: '3600',
    Transport: 'gw-udp',
    OutboundAuth: 'gw-reg-auth',
    MaxRandomInitialDelay: '10',
    ForbiddenRetryInterval: '0',
    FatalRetryInterval: '0',
    Line: 'false',
    Status: status,
    NextReg: nextReg,
  });
}

/**
 * Asterisk with endpoints gw-ep1 (one registered contact) and gw-ep2 (a static contact), an AOR gw-lone that no
 * endpoint uses (a static contact), auths gw-ep1, gw-ep2, gw-reg-auth, and an outbound registration gw-reg.
 */
function snapshot(expires = 2_000_000_000): Snapshot {
  const dyn = contactList('gw-ep1', 5061, expires);
  const dynUri = dyn.fields.Uri!;
  const staticUri = 'sip:gw@127.0.0.1:5999';
  const loneUri = 'sip:lone@127.0.0.1:5997';
  return {
    endpoints: ['gw-ep1', 'gw-ep2'].map((n) => msg({ Event: 'EndpointList', ObjectType: 'endpoint', ObjectName: n })),
    details: new Map([
      [
        'gw-ep1',
        [
          endpointDetail('gw-ep1', { DeviceState: 'Not in use' }),
          msg({ Event: 'AuthDetail', ...authFields('gw-ep1'), EndpointName: 'gw-ep1' }),
          msg({
            Event: 'AorDetail',
            ...aorFields('gw-ep1', `gw-ep1/${dynUri}`),
            TotalContacts: '1',
            ContactsRegistered: '1',
            EndpointName: 'gw-ep1',
          }),
          contactStatusDetail('gw-ep1', dynUri, dyn.fields.ObjectName!, {
            UserAgent: 'ua/1',
            RegExpire: String(expires),
            ViaAddress: '127.0.0.1:5061',
            CallID: 'call-1@x',
          }),
        ],
      ],
      [
        'gw-ep2',
        [
          endpointDetail('gw-ep2', { OutboundAuth: 'gw-reg-auth', DeviceState: 'Not in use' }),
          msg({
            Event: 'AorDetail',
            ...aorFields('gw-ep2', `gw-ep2/${staticUri}`, { MaxContacts: '0' }),
            TotalContacts: '1',
            ContactsRegistered: '0',
            EndpointName: 'gw-ep2',
          }),
          contactStatusDetail('gw-ep2', staticUri, `gw-ep2@@${md5(staticUri)}`),
        ],
      ],
    ]),
    aors: [
      msg({ Event: 'AorList', ...aorFields('gw-ep1', `gw-ep1/${dynUri}`) }),
      msg({ Event: 'AorList', ...aorFields('gw-ep2', `gw-ep2/${staticUri}`, { MaxContacts: '0' }) }),
      msg({ Event: 'AorList', ...aorFields('gw-lone', `gw-lone/${loneUri}`, { QualifyFrequency: '30' }) }),
    ],
    auths: ['gw-ep1', 'gw-ep2', 'gw-reg-auth'].map((n) => msg({ Event: 'AuthList', ...authFields(n) })),
    contacts: [dyn],
    registrations: [registrationDetail('Unregistered'), msg({ Event: 'AuthDetail', ...authFields('gw-reg-auth') })],
  };
}

test("snakeKey: CamelCase back to snake_case, with the spec's names where they differ from Asterisk's", () => {
  const cases: Record<string, string> = {
    MaxContacts: 'max_contacts',
    ObjectName: 'object_name',
    T38UdptlMaxdatagram: 't38_udptl_maxdatagram',
    RtpIpv6: 'rtp_ipv6',
    Md5Cred: 'md5_cred',
    DtlsCaFile: 'dtls_ca_file',
    Webrtc: 'webrtc',
    Accountcode: 'account_code',
    Callerid: 'caller_id',
    CalleridPrivacy: 'caller_id_privacy',
    '100rel': 'rel_100',
    G726NonStandard: 'g_726_non_standard',
    FaxDetectTimeout: 'fax_detect_time',
    Ignore183WithoutSdp: 'ignore_183_without_sdp',
    Qualify2xxOnly: 'qualify_2xx_only',
    DeviceState: 'device_state',
    ActiveChannels: 'active_channels',
  };
  for (const [k, v] of Object.entries(cases)) assert.equal(snakeKey(k), v, k);
});

test("toNumber: numbers from Asterisk's text; an empty value is 0, a non-number stays text", () => {
  assert.equal(toNumber('3.000000'), 3);
  assert.equal(toNumber('1800'), 1800);
  assert.equal(toNumber(''), 0);
  assert.equal(toNumber('ef'), 'ef');
});

test('endpoint rows: every dumped option, spec number fields as numbers, the rest strings, keys sorted', () => {
  const row = endpointRow(msg(endpointDetail('e1').fields, { SetVar: ['A=1', 'B=2'] }));
  assert.equal(row.object_name, 'e1');
  assert.equal(row.object_type, 'endpoint');
  for (const k of [
    'device_state_busy_at',
    't38_udptl_maxdatagram',
    'tos_audio',
    'cos_video',
    'max_audio_streams',
    'timers_sess_expires',
    'fax_detect_time',
  ]) {
    assert.equal(typeof row[k], 'number', k);
  }
  assert.equal(row.timers_sess_expires, 1800);
  // the spec shows these as strings
  assert.equal(row.timers_min_se, '90');
  assert.equal(row.sub_min_expiry, '0');
  assert.equal(row.active_channels, '0');
  assert.equal(row.rel_100, 'yes');
  assert.equal(row.caller_id, '<unknown>');
  assert.equal(row.account_code, '');
  assert.equal(row.g_726_non_standard, 'false');
  assert.equal(row.disallow, '', 'the spec lists disallow; Asterisk folds it into allow');
  assert.equal(row.set_var, 'A=1,B=2', 'a repeated key is joined');
  assert.equal('event' in row || 'action_id' in row, false);
  assert.deepEqual(Object.keys(row), [...Object.keys(row)].sort());
  assert.equal(typeof row.tm_update, 'string');
});

test('the number fields are the ones the schemas type as numbers', () => {
  assert.ok(NUMBERS.endpoint.has('timers_sess_expires') && NUMBERS.endpoint.has('cos_audio'));
  assert.ok(!NUMBERS.endpoint.has('timers_min_se'), 'a string in the spec');
  assert.deepEqual([...NUMBERS.auth], ['nonce_lifetime']);
  assert.ok(NUMBERS.aor.has('qualify_timeout') && NUMBERS.aor.has('total_contacts'));
  assert.ok(NUMBERS.registration.has('next_reg') && NUMBERS.registration.has('retry_interval'));
});

test('auth rows never carry a secret; the schema answers them as "" only', () => {
  const row = authRow(msg({ Event: 'AuthList', ...authFields('a1') }));
  for (const k of ['password', 'md5_cred', 'password_digest', 'oauth_secret', 'refresh_token']) assert.equal(row[k], '', k);
  assert.equal(row.username, 'a1');
  assert.equal(row.nonce_lifetime, 32);
  const values = Object.values(row).map(String);
  for (const secret of ['a1-secret', 'md5-s', 'digest-s', 'oauth-s', 'refresh-s']) assert.ok(!values.includes(secret), secret);
  assert.ok(v.safeParse(AuthSchema, row).success);
  assert.equal(v.safeParse(AuthSchema, { ...row, password: 'a1-secret' }).success, false, 'a password in an answer breaks the contract');
});

test('full load: tables, links, contact counts, and contacts from all three sources', () => {
  const s = new PjsipState();
  s.load(snapshot());
  assert.deepEqual(
    [...s.endpoints.values()].map((e) => e.object_name),
    ['gw-ep1', 'gw-ep2'],
  );
  assert.deepEqual(
    [...s.aors.values()].map((e) => e.object_name),
    ['gw-ep1', 'gw-ep2', 'gw-lone'],
  );
  assert.deepEqual(
    [...s.auths.values()].map((e) => e.object_name),
    ['gw-ep1', 'gw-ep2', 'gw-reg-auth'],
  );

  const aor1 = s.aors.get('gw-ep1')!;
  assert.equal(aor1.endpoint_name, 'gw-ep1');
  assert.equal(aor1.total_contacts, 1);
  assert.equal(aor1.contacts_registered, 1);
  assert.equal(aor1.contacts, 'gw-ep1/sip:gw-ep1@127.0.0.1:5061');
  assert.equal(aor1.qualify_timeout, 3);
  assert.equal(aor1.max_contacts, 1);
  const aor2 = s.aors.get('gw-ep2')!;
  assert.equal(aor2.total_contacts, 1);
  assert.equal(aor2.contacts_registered, 0, 'a static contact is not a registration');
  assert.equal(s.aors.get('gw-lone')!.endpoint_name, '');
  assert.equal(s.auths.get('gw-ep1')!.endpoint_name, 'gw-ep1');
  assert.equal(s.auths.get('gw-reg-auth')!.endpoint_name, 'gw-ep2', 'an outbound auth belongs to the endpoint that uses it');

  const ids = [...s.contacts.values()].map((c) => c.id).sort();
  const dynId = `gw-ep1;@${md5('sip:gw-ep1@127.0.0.1:5061')}`;
  assert.deepEqual(
    ids,
    [
      `gw-ep1;@${md5('sip:gw-ep1@127.0.0.1:5061')}`,
      `gw-ep2@@${md5('sip:gw@127.0.0.1:5999')}`,
      `gw-lone@@${md5('sip:lone@127.0.0.1:5997')}`,
    ].sort(),
  );
  const dyn = s.contacts.get(dynId)!;
  assert.equal(dyn.via_address, '127.0.0.1:5061');
  assert.equal(dyn.call_id, 'call-1@x');
  assert.equal(dyn.reg_expire, 2_000_000_000);
  assert.equal(dyn.qualify_timout, 3);
  assert.equal(dyn.authentication_qualify, 0);
  const lone = s.contacts.get(`gw-lone@@${md5('sip:lone@127.0.0.1:5997')}`)!;
  assert.equal(lone.status, 'Unknown', 'qualified, but no ContactStatus yet');
  assert.equal(lone.qualify_frequency, 30);
  assert.equal(lone.endpoint_name, '');
  assert.equal(s.contacts.get(`gw-ep2@@${md5('sip:gw@127.0.0.1:5999')}`)!.status, 'NonQualified');

  const reg = renderRegistration(s.registrations.get('gw-reg')!);
  assert.equal(reg.status, 'Unregistered');
  assert.equal(reg.retry_interval, 60);
  assert.equal(reg.max_retries, 10);
  assert.equal(reg.next_reg, 0);
  assert.equal(s.registrations.size, 1, 'the AuthDetail after a registration is not a registration');

  // every row is what the routes declare
  const conforms = (schema: v.GenericSchema, rows: Iterable<unknown>, what: string) => {
    for (const row of rows) {
      const r = v.safeParse(schema, row);
      assert.ok(r.success, `${what}: ${r.issues?.[0]?.path?.map((p) => (p as { key: string }).key).join('.')}: ${r.issues?.[0]?.message}`);
    }
  };
  conforms(EndpointSchema, s.endpoints.values(), 'endpoint');
  conforms(AorSchema, s.aors.values(), 'aor');
  conforms(AuthSchema, s.auths.values(), 'auth');
  conforms(ContactSchema, s.contacts.values(), 'contact');
  conforms(
    RegistrationOutboundSchema,
    [...s.registrations.values()].map((r) => renderRegistration(r)),
    'registration',
  );
});

test('a registered contact that no endpoint read reports still comes from PJSIPShowContacts', () => {
  const snap = snapshot();
  snap.details.delete('gw-ep1');
  const s = new PjsipState();
  s.load(snap);
  assert.equal(s.endpoints.has('gw-ep1'), false, 'an endpoint whose detail read found nothing is left out');
  const c = [...s.contacts.values()].find((x) => x.aor === 'gw-ep1')!;
  assert.equal(c.uri, 'sip:gw-ep1@127.0.0.1:5061');
  assert.equal(c.user_agent, 'ua/1');
  assert.equal(c.endpoint_name, 'gw-ep1');
  assert.equal(s.aors.get('gw-ep1')!.endpoint_name, '', 'no endpoint names it any more');
});

test('ContactStatus: a known contact changes, Removed drops it (the AOR recounts), an unknown one asks for a read', () => {
  const s = new PjsipState();
  s.load(snapshot());
  const uri = 'sip:gw-ep1@127.0.0.1:5061';
  const ev = (status: string, rtt = '0', u = uri) =>
    msg({ Event: 'ContactStatus', URI: u, ContactStatus: status, AOR: 'gw-ep1', EndpointName: 'gw-ep1', RoundtripUsec: rtt });
  let r = s.contactStatus(ev('Reachable', '1234'));
  assert.equal(r.contact!.status, 'Reachable');
  assert.equal(r.contact!.round_trip_usec, '1234');
  r = s.contactStatus(ev('Unreachable', '0'));
  assert.equal(r.contact!.round_trip_usec, 'N/A', 'as PJSIPShowEndpoint says it unless Reachable');
  r = s.contactStatus(ev('NonQualified', '0', 'sip:new@127.0.0.1:1'));
  assert.deepEqual(r, { unknown: true });
  assert.deepEqual(s.contactStatus(ev('Removed', '0', 'sip:new@127.0.0.1:1')), { unknown: false });
  r = s.contactStatus(ev('Removed'));
  assert.equal(r.removed!.uri, uri);
  assert.equal(
    [...s.contacts.values()].some((c) => c.aor === 'gw-ep1'),
    false,
  );
  const aor = s.aors.get('gw-ep1')!;
  assert.deepEqual([aor.contacts, aor.total_contacts, aor.contacts_registered], ['', 0, 0]);
});

test("DeviceStateChange sets device_state in PJSIPShowEndpoint's words; Registry sets a registration's status", () => {
  const s = new PjsipState();
  s.load(snapshot());
  const v = s.endpoints.listJson();
  const ep = s.deviceState(msg({ Event: 'DeviceStateChange', Device: 'PJSIP/gw-ep1', State: 'INUSE' }))!;
  assert.equal(ep.device_state, 'In use');
  assert.notEqual(s.endpoints.listJson(), v, 'the cached list is rebuilt');
  assert.equal(s.deviceState(msg({ Event: 'DeviceStateChange', Device: 'PJSIP/gw-ep1', State: 'RINGINUSE' }))!.device_state, 'Ring+Inuse');
  assert.equal(s.deviceState(msg({ Event: 'DeviceStateChange', Device: 'Local/1@x', State: 'INUSE' })), undefined);
  assert.equal(s.deviceState(msg({ Event: 'DeviceStateChange', Device: 'PJSIP/nobody', State: 'INUSE' })), undefined);

  const reg = s.registry(
    msg({
      Event: 'Registry',
      ChannelType: 'PJSIP',
      Username: 'sip:reguser@127.0.0.1:5998',
      Domain: 'sip:127.0.0.1:5998',
      Status: 'Registered',
    }),
  )!;
  assert.equal(reg.row.status, 'Registered');
  assert.equal(
    s.registry(
      msg({
        Event: 'Registry',
        ChannelType: 'SIP',
        Username: 'sip:reguser@127.0.0.1:5998',
        Domain: 'sip:127.0.0.1:5998',
        Status: 'Registered',
      }),
    ),
    undefined,
  );
});

test('applyEndpoint: a re-read adds a new registration, and an endpoint Asterisk no longer knows goes with its links', () => {
  const s = new PjsipState();
  const snap = snapshot();
  snap.contacts = [];
  snap.details.get('gw-ep1')!.splice(3, 1); // no contact yet
  snap.aors[0] = msg({ Event: 'AorList', ...aorFields('gw-ep1', '') });
  s.load(snap);
  assert.equal(s.aors.get('gw-ep1')!.total_contacts, 0);
  const uri = 'sip:gw-ep1@127.0.0.1:6000';
  const id = `gw-ep1;@${md5(uri)}`;
  const changed = s.applyEndpoint('gw-ep1', [
    endpointDetail('gw-ep1', { DeviceState: 'Not in use' }),
    msg({
      Event: 'AorDetail',
      ...aorFields('gw-ep1', `gw-ep1/${uri}`),
      TotalContacts: '1',
      ContactsRegistered: '1',
      EndpointName: 'gw-ep1',
    }),
    contactStatusDetail('gw-ep1', uri, id, { RegExpire: '2000000100', UserAgent: 'ua/2' }),
  ]);
  assert.deepEqual(
    changed.map((c) => c.id),
    [id],
  );
  assert.equal(s.contacts.get(id)!.user_agent, 'ua/2');
  assert.equal(s.aors.get('gw-ep1')!.contacts_registered, 1);
  assert.equal(s.nextExpiry(0), 2000000100);
  assert.equal(s.nextExpiry(2000000100), 0);
  // the same answer again changes nothing
  assert.deepEqual(
    s.applyEndpoint('gw-ep1', [
      endpointDetail('gw-ep1', { DeviceState: 'Not in use' }),
      msg({ Event: 'AorDetail', ...aorFields('gw-ep1', `gw-ep1/${uri}`), EndpointName: 'gw-ep1' }),
      contactStatusDetail('gw-ep1', uri, id, { RegExpire: '2000000100', UserAgent: 'ua/2' }),
    ]),
    [],
  );

  s.applyEndpoint('gw-ep2', null);
  assert.equal(s.endpoints.has('gw-ep2'), false);
  assert.equal(s.aors.get('gw-ep2')!.endpoint_name, '');
  assert.equal(s.auths.get('gw-reg-auth')!.endpoint_name, '');
});

test('a full re-read keeps tm_update of what did not change', async () => {
  const s = new PjsipState();
  s.load(snapshot());
  const t1 = s.endpoints.get('gw-ep1')!.tm_update;
  const c1 = [...s.contacts.values()].map((c) => c.tm_update);
  await new Promise((r) => setTimeout(r, 5));
  const snap = snapshot();
  snap.details.get('gw-ep2')![0] = endpointDetail('gw-ep2', { OutboundAuth: 'gw-reg-auth', DeviceState: 'In use' });
  s.load(snap);
  assert.equal(s.endpoints.get('gw-ep1')!.tm_update, t1);
  assert.notEqual(s.endpoints.get('gw-ep2')!.tm_update, t1, 'gw-ep2 changed');
  assert.deepEqual(
    [...s.contacts.values()].map((c) => c.tm_update),
    c1,
  );
});

test('registrations: next_reg counts down from what Asterisk said', () => {
  const now = 1_000_000;
  const r = registrationFrom(registrationDetail('Registered', '100'), now);
  assert.equal(renderRegistration(r, now).next_reg, 100);
  assert.equal(renderRegistration(r, now + 30_000).next_reg, 70);
  assert.equal(renderRegistration(r, now + 300_000).next_reg, 0);
  const keys = Object.keys(renderRegistration(r, now));
  assert.deepEqual(keys, [...keys].sort());
});

test('aorOfContactId: registered and static ids', () => {
  assert.equal(aorOfContactId('gw-ep1;@abc'), 'gw-ep1');
  assert.equal(aorOfContactId('gw-ep2@@abc'), 'gw-ep2');
  assert.equal(aorOfContactId('a@b.example;@abc'), 'a@b.example');
});
