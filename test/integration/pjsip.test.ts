// The pjsip plugin against a real Asterisk 22: endpoints, aors, auths, contacts and outbound registrations match
// Asterisk's own answers (AMI lists and the CLI); objects added through a pjsip.conf PUT appear after the reload (and
// go after the next); a static contact shows in contacts; a real SIP REGISTER makes a live contact that goes on
// unregister; an outbound registration to a small SIP responder here turns Registered. Secrets are never returned.
// Every answer is checked against the gateway's OpenAPI document, every published event against its schema.
//
// Run: node --import tsx --test --test-concurrency=1 test/integration/pjsip.test.ts
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { TESTBED } from '../asterisk/testbed.ts';
import { amiList, useBed } from '../support/bed.ts';
import { eventually } from '../support/http.ts';
import { newUa, sipRegister, startRegistrar } from '../support/sip.ts';

const { skip, bed } = useBed({ plugins: ['pjsip'] }, { timeout: { start: 90_000, close: 60_000 } });
const T = { timeout: 90_000, skip };
const P = TESTBED.pjsip;
const CONF = '/v1/admin/pjsip/configurations/pjsip.conf';

const md5 = (s: string) => createHash('md5').update(s).digest('hex');

async function list(what: string): Promise<any[]> {
  const a = await bed.api.get(`/v1/admin/pjsip/${what}`);
  assert.equal(a.status, 200, a.text);
  return a.body.result.list;
}

async function detail(what: string, name: string): Promise<any> {
  const a = await bed.api.get(`/v1/admin/pjsip/${what}/${encodeURIComponent(name)}`);
  assert.equal(a.status, 200, a.text);
  return a.body.result;
}

const names = (rows: { object_name?: string }[]) => rows.map((r) => r.object_name!).sort();
const sorted = (xs: string[]) => [...xs].sort();

/** `pjsip show endpoints`: the names on the " Endpoint:  <name>  <state>" lines (header line excluded). */
async function cliEndpoints(): Promise<string[]> {
  const out = await bed.asterisk.cli('pjsip show endpoints');
  return sorted(
    [...out.matchAll(/^\s*Endpoint:\s+(\S+)\s+\S/gm)]
      .map((m) => m[1]!)
      .filter((n) => !n.startsWith('<'))
      .map((n) => n.split('/')[0]!),
  );
}

/** `pjsip show contacts`: "aor/uri hash10" per contact. */
async function cliContacts(): Promise<string[]> {
  const out = await bed.asterisk.cli('pjsip show contacts');
  return sorted([...out.matchAll(/^\s*Contact:\s+(\S+)\s+([0-9a-f]{10})\s/gm)].map((m) => `${m[1]} ${m[2]}`));
}

const ourContacts = (cs: any[]) =>
  sorted(cs.map((c) => `${c.aor}/${c.uri} ${c.id.slice(c.id.search(/(;@|@@)/) + 2, c.id.search(/(;@|@@)/) + 12)}`));

function assertTypes(row: Record<string, unknown>, numbers: string[], strings: string[], what: string): void {
  for (const k of numbers) assert.equal(typeof row[k], 'number', `${what}.${k} is a number (${JSON.stringify(row[k])})`);
  for (const k of strings) assert.equal(typeof row[k], 'string', `${what}.${k} is a string (${JSON.stringify(row[k])})`);
}

