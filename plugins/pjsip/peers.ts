// The spec's chan_sip-era views of SIP, served from the live PJSIP state (state.ts): /peers (one peer per PJSIP
// endpoint, its registration and qualify state from its AORs' contacts) and /registries (one per outbound
// registration, its state kept live by Registry events). chan_sip is gone from Asterisk 21+, but every field of
// these objects has a PJSIP source; PeerSchema and RegistrySchema (schemas.ts) document each mapping.
//
//   GET /peers                  {"list":[{"peer":"PJSIP/<endpoint>"}, ...]}
//   GET /peers/                 {"peer"} in a JSON body of the GET (the spec's form), or ?peer=
//   GET /peers/<peer>           with or without "PJSIP/" (URL-encode the "/" or not)
//   GET /registries             {"list":[{"account":"<user>@<host>:<port>"}, ...]}
//   GET /registries/            {"account"} in a JSON body of the GET, or ?account=
//   GET /registries/<account>   the account (its port may be left out) or the registration's name
import { route } from '../../core/contract/route.ts';
import { listOf, pathText } from '../../core/contract/schema.ts';
import { ok } from '../../core/http/envelope.ts';
import { badRequest, notFound } from '../../core/http/errors.ts';
import { isoNow } from '../../core/live/clock.ts';
import type { LiveKit } from '../../core/live/kit.ts';
import type { Router } from '../../core/plugins/contract.ts';
import { names, type Registration } from './rows.ts';
import {
  type Contact,
  type Endpoint,
  events,
  type Peer,
  PeerListItemSchema,
  PeerQuerySchema,
  PeerSchema,
  type Registry,
  RegistryListItemSchema,
  RegistryQuerySchema,
  RegistrySchema,
} from './schemas.ts';
import type { PjsipState } from './state.ts';

const tags = ['peers and registries'];

// ---- SIP URIs ----

export interface SipUriParts {
  user: string;
  /** An IPv6 host keeps its brackets, so host:port reads back. */
  host: string;
  port: number;
}

/**
 * The user, host and port of a SIP URI (`sip:user@host:port;params`, `sips:...`, `<sip:...>`, `host:port`). The
 * port defaults as SIP's does: 5061 for sips: or ;transport=tls, else 5060.
 */
export function sipUriParts(uri: string): SipUriParts {
  let s = uri.trim();
  const lt = s.indexOf('<');
  if (lt >= 0) s = s.slice(lt + 1, s.indexOf('>', lt) >= 0 ? s.indexOf('>', lt) : undefined);
  const scheme = /^(sips?):/i.exec(s);
  const rest = scheme ? s.slice(scheme[0].length) : s;
  const cut = rest.search(/[;?]/);
  const main = cut >= 0 ? rest.slice(0, cut) : rest;
  const params = cut >= 0 ? rest.slice(cut) : '';
  const at = main.lastIndexOf('@');
  const user = at >= 0 ? main.slice(0, at).split(':')[0]! : '';
  const hostport = at >= 0 ? main.slice(at + 1) : main;
  const tls = scheme?.[1]?.toLowerCase() === 'sips' || /;transport=tls\b/i.test(params);
  const fallback = tls ? 5061 : 5060;
  let host = hostport;
  let portText = '';
  if (hostport.startsWith('[')) {
    const close = hostport.indexOf(']');
    host = close >= 0 ? hostport.slice(0, close + 1) : hostport;
    const after = close >= 0 ? hostport.slice(close + 1) : '';
    if (after.startsWith(':')) portText = after.slice(1);
  } else {
    const colon = hostport.lastIndexOf(':');
    if (colon >= 0) {
      host = hostport.slice(0, colon);
      portText = hostport.slice(colon + 1);
    }
  }
  const port = /^\d{1,5}$/.test(portText) ? Number(portText) : fallback;
  return { user, host, port };
}

// ---- peers ----

const yn = (v: unknown): 'yes' | 'no' => (/^(yes|true|on|1)$/i.test(String(v ?? '').trim()) ? 'yes' : 'no');

const VIDEO_CODECS = new Set(['h261', 'h263', 'h263p', 'h264', 'h265', 'mpeg4', 'vp8', 'vp9', 'av1']);
const TEXT_CODECS = new Set(['t140', 'red']);

