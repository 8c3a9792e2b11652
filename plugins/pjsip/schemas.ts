// The pjsip plugin's objects as answered and published: the one declaration of each shape (types derive from it).
//
// Endpoints, AORs, auths and outbound registrations are Asterisk's own dumps of its sorcery objects with the keys
// snake_cased (rows.ts), so their keys depend on the Asterisk version: Asterisk 22 has many more options than the
// spec's 2017 example. Each schema declares the fields the spec lists (typed as the spec types them; present when
// Asterisk dumps them, as Asterisk 22 does) and the fields the gateway adds itself (always present); any other key is
// another option of the dump, a string or a number. Contacts are built field by field: exactly the spec's fields.
import { event } from '../../core/contract/events.ts';
import { line, named, nonNegInt, num, objWithRest, obj, opt, pathText, type Out, v } from '../../core/contract/schema.ts';

/** What a key of a dump that is not declared holds: the option as Asterisk gives it, or a number. */
const other = v.union([line(), num()]);
const optStr = (description?: string) => v.optional(line(description));
const optNum = (description?: string) => v.optional(num(description));

/** Names of an object of Asterisk's (sorcery), dumped with every object. */
const objectEntries = {
  object_name: line("the object's name (its section in pjsip.conf)"),
  tm_update: line('ISO 8601 time of the last change the gateway saw'),
};

const ENDPOINT_NUMBERS = [
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
] as const;
const ENDPOINT_STRINGS = [
  'account_code',
  'acl',
  'active_channels',
  'aggregate_mwi',
  'allow',
  'allow_overlap',
  'allow_subscribe',
  'allow_transfer',
  'asymmetric_rtp_codec',
  'bind_rtp_to_media_address',
  'bundle',
  'call_group',
  'caller_id',
  'caller_id_privacy',
  'caller_id_tag',
  'connected_line_method',
  'contact_acl',
  'context',
  'direct_media',
  'direct_media_glare_mitigation',
  'direct_media_method',
  'disable_direct_media_on_nat',
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
  'one_touch_recording',
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
  'tone_zone',
  'transport',
  'trust_id_inbound',
  'trust_id_outbound',
  'use_avpf',
  'use_ptime',
  'user_eq_phone',
  'voicemail_extension',
  'webrtc',
] as const;

function fields<K extends string, S extends v.GenericSchema>(keys: readonly K[], make: () => S): Record<K, S> {
  return Object.fromEntries(keys.map((k) => [k, make()])) as Record<K, S>;
}

export const EndpointSchema = named(
  'PjsipEndpoint',
  objWithRest(
    {
      ...objectEntries,
      object_type: v.literal('endpoint'),
      disallow: line('always "": Asterisk folds disallow into allow'),
      ...fields(ENDPOINT_NUMBERS, () => optNum()),
      ...fields(ENDPOINT_STRINGS, () => optStr()),
      device_state: optStr('as PJSIPShowEndpoint words it: Not in use, In use, Unavailable ...'),
      aors: optStr('the AORs it uses, comma-separated'),
      auth: optStr('its inbound auths, comma-separated'),
      outbound_auth: optStr('its outbound auths, comma-separated'),
    },
    other,
  ),
);
export type Endpoint = Out<typeof EndpointSchema>;

export const AorSchema = named(
  'PjsipAor',
  objWithRest(
    {
      ...objectEntries,
      object_type: v.literal('aor'),
      endpoint_name: line('the first endpoint that uses it, or ""'),
      contacts: line("its contacts as aor/uri, comma-separated, in Asterisk's order"),
      contacts_registered: num('its registered (not static) contacts'),
      total_contacts: num('all its contacts, static ones included'),
      ...fields(
        ['default_expiration', 'max_contacts', 'maximum_expiration', 'minimum_expiration', 'qualify_frequency', 'qualify_timeout'] as const,
        () => optNum(),
      ),
      ...fields(
        ['authenticate_qualify', 'mailboxes', 'outbound_proxy', 'remove_existing', 'support_path', 'voicemail_extension'] as const,
        () => optStr(),
      ),
    },
    other,
  ),
);
export type Aor = Out<typeof AorSchema>;

/**
 * Auth options that hold a secret. The gateway never returns them: each is answered as "" (the key stays, so the
 * shape is the spec's). Asterisk 22 adds password_digest, oauth_secret and refresh_token to password and md5_cred.
 */