/** Every field of the spec's endpoint example (api-reference /admin/pjsip/endpoints). */
const SPEC_ENDPOINT_NUMBERS = [
  'cos_audio',
  'cos_video',
  'device_state_busy_at',
  'dtls_rekey',
  'fax_detect_time',
  'max_audio_streams',
  'max_video_streams',
  'rtp_keepalive',
  'rtp_timeout',
  'rtp_timeout_hold',
  't38_udptl_maxdatagram',
  'timers_sess_expires',
  'tos_audio',
  'tos_video',
];
const SPEC_ENDPOINT_STRINGS = [
  'account_code',
  'acl',
  'active_channels',
  'aggregate_mwi',
  'allow',
  'allow_overlap',
  'allow_subscribe',
  'allow_transfer',
  'aors',
  'asymmetric_rtp_codec',
  'auth',
  'bind_rtp_to_media_address',
  'bundle',
  'call_group',
  'caller_id',
  'caller_id_privacy',
  'caller_id_tag',
  'connected_line_method',
  'contact_acl',
  'context',
  'device_state',
  'direct_media',
  'direct_media_glare_mitigation',
  'direct_media_method',
  'disable_direct_media_on_nat',
  'disallow',
  'dtls_ca_file',
  'dtls_ca_path',
  'dtls_cert_file',
  'dtls_cipher',
  'dtls_fingerprint',
  'dtls_private_key',
  'dtls_setup',
  'dtls_verify',
  'dtmf_mode',
  'fax_detect',
  'force_avp',
  'force_rport',
  'from_domain',
  'from_user',
  'g_726_non_standard',
  'ice_support',
  'identify_by',
  'inband_progress',
  'incoming_mwi_mailbox',
  'language',
  'mailboxes',
  'media_address',
  'media_encryption',
  'media_encryption_optimistic',
  'media_use_received_transport',
  'message_context',
  'moh_passthrough',
  'moh_suggest',
  'mwi_from_user',
  'mwi_subscribe_replaces_unsolicited',
  'named_call_group',
  'named_pickup_group',
  'notify_early_inuse_ringing',
  'object_name',
  'object_type',
  'one_touch_recording',
  'outbound_auth',
  'outbound_proxy',
  'pickup_group',
  'preferred_codec_only',
  'record_off_feature',
  'record_on_feature',
  'redirect_method',
  'refer_blind_progress',
  'rel_100',
  'rewrite_contact',
  'rpid_immediate',
  'rtcp_mux',
  'rtp_engine',
  'rtp_ipv6',
  'rtp_symmetric',
  'sdp_owner',
  'sdp_session',
  'send_diversion',
  'send_pai',
  'send_rpid',
  'set_var',
  'srtp_tag32',
  'sub_min_expiry',
  'subscribe_context',
  't38_udptl',
  't38_udptl_ec',
  't38_udptl_ipv6',
  't38_udptl_nat',
  'timers',
  'timers_min_se',
  'tm_update',
  'tone_zone',
  'transport',
  'trust_id_inbound',
  'trust_id_outbound',
  'use_avpf',
  'use_ptime',
  'user_eq_phone',
  'voicemail_extension',
  'webrtc',
];
const AOR_NUMBERS = [
  'contacts_registered',
  'total_contacts',
  'default_expiration',
  'max_contacts',
  'maximum_expiration',
  'minimum_expiration',
  'qualify_frequency',
  'qualify_timeout',
];
const AOR_STRINGS = [
  'object_name',
  'object_type',
  'endpoint_name',
  'contacts',
  'authenticate_qualify',
  'mailboxes',
  'outbound_proxy',
  'remove_existing',
  'support_path',
  'voicemail_extension',
  'tm_update',
];
const AUTH_STRINGS = ['object_name', 'object_type', 'username', 'auth_type', 'password', 'md5_cred', 'realm', 'endpoint_name', 'tm_update'];
const CONTACT_NUMBERS = ['qualify_frequency', 'qualify_timout', 'authentication_qualify', 'reg_expire'];
const CONTACT_STRINGS = [
  'id',
  'call_id',
  'uri',
  'aor',
  'endpoint_name',
  'status',
  'outbound_proxy',
  'path',
  'round_trip_usec',
  'user_agent',
  'via_address',
  'tm_update',
];

// ---------------------------------------------------------------------------------------------------------------

