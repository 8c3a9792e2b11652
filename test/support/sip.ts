// SIP on loopback for the tests, without phones: a UDP SIP client that REGISTERs with an MD5 digest (a phone), and a
// registrar that accepts every REGISTER (a provider, for outbound registrations and trunks).
import { createHash, randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { TESTBED } from '../asterisk/testbed.ts';

const md5 = (s: string) => createHash('md5').update(s).digest('hex');
const rnd = () => randomBytes(6).toString('hex');

export interface SipUa {
  sock: dgram.Socket;
  port: number;
  callId: string;
  cseq: number;
  tag: string;
}

export async function newUa(): Promise<SipUa> {
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  return { sock, port: sock.address().port, callId: `${rnd()}@gw-pjsip-test`, cseq: 1, tag: rnd() };
}

/** REGISTER `user` at the test bed's transport (expires 0: unregister), answering the digest challenge. */
export async function sipRegister(ua: SipUa, user: string, password: string, expires: number, port = TESTBED.pjsip.port): Promise<string> {
  const ruri = `sip:127.0.0.1:${port}`;
  const build = (auth?: string) =>
    [
      `REGISTER ${ruri} SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${ua.port};branch=z9hG4bK${rnd()};rport`,
      'Max-Forwards: 70',
      `From: <sip:${user}@127.0.0.1>;tag=${ua.tag}`,
      `To: <sip:${user}@127.0.0.1>`,
      `Call-ID: ${ua.callId}`,
      `CSeq: ${ua.cseq++} REGISTER`,
      `Contact: <sip:${user}@127.0.0.1:${ua.port}>`,
      `Expires: ${expires}`,
      'User-Agent: gw-pjsip-test/1.0',
      ...(auth ? [`Authorization: ${auth}`] : []),
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');
  const exchange = (msg: string) =>
    new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        ua.sock.off('message', onMsg);
        reject(new Error('no SIP answer within 5 s'));
      }, 5000);
      const onMsg = (b: Buffer) => {
        const text = b.toString('utf8');
        if (/^SIP\/2\.0 1\d\d/.test(text)) return; // provisional
        if (!text.startsWith('SIP/2.0 ')) return; // a request of Asterisk's (a qualify OPTIONS), not the answer
        clearTimeout(timer);
        ua.sock.off('message', onMsg);
        resolve(text);
      };
      ua.sock.on('message', onMsg);
      ua.sock.send(msg, port, '127.0.0.1');
    });
  let answer = await exchange(build());
  if (/^SIP\/2\.0 401/.test(answer)) {
    const challenge = /^WWW-Authenticate:\s*Digest\s+(.*)$/im.exec(answer)![1]!;
    const p: Record<string, string> = {};
    for (const m of challenge.matchAll(/(\w+)=(?:"([^"]*)"|([^,\s]+))/g)) p[m[1]!] = m[2] ?? m[3]!;
    const ha1 = md5(`${user}:${p.realm}:${password}`);
    const ha2 = md5(`REGISTER:${ruri}`);
    const cnonce = rnd();
    const nc = '00000001';
    const qop = p.qop ? 'auth' : undefined;
    const response = qop ? md5(`${ha1}:${p.nonce}:${nc}:${cnonce}:${qop}:${ha2}`) : md5(`${ha1}:${p.nonce}:${ha2}`);
    const auth =
      `Digest username="${user}", realm="${p.realm}", nonce="${p.nonce}", uri="${ruri}", response="${response}", algorithm=MD5` +
      (qop ? `, qop=${qop}, nc=${nc}, cnonce="${cnonce}"` : '') +
      (p.opaque ? `, opaque="${p.opaque}"` : '');
    answer = await exchange(build(auth));
  }
  return answer.split('\r\n')[0]!;
}