export const AUTH_SECRETS = ['password', 'md5_cred', 'password_digest', 'oauth_secret', 'refresh_token'] as const;
const secret = () => v.optional(v.pipe(v.literal(''), v.description('a secret: never returned, always ""')));

export const AuthSchema = named(
  'PjsipAuth',
  objWithRest(
    {
      ...objectEntries,
      object_type: v.literal('auth'),
      endpoint_name: line('the first endpoint that uses it (auth or outbound_auth), or ""'),
      username: optStr(),
      auth_type: optStr('userpass, md5 ...'),
      realm: optStr(),
      nonce_lifetime: optNum(),
      ...fields(AUTH_SECRETS, secret),
    },
    other,
  ),
);
export type Auth = Out<typeof AuthSchema>;

export const ContactSchema = named(
  'PjsipContact',
  obj({
    aor: line(),
    authentication_qualify: num('1 when the contact is qualified with authentication, else 0'),
    call_id: line('Call-ID of the registration ("" for a static contact)'),
    endpoint_name: line('"" for a static contact of an AOR no endpoint uses'),
    id: line('<aor>;@<hash> (registered) or <aor>@@<hash> (static, from contact= of the AOR)'),
    outbound_proxy: line(),
    path: line(),
    qualify_frequency: num(),
    qualify_timout: num("the qualify timeout in seconds (the spec's spelling)"),
    reg_expire: num('when the registration expires, seconds since the epoch; 0 for a static contact'),
    round_trip_usec: line("the last qualify's round trip, or N/A"),
    status: line('Reachable, Unreachable, NonQualified, Unknown ...'),
    tm_update: line(),
    uri: line(),
    user_agent: line(),
    via_address: line('host:port the registration came from'),
  }),
);
export type Contact = Out<typeof ContactSchema>;

export const RegistrationOutboundSchema = named(
  'PjsipRegistrationOutbound',
  objWithRest(
    {
      ...objectEntries,
      object_type: v.literal('registration'),
      next_reg: num('seconds until the next REGISTER, as Asterisk last said (counts down)'),
      status: optStr('Registered, Unregistered, Rejected ...'),
      ...fields(
        [
          'expiration',
          'fatal_retry_interval',
          'forbidden_retry_interval',
          'max_random_initial_delay',
          'max_retries',
          'retry_interval',
        ] as const,
        () => optNum(),
      ),
      ...fields(['client_uri', 'server_uri', 'outbound_auth', 'transport'] as const, () => optStr()),
    },
    other,
  ),
);
export type RegistrationOutbound = Out<typeof RegistrationOutboundSchema>;

// ---- /peers and /registries: the spec's chan_sip-era objects, derived from the live PJSIP state above ----

export const PeerListItemSchema = named(
  'PeerListItem',
  obj({ peer: line('"PJSIP/<endpoint>": one per PJSIP endpoint (PJSIPShowEndpoints)') }),
);
export type PeerListItem = Out<typeof PeerListItemSchema>;

/** Every field of the spec's peer, each a string as the spec has it; the description says which PJSIP source it has. */
export const PeerSchema = named(
  'Peer',
  obj({
    peer: line('"PJSIP/<endpoint>": the endpoint\'s name (object_name) with the channel technology'),
    status: line(
      'Registered when one of the AORs of the endpoint (its aors option) has a registered contact (PJSIPShowContacts, ' +
        'kept live by ContactStatus and PeerStatus), else Unregistered; a static contact (contact= of the AOR) is not a registration',
    ),
    address: line(
      '<ip>:<port> of its best contact (reachable first, then registered before static, then the latest registration): ' +
        "the address the REGISTER came from (the contact's via_address), else the host and port of the contact URI " +
        '(5060, or 5061 for sips:); "" without a contact',
    ),
    monitor_status: line(
      'from the qualify of that contact (AOR qualify_frequency; ContactStatus and its RoundtripUsec): "OK (<N> ms)" ' +
        'when Reachable (N: the last round trip Asterisk reported, at least 1), "UNREACHABLE" when Unreachable, ' +
        '"Unmonitored" when not qualified (qualify_frequency 0), "UNKNOWN" before the first answer or without a contact ' +
        'on a qualified AOR',
    ),
    channel_type: v.pipe(v.literal('PJSIP'), v.description("always PJSIP (the spec's SIP was chan_sip, gone from Asterisk 21)")),
    chan_object_type: v.pipe(v.literal('endpoint'), v.description('always endpoint (a PJSIP endpoint; chan_sip said peer)')),
    dynamic: line('yes when one of its AORs accepts registrations (max_contacts above 0), else no'),
    auto_comedia: line('always no: PJSIP has no automatic NAT detection (chan_sip nat=auto_comedia); see comedia'),
    auto_force_port: line('always no: PJSIP has no automatic NAT detection (chan_sip nat=auto_force_rport); see force_port'),
    acl: line('yes when the endpoint has an ACL (its acl, deny or permit options), else no'),
    comedia: line("the endpoint's rtp_symmetric as yes/no (send RTP back to where it comes from)"),
    description: line('always "": a PJSIP endpoint has no description option'),
    force_port: line("the endpoint's force_rport as yes/no"),
    realtime_device: line('always no: the gateway reads endpoints over AMI and cannot tell a realtime one; it serves pjsip.conf'),
    text_support: line("yes when the endpoint's allow has a text codec (t140, red), else no"),
    video_support: line("yes when the endpoint's allow has a video codec (h264, vp8 ...) and max_video_streams is above 0, else no"),
    tm_update: line('ISO 8601 time the gateway last saw one of the fields above change'),
  }),
);
export type Peer = Out<typeof PeerSchema>;