test("endpoints, aors and auths match Asterisk, with the spec's fields and JSON types; no secret is returned", T, async () => {
  const eps = await list('endpoints');
  assert.deepEqual(
    names(eps),
    names((await amiList(bed, 'PJSIPShowEndpoints', 'EndpointList')).map((e) => ({ object_name: e.ObjectName }))),
  );
  assert.deepEqual(names(eps), await cliEndpoints());
  assert.deepEqual(names(eps), [P.endpoint]);

  const ep = await detail('endpoints', P.endpoint);
  assertTypes(ep, SPEC_ENDPOINT_NUMBERS, SPEC_ENDPOINT_STRINGS, 'endpoint');
  assert.deepEqual(ep, eps[0], 'the detail is the list row');
  assert.equal(ep.object_type, 'endpoint');
  assert.equal(ep.context, TESTBED.contexts.wait);
  assert.equal(ep.transport, P.transport);
  assert.equal(ep.aors, P.endpoint);
  assert.equal(ep.auth, P.endpoint);
  assert.equal(ep.allow, '(ulaw)');
  assert.equal(ep.rel_100, 'yes');
  assert.equal(ep.caller_id, '<unknown>');
  const amiEp = (await amiList(bed, 'PJSIPShowEndpoints', 'EndpointList'))[0]!;
  assert.equal(ep.device_state, amiEp.DeviceState);
  assert.equal(ep.active_channels, amiEp.ActiveChannels);
  assert.deepEqual(Object.keys(ep), [...Object.keys(ep)].sort(), 'fields in alphabetical order, as in the spec');

  const aors = await list('aors');
  assert.deepEqual(names(aors), names((await amiList(bed, 'PJSIPShowAors', 'AorList')).map((e) => ({ object_name: e.ObjectName }))));
  const aor = await detail('aors', P.endpoint);
  assertTypes(aor, AOR_NUMBERS, AOR_STRINGS, 'aor');
  assert.equal(aor.object_type, 'aor');
  assert.equal(aor.max_contacts, 1);
  assert.equal(aor.qualify_timeout, 3);
  assert.equal(aor.endpoint_name, P.endpoint);
  assert.equal(aor.contacts, '');
  assert.equal(aor.total_contacts, 0);

  const auths = await list('auths');
  assert.deepEqual(names(auths), names((await amiList(bed, 'PJSIPShowAuths', 'AuthList')).map((e) => ({ object_name: e.ObjectName }))));
  const auth = await detail('auths', P.endpoint);
  assertTypes(auth, ['nonce_lifetime'], AUTH_STRINGS, 'auth');
  assert.equal(auth.username, P.endpoint);
  assert.equal(auth.auth_type, 'userpass');
  assert.equal(auth.endpoint_name, P.endpoint);
  assert.equal(auth.password, '', 'passwords are never returned');
  assert.equal(auth.md5_cred, '');
  assert.deepEqual(await detail('auth', P.endpoint), auth, "/admin/pjsip/auth (the spec's heading) answers too");
  for (const path of ['auths', 'auth', `auths/${P.endpoint}`, `auth/${P.endpoint}`, 'endpoints', `endpoints/${P.endpoint}`]) {
    const text = (await bed.api.get(`/v1/admin/pjsip/${path}`)).text;
    assert.ok(!text.includes(`${P.endpoint}-secret`), `${path} must not show the password`);
  }

  assert.deepEqual(await list('contacts'), []);
  assert.deepEqual(await amiList(bed, 'PJSIPShowContacts', 'ContactList'), []);
  assert.deepEqual(await cliContacts(), []);
  assert.deepEqual(await list('registration_outbounds'), []);
  // unversioned paths serve the same
  assert.deepEqual(
    (await bed.api.get('/admin/pjsip/endpoints')).body.result.list.map((e: any) => e.object_name),
    [P.endpoint],
  );
  // Asterisk 22's real dumps fit the declared schemas: every answer above was checked against the OpenAPI document
  const checker = await bed.api.contract();
  assert.ok(checker && checker.checked >= 10, 'answers checked against /v1/openapi.json');
});

test('bad names are 400, unknown names 404, on every detail route', T, async () => {
  for (const what of ['endpoints', 'aors', 'auths', 'auth', 'contacts', 'registration_outbounds']) {
    // (a bare ".." never reaches the gateway: the URL parser resolves it away)
    for (const bad of ['..%2F..%2Fetc%2Fpasswd', 'gw%0D%0AAction%3A%20Originate', 'a..b', '%2E%2E%2Fx']) {
      const a = await bed.api.get(`/v1/admin/pjsip/${what}/${bad}`);
      assert.equal(a.status, 400, `${what}/${bad}: ${a.text}`);
      assert.equal(a.body.statuscode, 400);
    }
    const a = await bed.api.get(`/v1/admin/pjsip/${what}/no-such-thing`);
    assert.equal(a.status, 404, `${what}: ${a.text}`);
    assert.equal(a.body.statuscode, 404);
  }
  bed.api.setToken(undefined);
  assert.equal((await bed.api.get('/v1/admin/pjsip/endpoints')).status, 401);
  await bed.api.login('admin', 'test-admin-pw');
});