/** The headers of a SIP message named `name` (case-insensitive), whole lines. */
const headerLines = (text: string, name: string) => text.split('\r\n').filter((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`));

/**
 * Answer Asterisk's qualify (OPTIONS) on the UA's socket with 200 OK, as a phone does, so its contact turns
 * Reachable with a round trip. Returns how many OPTIONS were answered so far, and a stop().
 */
export function answerOptions(ua: SipUa): { readonly answered: number; stop(): void } {
  let answered = 0;
  const onMsg = (b: Buffer, from: dgram.RemoteInfo) => {
    const text = b.toString('utf8');
    if (!text.startsWith('OPTIONS ')) return;
    answered++;
    const reply = [
      'SIP/2.0 200 OK',
      ...headerLines(text, 'Via'),
      ...headerLines(text, 'From'),
      ...headerLines(text, 'To').map((l) => (/;tag=/.test(l) ? l : `${l};tag=${rnd()}`)),
      ...headerLines(text, 'Call-ID'),
      ...headerLines(text, 'CSeq'),
      'Allow: INVITE, ACK, CANCEL, BYE, OPTIONS',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');
    ua.sock.send(reply, from.port, from.address);
  };
  ua.sock.on('message', onMsg);
  return {
    get answered() {
      return answered;
    },
    stop: () => ua.sock.off('message', onMsg),
  };
}

const REASONS: Record<number, string> = {
  200: 'OK',
  403: 'Forbidden',
  404: 'Not Found',
  500: 'Server Internal Error',
  503: 'Service Unavailable',
};

/**
 * A registrar on 127.0.0.1 that answers every REGISTER with 200 OK (for the outbound registration), or with
 * `opts.status` (e.g. 403: a provider that refuses the account).
 */
export async function startRegistrar(opts: { status?: number } = {}): Promise<{ port: number; registers: number; close(): void }> {
  const status = opts.status ?? 200;
  if (status !== 200) {
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    const out = { port: sock.address().port, registers: 0, close: () => sock.close() };
    sock.on('message', (b, from) => {
      const text = b.toString('utf8');
      if (!text.startsWith('REGISTER ')) return;
      out.registers++;
      const reply = [
        `SIP/2.0 ${status} ${REASONS[status] ?? 'Refused'}`,
        ...headerLines(text, 'Via'),
        ...headerLines(text, 'From'),
        ...headerLines(text, 'To').map((l) => (/;tag=/.test(l) ? l : `${l};tag=${rnd()}`)),
        ...headerLines(text, 'Call-ID'),
        ...headerLines(text, 'CSeq'),
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n');
      sock.send(reply, from.port, from.address);
    });
    return out;
  }
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  const out = { port: sock.address().port, registers: 0, close: () => sock.close() };
  sock.on('message', (b, from) => {
    const text = b.toString('utf8');
    if (!text.startsWith('REGISTER ')) return;
    out.registers++;
    const hdr = (name: string) => text.split('\r\n').filter((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`));
    const expires = /^Expires:\s*(\d+)/im.exec(text)?.[1] ?? '120';
    const reply = [
      'SIP/2.0 200 OK',
      ...hdr('Via'),
      ...hdr('From'),
      ...hdr('To').map((l) => (/;tag=/.test(l) ? l : `${l};tag=${rnd()}`)),
      ...hdr('Call-ID'),
      ...hdr('CSeq'),
      ...hdr('Contact').map((l) => `${l};expires=${expires}`),
      `Expires: ${expires}`,
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');
    sock.send(reply, from.port, from.address);
  });
  return out;
}

// ---- a SIP provider (for trunks): registrar with digest auth, INVITE responder, and the calls it places ----

/** A request the provider received. */
export interface SipRequestSeen {
  method: string;
  /** The Request-URI, e.g. sip:5551234@127.0.0.2:40000 */
  ruri: string;
  /** The whole message as received. */
  text: string;
  /** Whether it carried a digest that matched the provider's credentials (always true without credentials). */
  authorized: boolean;
  /** Where it came from, host:port. */
  from: string;
}