/** `(ulaw|alaw|h264)` (an endpoint's allow as Asterisk dumps it) -> its codec names. */
export function codecs(allow: unknown): string[] {
  return String(allow ?? '')
    .replace(/[()]/g, '')
    .split(/[|,]/)
    .map((c) => c.trim().toLowerCase())
    .filter(Boolean);
}

const registered = (c: Contact) => !c.id.startsWith(`${c.aor}@@`);

/** How good a contact is to reach the peer: reachable first, then not known to be unreachable. */
function rank(c: Contact): number {
  if (c.status === 'Reachable') return 0;
  if (c.status === 'Unreachable') return 2;
  return 1;
}

/** The contact the peer is best reached at: reachable first, registered before static, then the latest registration. */
export function bestContact(contacts: readonly Contact[]): Contact | undefined {
  let best: Contact | undefined;
  for (const c of contacts) {
    if (!best) {
      best = c;
      continue;
    }
    const d = rank(c) - rank(best) || Number(registered(best)) - Number(registered(c)) || best.reg_expire - c.reg_expire;
    if (d < 0) best = c;
  }
  return best;
}

/** `<ip>:<port>` of a contact: where its REGISTER came from, else the host and port of its URI. */
export function contactAddress(c: Contact | undefined): string {
  if (!c) return '';
  if (c.via_address) return c.via_address;
  const u = sipUriParts(c.uri);
  return u.host ? `${u.host}:${u.port}` : '';
}

/** chan_sip's monitor status, from the qualify of the best contact (or, without one, whether the AORs qualify). */
export function monitorStatus(c: Contact | undefined, qualified: boolean): string {
  if (!c) return qualified ? 'UNKNOWN' : 'Unmonitored';
  switch (c.status) {
    case 'Reachable': {
      const usec = Number(c.round_trip_usec);
      // chan_sip never said 0 ms (it counted at least 1)
      return c.round_trip_usec !== '' && Number.isFinite(usec) ? `OK (${Math.max(1, Math.round(usec / 1000))} ms)` : 'UNKNOWN';
    }
    case 'Unreachable':
      return 'UNREACHABLE';
    case 'NonQualified':
      return 'Unmonitored';
    default:
      // Unknown, Created: qualified, no answer yet
      return 'UNKNOWN';
  }
}

/** What a peer is made of: the endpoint, its AORs' options and their contacts. */
export interface PeerSources {
  endpoint: Endpoint;
  aors: { max_contacts: number; qualify_frequency: number }[];
  contacts: Contact[];
}

/** A peer's fields (all but tm_update) from its sources; pure. */
export function peerFields(s: PeerSources): Omit<Peer, 'tm_update'> {
  const ep = s.endpoint;
  const best = bestContact(s.contacts);
  const allow = codecs(ep.allow);
  const maxVideo = typeof ep.max_video_streams === 'number' ? ep.max_video_streams : 1;
  return {
    peer: `PJSIP/${ep.object_name}`,
    status: s.contacts.some(registered) ? 'Registered' : 'Unregistered',
    address: contactAddress(best),
    monitor_status: monitorStatus(
      best,
      s.aors.some((a) => a.qualify_frequency > 0),
    ),
    channel_type: 'PJSIP',
    chan_object_type: 'endpoint',
    dynamic: s.aors.some((a) => a.max_contacts > 0) ? 'yes' : 'no',
    auto_comedia: 'no',
    auto_force_port: 'no',
    acl: String(ep.acl ?? '').trim() ? 'yes' : 'no',
    comedia: yn(ep.rtp_symmetric),
    description: '',
    force_port: yn(ep.force_rport),
    realtime_device: 'no',
    text_support: allow.some((c) => TEXT_CODECS.has(c)) ? 'yes' : 'no',
    video_support: maxVideo > 0 && allow.some((c) => VIDEO_CODECS.has(c)) ? 'yes' : 'no',
  };
}