test('a SIP REGISTER makes a live contact with its details; unregister removes it; device_state follows', T, async () => {
  const ua = await newUa();
  try {
    assert.equal(await sipRegister(ua, P.endpoint, `${P.endpoint}-secret`, 300), 'SIP/2.0 200 OK');
    const c = await eventually(async () => (await list('contacts')).find((x) => x.aor === P.endpoint), 10000, 'registered contact');
    assertTypes(c, CONTACT_NUMBERS, CONTACT_STRINGS, 'contact');
    assert.match(c.id, new RegExp(`^${P.endpoint};@[0-9a-f]{32}$`));
    assert.equal(c.uri, `sip:${P.endpoint}@127.0.0.1:${ua.port}`);
    assert.equal(c.endpoint_name, P.endpoint);
    assert.equal(c.user_agent, 'gw-pjsip-test/1.0');
    assert.equal(c.via_address, `127.0.0.1:${ua.port}`);
    assert.equal(c.call_id, ua.callId);
    assert.equal(c.status, 'NonQualified');
    assert.equal(c.round_trip_usec, 'N/A');
    assert.equal(c.qualify_timout, 3);
    assert.ok(Math.abs(c.reg_expire - (Date.now() / 1000 + 300)) < 10, `reg_expire ${c.reg_expire} is about now + 300 s`);
    // the same as Asterisk's own answers
    const ami = (await amiList(bed, 'PJSIPShowContacts', 'ContactList'))[0]!;
    assert.equal(c.id, ami.ObjectName);
    assert.equal(c.reg_expire, Number(ami.ExpirationTime));
    assert.deepEqual(ourContacts(await list('contacts')), await cliContacts());
    // detail by the uri-encoded id, as in the spec's example
    assert.deepEqual(await detail('contacts', c.id), c);
    const raw = await bed.api.get(`/v1/admin/pjsip/contacts/${c.id.replace(';', '%3B').replace('@', '%40')}`);
    assert.equal(raw.status, 200, raw.text);

    const aor = await eventually(
      async () => {
        const a = await detail('aors', P.endpoint);
        return a.total_contacts === 1 ? a : null;
      },
      10000,
      'aor counts the contact',
    );
    assert.equal(aor.contacts_registered, 1);
    assert.equal(aor.contacts, `${P.endpoint}/${c.uri}`);
    const amiAor = (await amiList(bed, 'PJSIPShowAors', 'AorList')).find((a) => a.ObjectName === P.endpoint)!;
    assert.equal(aor.contacts, amiAor.Contacts);
    await eventually(async () => (await detail('endpoints', P.endpoint)).device_state === 'Not in use', 10000, 'device_state Not in use');

    assert.equal(await sipRegister(ua, P.endpoint, `${P.endpoint}-secret`, 0), 'SIP/2.0 200 OK');
    await eventually(async () => (await list('contacts')).length === 0, 10000, 'contact removed');
    assert.deepEqual(await cliContacts(), []);
    const after = await detail('aors', P.endpoint);
    assert.equal(after.total_contacts, 0);
    assert.equal(after.contacts_registered, 0);
    assert.equal(after.contacts, '');
    await eventually(async () => (await detail('endpoints', P.endpoint)).device_state === 'Unavailable', 10000, 'device_state Unavailable');
  } finally {
    ua.sock.close();
  }
});

