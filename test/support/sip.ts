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