/** An endpoint name from a peer name: "PJSIP/1001" or "1001". */
export const endpointOfPeer = (peer: string): string => peer.replace(/^pjsip\//i, '');

// ---- registries ----

/** A registration as /registries shows it; `authUser` names the username of an auth (for a client_uri without user). */
export function registryOf(r: Registration, authUser: (auth: string) => string = () => ''): Registry {
  const row = r.row;
  const client = sipUriParts(String(row.client_uri ?? ''));
  const server = sipUriParts(String(row.server_uri ?? ''));
  const username = client.user || authUser(names(row.outbound_auth)[0] ?? '');
  const refresh = Number(row.expiration);
  return {
    account: `${username}@${server.host}:${server.port}`,
    state: String(row.status ?? ''),
    username,
    domain: client.host,
    domain_port: client.port,
    host: server.host,
    port: server.port,
    refresh: Number.isFinite(refresh) && refresh >= 0 ? Math.floor(refresh) : 0,
    registration_time: r.registered_at,
    tm_update: String(row.tm_update ?? ''),
  };
}

// ---- the view: peers with their tm_update, and the events of their changes ----

export class PeerView {
  /** endpoint -> the peer's fields as last seen (JSON) and when they last changed */
  private readonly seen = new Map<string, { sig: string; tm: string }>();

  constructor(
    private readonly state: PjsipState,
    private readonly live: Pick<LiveKit, 'replaying' | 'publish'>,
  ) {}

  private sources(endpoint: Endpoint): PeerSources {
    const aors: PeerSources['aors'] = [];
    const contacts: Contact[] = [];
    for (const name of names(endpoint.aors)) {
      const aor = this.state.aors.get(name);
      if (aor)
        aors.push({
          max_contacts: typeof aor.max_contacts === 'number' ? aor.max_contacts : 0,
          qualify_frequency: typeof aor.qualify_frequency === 'number' ? aor.qualify_frequency : 0,
        });
      contacts.push(...this.state.contactsOfAor(name));
    }
    return { endpoint, aors, contacts };
  }

  /** The best contact of an endpoint's AORs (for the detail route's round-trip refresh). */
  best(name: string): Contact | undefined {
    const ep = this.state.endpoints.get(name);
    return ep ? bestContact(this.sources(ep).contacts) : undefined;
  }

  /**
   * The peer of endpoint `name` as it is now, or undefined. A change since it was last seen gets a new tm_update
   * and is published (pjsip.peer.updated), unless the state is replaying events over a fresh read: the read's own
   * check (after) then sees the result.
   */
  peer(name: string): Peer | undefined {
    const ep = this.state.endpoints.get(name);
    if (!ep) {
      this.seen.delete(name);
      return undefined;
    }
    const fields = peerFields(this.sources(ep));
    const sig = JSON.stringify(fields);
    const was = this.seen.get(name);
    if (was && was.sig === sig) return { ...fields, tm_update: was.tm };
    const peer = { ...fields, tm_update: isoNow() };
    if (this.live.replaying) return peer;
    this.seen.set(name, { sig, tm: peer.tm_update });
    // the first sight of a peer (a full read, a new endpoint) is no change to announce
    if (was) this.live.publish(events.peerUpdated, peer);
    return peer;
  }

  /** Endpoints whose contacts or AORs may have changed: check them now (publishing what changed). */
  check(endpoints: Iterable<string>): void {
    if (this.live.replaying) return;
    for (const n of new Set(endpoints)) if (n) this.peer(n);
  }

  /**
   * After a read of Asterisk (null: a full one): check once the events that overtook the read have been replayed on
   * top of it (they are, synchronously, right after the read's answer is applied).
   */
  afterRead(endpoints: string[] | null): void {
    queueMicrotask(() => {
      if (endpoints) return this.check(endpoints);
      for (const n of [...this.seen.keys()]) if (!this.state.endpoints.has(n)) this.seen.delete(n);
      this.check([...this.state.endpoints.values()].map((e) => e.object_name));
    });
  }

  /** A contact changed or went: check the endpoints it belongs to (its own, and its AOR's). */
  contactChanged(c: Contact | undefined, endpointName?: string): void {
    if (!c) return;
    this.check([c.endpoint_name, this.state.aors.get(c.aor)?.endpoint_name ?? '', endpointName ?? '']);
  }

  /** A registration as /registries shows it. */
  registry(r: Registration): Registry {
    return registryOf(r, (auth) => String(this.state.auths.get(auth)?.username ?? ''));
  }

  /** The registration a /registries key names: its account, its name, or its account without the port. */
  findRegistry(key: string): Registration | undefined {
    const all = [...this.state.registrations.values()];
    const views = all.map((r) => [r, this.registry(r)] as const);
    return (
      views.find(([, v]) => v.account === key)?.[0] ??
      this.state.registrations.get(key) ??
      views.find(([, v]) => `${v.username}@${v.host}` === key)?.[0]
    );
  }
}

// ---- routes ----

export function registerPeerRoutes(
  ctx: { readonly router: Router },
  state: PjsipState,
  view: PeerView,
  /** Re-read an endpoint soon (the kit's debounced read): how old round trips are refreshed. */
  refreshEndpoint: (name: string) => void,
): void {
  const r = ctx.router;

  const peerOr404 = (key: string): Peer => {
    const name = endpointOfPeer(key);
    const peer = view.peer(name);
    if (!peer) throw notFound(`no peer named ${JSON.stringify(key)}`);
    // Asterisk announces a qualify only when the contact's status changes (ContactStatus), so its round trip is the
    // one of the last read of the endpoint: a detail asked for after qualify_frequency re-reads it (once per
    // qualify_frequency at most, and only while someone asks).
    const best = view.best(name);
    if (best?.status === 'Reachable' && best.qualify_frequency > 0) {
      if (Date.now() - state.endpointReadAt(name) > best.qualify_frequency * 1000) refreshEndpoint(name);
    }
    return peer;
  };

  const registryOr404 = (key: string) => {
    const reg = view.findRegistry(key);
    if (!reg) throw notFound(`no registry with account ${JSON.stringify(key)}`);
    return view.registry(reg);
  };

  r.add(
    route({
      method: 'GET',
      path: '/peers',
      summary: 'All SIP peers: one per PJSIP endpoint',
      tags,
      live: true,
      responses: { 200: listOf(PeerListItemSchema) },
      handler: () => ok({ list: [...state.endpoints.values()].map((e) => ({ peer: `PJSIP/${e.object_name}` })) }),
    }),
  );
  // The spec gives the peer in a JSON body of a GET; ?peer= and /peers/<peer> are offered too, since many clients
  // cannot send one.
  r.add(
    route({
      method: 'GET',
      path: '/peers/',
      summary: 'One SIP peer (spec form: {"peer"} in a GET body, or ?peer=)',
      tags,
      live: true,
      body: PeerQuerySchema,
      bodyOptional: true,
      query: { peer: PeerQuerySchema.entries.peer },
      responses: { 200: PeerSchema },
      errors: [404],
      handler: (_c, { body, query }) => {
        const peer = body.peer ?? query.peer;
        if (!peer) throw badRequest('peer: is required (in the JSON body, as ?peer=, or use /peers/<peer>)', { field: 'peer' });
        return ok(peerOr404(peer));
      },
    }),
  );
  r.add(
    route({
      method: 'GET',
      path: '/peers/:peer{[\\s\\S]+}',
      summary: 'One SIP peer',
      tags,
      live: true,
      params: { peer: pathText('the peer: PJSIP/<endpoint> or <endpoint> (the "/" URL-encoded or not)') },
      responses: { 200: PeerSchema },
      errors: [404],
      handler: (_c, { params }) => ok(peerOr404(params.peer)),
    }),
  );

  r.add(
    route({
      method: 'GET',
      path: '/registries',
      summary: 'All SIP registries: one per PJSIP outbound registration',
      tags,
      live: true,
      responses: { 200: listOf(RegistryListItemSchema) },
      handler: () => ok({ list: [...state.registrations.values()].map((reg) => ({ account: view.registry(reg).account })) }),
    }),
  );
  r.add(
    route({
      method: 'GET',
      path: '/registries/',
      summary: 'One SIP registry (spec form: {"account"} in a GET body, or ?account=)',
      tags,
      live: true,
      body: RegistryQuerySchema,
      bodyOptional: true,
      query: { account: RegistryQuerySchema.entries.account },
      responses: { 200: RegistrySchema },
      errors: [404],
      handler: (_c, { body, query }) => {
        const account = body.account ?? query.account;
        if (!account)
          throw badRequest('account: is required (in the JSON body, as ?account=, or use /registries/<account>)', { field: 'account' });
        return ok(registryOr404(account));
      },
    }),
  );
  r.add(
    route({
      method: 'GET',
      path: '/registries/:account{[\\s\\S]+}',
      summary: 'One SIP registry',
      tags,
      live: true,
      params: { account: pathText('<user>@<host>:<port> (the port may be left out), or the name of the registration') },
      responses: { 200: RegistrySchema },
      errors: [404],
      handler: (_c, { params }) => ok(registryOr404(params.account)),
    }),
  );
}