test('objects added through a pjsip.conf PUT appear after the reload, static contacts included, and go again', T, async () => {
  const registrar = await startRegistrar();
  try {
    const cur = await bed.api.get(CONF);
    assert.equal(cur.status, 200, cur.text);
    const original: string = cur.body.result.data;
    const staticUri = 'sip:gw@127.0.0.1:5999';
    const loneUri = 'sip:lone@127.0.0.1:5997';
    const added = `
[gw-ep2]
type = endpoint
transport = ${P.transport}
context = ${TESTBED.contexts.wait}
disallow = all
allow = ulaw,alaw
aors = gw-ep2
auth = gw-ep2
callerid = "Two" <222>

[gw-ep2]
type = aor
contact = ${staticUri}
max_contacts = 2

[gw-ep2]
type = auth
auth_type = userpass
username = gw-ep2
password = gw-ep2-secret

; an AOR that no endpoint uses: its static contact is known only from the AOR
[gw-lone]
type = aor
contact = ${loneUri}

[gw-reg-auth]
type = auth
auth_type = userpass
username = reguser
password = gw-reg-secret

[gw-reg]
type = registration
transport = ${P.transport}
outbound_auth = gw-reg-auth
server_uri = sip:127.0.0.1:${registrar.port}
client_uri = sip:reguser@127.0.0.1:${registrar.port}
retry_interval = 60
expiration = 120
max_random_initial_delay = 0
`;
    const put = await bed.api.put(CONF, { data: original + added });
    assert.equal(put.status, 200, put.text);
    assert.equal(put.body.result.reload.status, 'done', JSON.stringify(put.body.result.reload));

    // the reload's Reload event makes the plugin re-read everything (gw-ep2 may show a moment earlier: its PeerStatus
    // makes the plugin read that endpoint at once)
    await eventually(
      async () => names(await list('aors')).includes('gw-lone') && (await list('registration_outbounds')).length === 1,
      10000,
      'the re-read after the reload',
    );
    assert.deepEqual(names(await list('endpoints')), await cliEndpoints());
    assert.deepEqual(names(await list('endpoints')), ['gw-ep1', 'gw-ep2']);
    const ep2 = await detail('endpoints', 'gw-ep2');
    assertTypes(ep2, SPEC_ENDPOINT_NUMBERS, SPEC_ENDPOINT_STRINGS, 'gw-ep2');
    assert.equal(ep2.allow, '(ulaw|alaw)');
    assert.equal(ep2.caller_id, '"Two" <222>');
    assert.equal(ep2.device_state, 'Not in use', 'a static contact makes it available');
    assert.deepEqual(names(await list('aors')), ['gw-ep1', 'gw-ep2', 'gw-lone']);
    assert.deepEqual(
      names(await list('aors')),
      names((await amiList(bed, 'PJSIPShowAors', 'AorList')).map((e) => ({ object_name: e.ObjectName }))),
    );
    assert.deepEqual(names(await list('auths')), ['gw-ep1', 'gw-ep2', 'gw-reg-auth']);
    const regAuth = await detail('auths', 'gw-reg-auth');
    assert.equal(regAuth.endpoint_name, '');
    assert.equal(regAuth.password, '');
    assert.equal((await detail('auths', 'gw-ep2')).endpoint_name, 'gw-ep2');

    // static contacts: the endpoint's (as PJSIPShowEndpoint reports it) and the lone AOR's
    const contacts = await list('contacts');
    assert.deepEqual(ourContacts(contacts), await cliContacts());
    const st = await detail('contacts', `gw-ep2@@${md5(staticUri)}`);
    assertTypes(st, CONTACT_NUMBERS, CONTACT_STRINGS, 'static contact');
    assert.equal(st.uri, staticUri);
    assert.equal(st.aor, 'gw-ep2');
    assert.equal(st.endpoint_name, 'gw-ep2');
    assert.equal(st.status, 'NonQualified');
    assert.equal(st.reg_expire, 0);
    const amiDetail = (await bed.gateway.ami.list('PJSIPShowEndpoint', { Endpoint: 'gw-ep2' })).events.find(
      (e) => e.fields.Event === 'ContactStatusDetail',
    )!;
    assert.equal(st.id, amiDetail.fields.ID);
    assert.equal(st.status, amiDetail.fields.Status);
    const lone = await detail('contacts', `gw-lone@@${md5(loneUri)}`);
    assert.equal(lone.uri, loneUri);
    assert.equal(lone.endpoint_name, '');
    const aor2 = await detail('aors', 'gw-ep2');
    assert.equal(aor2.contacts, `gw-ep2/${staticUri}`);
    assert.equal(aor2.total_contacts, 1);
    assert.equal(aor2.contacts_registered, 0, 'a static contact is not registered');
    assert.equal(aor2.max_contacts, 2);
    assert.equal(aor2.endpoint_name, 'gw-ep2');
    assert.equal((await detail('aors', 'gw-lone')).endpoint_name, '');
    assert.equal((await detail('aors', 'gw-lone')).contacts, `gw-lone/${loneUri}`);

    // the outbound registration reaches the registrar here; Registry turns it Registered
    const reg = await eventually(
      async () => {
        const r = await detail('registration_outbounds', 'gw-reg');
        return r.status === 'Registered' ? r : null;
      },
      15000,
      'gw-reg Registered',
    );
    assert.ok(registrar.registers > 0);
    assertTypes(
      reg,
      ['expiration', 'retry_interval', 'max_retries', 'next_reg', 'forbidden_retry_interval', 'max_random_initial_delay'],
      ['object_name', 'object_type', 'server_uri', 'client_uri', 'outbound_auth', 'transport', 'status', 'tm_update'],
      'registration',
    );
    assert.equal(reg.object_type, 'registration');
    assert.equal(reg.server_uri, `sip:127.0.0.1:${registrar.port}`);
    assert.equal(reg.client_uri, `sip:reguser@127.0.0.1:${registrar.port}`);
    assert.equal(reg.retry_interval, 60);
    assert.equal(reg.expiration, 120);
    const amiReg = (await amiList(bed, 'PJSIPShowRegistrationsOutbound', 'OutboundRegistrationDetail'))[0]!;
    assert.equal(reg.status, amiReg.Status);
    // NextReg is pjsip's "seconds until the next REGISTER" (0 in Asterisk 22, which times refreshes itself)
    assert.ok(Math.abs(reg.next_reg - Number(amiReg.NextReg)) <= 2, `next_reg ${reg.next_reg} vs NextReg ${amiReg.NextReg}`);
    assert.deepEqual(
      (await list('registration_outbounds')).map((r) => r.object_name),
      ['gw-reg'],
    );
    assert.match(await bed.asterisk.cli('pjsip show registrations'), /gw-reg\/sip:127\.0\.0\.1:\d+\s+gw-reg-auth\s+Registered/);
    for (const path of ['auths', 'auths/gw-reg-auth', 'registration_outbounds', 'auths/gw-ep2']) {
      const text = (await bed.api.get(`/v1/admin/pjsip/${path}`)).text;
      assert.ok(!/gw-reg-secret|gw-ep2-secret/.test(text), `${path} must not show a password`);
    }

    // and back: everything added goes with the next reload
    const back = await bed.api.put(CONF, { data: original });
    assert.equal(back.status, 200, back.text);
    await eventually(
      async () => names(await list('aors')).length === 1 && (await list('registration_outbounds')).length === 0,
      10000,
      'the re-read after the reload',
    );
    assert.deepEqual(names(await list('endpoints')), await cliEndpoints());
    assert.deepEqual(names(await list('aors')), ['gw-ep1']);
    assert.deepEqual(names(await list('auths')), ['gw-ep1']);
    assert.deepEqual(await list('contacts'), []);
    assert.equal((await bed.api.get('/v1/admin/pjsip/endpoints/gw-ep2')).status, 404);
  } finally {
    registrar.close();
  }
});