/** GET /peers/: the peer in a JSON body of the GET (as the spec does); ?peer= is the same. */
export const PeerQuerySchema = obj({ peer: opt(pathText('the peer: PJSIP/<endpoint> or <endpoint>')) });

export const RegistryListItemSchema = named(
  'RegistryListItem',
  obj({
    account: line(
      '"<user>@<host>:<port>": one per outbound registration (PJSIPShowRegistrationsOutbound); user from its client_uri, ' +
        'host and port from its server_uri (5060, or 5061 for sips:)',
    ),
  }),
);
export type RegistryListItem = Out<typeof RegistryListItemSchema>;

export const RegistrySchema = named(
  'Registry',
  obj({
    account: line('"<user>@<host>:<port>", as in the list'),
    state: line(
      "the registration's status as Asterisk words it (Registered, Unregistered, Rejected ...): PJSIPShowRegistrationsOutbound, " +
        'kept live by Registry events',
    ),
    username: line("the user part of its client_uri (else its outbound_auth's username)"),
    domain: line('the host of its client_uri (the domain it registers in)'),
    domain_port: nonNegInt('the port of its client_uri (5060, or 5061 for sips:)'),
    host: line('the host of its server_uri (the registrar)'),
    port: nonNegInt('the port of its server_uri (5060, or 5061 for sips:)'),
    refresh: nonNegInt('its expiration: the registration interval it asks for, in seconds'),
    registration_time: nonNegInt(
      'epoch seconds of the last successful registration the gateway saw (a Registry event with Status Registered), 0 before',
    ),
    tm_update: line('ISO 8601 time of the last change the gateway saw'),
  }),
);
export type Registry = Out<typeof RegistrySchema>;

/** GET /registries/: the account (or the registration's name) in a JSON body of the GET; ?account= is the same. */
export const RegistryQuerySchema = obj({
  account: opt(pathText('<user>@<host>:<port> (the port may be left out), or the name of the registration')),
});

const audience = (path: string) => ({ like: `/admin/pjsip/${path}` });
export const events = {
  endpointUpdated: event('pjsip.endpoint.updated', "an endpoint's device_state changed", EndpointSchema, audience('endpoints')),
  contactUpdated: event(
    'pjsip.contact.updated',
    'a contact registered, or its status or details changed',
    ContactSchema,
    audience('contacts'),
  ),
  contactRemoved: event(
    'pjsip.contact.removed',
    'a contact went (unregistered, expired, or removed from its AOR)',
    ContactSchema,
    audience('contacts'),
  ),
  registrationOutboundUpdated: event(
    'pjsip.registration_outbound.updated',
    "an outbound registration's status changed",
    RegistrationOutboundSchema,
    audience('registration_outbounds'),
  ),
  peerUpdated: event(
    'pjsip.peer.updated',
    "a peer's fields changed (it registered or unregistered, its address or its qualify result changed)",
    PeerSchema,
    { like: '/peers' },
  ),
  registryUpdated: event(
    'pjsip.registry.updated',
    'an outbound registration answered (Registry event): its state, and registration_time when it registered',
    RegistrySchema,
    { like: '/registries' },
  ),
};