export interface SipProvider {
  host: string;
  port: number;
  /** Every request received, in order (REGISTER, INVITE, ACK, OPTIONS ...). */
  requests: SipRequestSeen[];
  /** The statuses Asterisk answered to each INVITE sent with invite(), by Call-ID (provisional ones included). */
  answers: Map<string, number[]>;
  /** Send an INVITE with an SDP offer (PCMU) for `number` to Asterisk's transport; resolves with its Call-ID. */
  invite(number: string, opts?: { port?: number; caller?: string }): string;
  close(): void;
}

const PROVIDER_REASONS: Record<number, string> = {
  200: 'OK',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  486: 'Busy Here',
  603: 'Decline',
};

/**
 * A provider on `host` (any 127.x address works on Linux: a trunk's identify can then tell it apart from the phones on
 * 127.0.0.1). With `username` and `password`, REGISTER and INVITE are challenged (401, MD5 digest): a matching digest
 * is answered 200 (REGISTER) or `inviteStatus` (INVITE, default 486 Busy Here), a wrong one 403. Without credentials
 * every REGISTER is 200 and every INVITE `inviteStatus`. OPTIONS, BYE and CANCEL are 200; final answers to its own
 * INVITEs are ACKed.
 */
export async function startProvider(
  opts: { host?: string; username?: string; password?: string; inviteStatus?: number } = {},
): Promise<SipProvider> {
  const host = opts.host ?? '127.0.0.1';
  const inviteStatus = opts.inviteStatus ?? 486;
  const realm = 'gw-test-provider';
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, host, () => r()));
  const port = sock.address().port;
  const requests: SipRequestSeen[] = [];
  const answers = new Map<string, number[]>();
  const nonce = rnd();
  const lines = (text: string) => text.split('\r\n\r\n')[0]!.split('\r\n');
  const headers = (text: string, name: string) => lines(text).filter((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`));
  const header = (text: string, name: string) => headers(text, name)[0]?.replace(/^[^:]+:\s*/, '') ?? '';

  /** The digest of an Authorization header, checked against the credentials: true, false, or undefined (none sent). */
  const digest = (text: string, method: string): boolean | undefined => {
    const auth = header(text, 'Authorization');
    if (!auth) return undefined;
    const p: Record<string, string> = {};
    for (const m of auth.replace(/^Digest\s+/i, '').matchAll(/(\w+)=(?:"([^"]*)"|([^,\s]+))/g)) p[m[1]!] = m[2] ?? m[3]!;
    const ha1 = md5(`${opts.username}:${p.realm}:${opts.password}`);
    const ha2 = md5(`${method}:${p.uri}`);
    const want = p.qop ? md5(`${ha1}:${p.nonce}:${p.nc}:${p.cnonce}:${p.qop}:${ha2}`) : md5(`${ha1}:${p.nonce}:${ha2}`);
    return p.username === opts.username && p.response === want;
  };

  const reply = (req: string, to: dgram.RemoteInfo, status: number, extra: string[] = [], body = '') => {
    const toTag = status === 100 ? (l: string) => l : (l: string) => (/;tag=/i.test(l) ? l : `${l};tag=${rnd()}`);
    const msg = [
      `SIP/2.0 ${status} ${PROVIDER_REASONS[status] ?? 'Answer'}`,
      ...headers(req, 'Via'),
      ...headers(req, 'From'),
      ...headers(req, 'To').map(toTag),
      ...headers(req, 'Call-ID'),
      ...headers(req, 'CSeq'),
      ...extra,
      `Content-Length: ${Buffer.byteLength(body)}`,
      '',
      body,
    ].join('\r\n');
    sock.send(msg, to.port, to.address);
  };

  /** Our own INVITEs, by Call-ID: what an ACK needs. */
  const sent = new Map<string, { branch: string; from: string; ruri: string; cseq: number; to: string }>();

  sock.on('message', (b, from) => {
    const text = b.toString('utf8');
    const first = text.split('\r\n', 1)[0]!;
    const status = /^SIP\/2\.0 (\d{3})/.exec(first);
    if (status) {
      // an answer to one of our INVITEs
      const callId = header(text, 'Call-ID');
      const code = Number(status[1]);
      answers.set(callId, [...(answers.get(callId) ?? []), code]);
      const call = sent.get(callId);
      if (call && code >= 200 && /INVITE/.test(header(text, 'CSeq'))) {
        const ack = [
          `ACK ${call.ruri} SIP/2.0`,
          `Via: SIP/2.0/UDP ${host}:${port};branch=${code < 300 ? `z9hG4bK${rnd()}` : call.branch};rport`,
          'Max-Forwards: 70',
          `From: ${call.from}`,
          `To: ${header(text, 'To')}`,
          `Call-ID: ${callId}`,
          `CSeq: ${call.cseq} ACK`,
          'Content-Length: 0',
          '',
          '',
        ].join('\r\n');
        sock.send(ack, from.port, from.address);
      }
      return;
    }
    const [method = '', ruri = ''] = first.split(' ');
    const checked = opts.username === undefined ? true : digest(text, method);
    requests.push({ method, ruri, text, authorized: checked === true, from: `${from.address}:${from.port}` });
    switch (method) {
      case 'REGISTER':
      case 'INVITE': {
        if (checked === undefined) {
          reply(text, from, 401, [`WWW-Authenticate: Digest realm="${realm}", nonce="${nonce}", algorithm=MD5, qop="auth"`]);
        } else if (!checked) reply(text, from, 403);
        else if (method === 'REGISTER') {
          const expires = /^Expires:\s*(\d+)/im.exec(text)?.[1] ?? '120';
          reply(text, from, 200, [...headers(text, 'Contact').map((l) => `${l};expires=${expires}`), `Expires: ${expires}`]);
        } else reply(text, from, inviteStatus);
        break;
      }
      case 'OPTIONS':
      case 'BYE':
      case 'CANCEL':
        reply(text, from, 200);
        break;
      default:
        break; // ACK: nothing to answer
    }
  });

  return {
    host,
    port,
    requests,
    answers,
    invite(number, o = {}) {
      const target = o.port ?? TESTBED.pjsip.port;
      const callId = `${rnd()}@gw-test-provider`;
      const ruri = `sip:${number}@127.0.0.1:${target}`;
      const branch = `z9hG4bK${rnd()}`;
      const fromHdr = `<sip:${o.caller ?? '15550001111'}@${host}>;tag=${rnd()}`;
      const sdp = [
        'v=0',
        `o=- 1 1 IN IP4 ${host}`,
        's=-',
        `c=IN IP4 ${host}`,
        't=0 0',
        'm=audio 40000 RTP/AVP 0',
        'a=rtpmap:0 PCMU/8000',
        'a=sendrecv',
        '',
      ].join('\r\n');
      sent.set(callId, { branch, from: fromHdr, ruri, cseq: 1, to: `<sip:${number}@127.0.0.1>` });
      const msg = [
        `INVITE ${ruri} SIP/2.0`,
        `Via: SIP/2.0/UDP ${host}:${port};branch=${branch};rport`,
        'Max-Forwards: 70',
        `From: ${fromHdr}`,
        `To: <sip:${number}@127.0.0.1>`,
        `Call-ID: ${callId}`,
        'CSeq: 1 INVITE',
        `Contact: <sip:${o.caller ?? '15550001111'}@${host}:${port}>`,
        'Content-Type: application/sdp',
        `Content-Length: ${Buffer.byteLength(sdp)}`,
        '',
        sdp,
      ].join('\r\n');
      sock.send(msg, target, '127.0.0.1');
      return callId;
    },
    close: () => sock.close(),
  };
}