test('a reload made outside the gateway is followed too; unchanged objects keep their tm_update', T, async () => {
  const file = path.join(bed.asterisk.configDir, 'pjsip.conf');
  const original = readFileSync(file, 'utf8');
  const before = (await detail('endpoints', P.endpoint)).tm_update;
  try {
    writeFileSync(
      file,
      `${original}\n[gw-ep3]\ntype = endpoint\ncontext = ${TESTBED.contexts.wait}\naors = gw-ep3\n\n[gw-ep3]\ntype = aor\nmax_contacts = 3\n`,
    );
    await bed.asterisk.cli('module reload res_pjsip.so');
    await eventually(async () => names(await list('endpoints')).includes('gw-ep3'), 10000, 'gw-ep3 after a CLI reload');
    assert.deepEqual(names(await list('endpoints')), await cliEndpoints());
    assert.equal((await detail('aors', 'gw-ep3')).max_contacts, 3);
    assert.equal((await detail('aors', 'gw-ep3')).endpoint_name, 'gw-ep3');
    assert.equal((await detail('endpoints', P.endpoint)).tm_update, before, 'gw-ep1 did not change, nor did its tm_update');
  } finally {
    writeFileSync(file, original);
    await bed.asterisk.cli('module reload res_pjsip.so');
  }
  await eventually(async () => !names(await list('endpoints')).includes('gw-ep3'), 10000, 'gw-ep3 gone again');
});
