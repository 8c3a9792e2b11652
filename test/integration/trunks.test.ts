// /manager/trunks against a real Asterisk 22: a trunk created over REST registers (to the test registrar, and with
// MD5 digest to a provider that checks the password), a wrong password is rejected and a PUT of the right one
// fixes it; a call out through the trunk (Originate PJSIP/<number>@<trunk>) reaches the provider, challenged and
// authenticated with the trunk's credentials; a call in from the provider's address lands in the trunk's context
// (identify); deleting the trunks removes exactly their sections and Asterisk no longer has them. The providers
// listen on 127.0.0.2 and 127.0.0.3, so the trunks' identify sections tell them apart from anything on 127.0.0.1.
// Every answer is checked against the gateway's OpenAPI document, every published event against its schema.
//
// Run: flock /tmp/asterisk-test.lock node --import tsx --test test/integration/trunks.test.ts
import assert from 'node:assert/strict';
import { appendFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { skipReason, startBed, type Bed } from '../support/bed.ts';
import { eventually } from '../support/http.ts';
import { startProvider, startRegistrar, type SipProvider } from '../support/sip.ts';

const skip = skipReason() ?? false;
const T = { timeout: 120_000, skip };
const BASE = '/v1/manager/trunks';
/** A context of our own, added to extensions.conf: it does not answer, so an inbound call stays put to be seen. */
const IN_CONTEXT = 'gwt-in';
let bed: Bed;
let original: Buffer;
const closers: (() => void)[] = [];

const pjsipConf = () => readFileSync(path.join(bed.asterisk.configDir, 'pjsip.conf'));

before(
  async () => {
    if (skip) return;
    bed = await startBed({ plugins: ['core', 'pjsip'] });
    appendFileSync(
      path.join(bed.asterisk.configDir, 'extensions.conf'),
      `\n[${IN_CONTEXT}]\n; calls from a trunk's provider: seen, not answered\nexten => _X.,1,NoOp(from a trunk)\n same => n,Wait(600)\n same => n,Hangup()\n`,
    );
    await bed.gateway.ami.command('dialplan reload');
    original = pjsipConf();
  },
  { timeout: 90_000 },
);
after(
  async () => {
    for (const c of closers) c();
    await bed?.close();
  },
  { timeout: 60_000 },
);

async function trunk(name: string): Promise<any> {
  const a = await bed.api.get(`${BASE}/${name}`);
  assert.equal(a.status, 200, a.text);
  return a.body.result;
}

/** Asterisk's own view of an endpoint: its PJSIPShowEndpoint answer, or null when it does not know it. */
async function amiEndpoint(name: string): Promise<Record<string, string> | null> {
  try {
    const r = await bed.gateway.ami.list('PJSIPShowEndpoint', { Endpoint: name });
    return r.events.find((e) => e.fields.Event === 'EndpointDetail')?.fields ?? null;
  } catch (e) {
    if (/Unable to retrieve endpoint/i.test((e as Error).message)) return null;
    throw e;
  }
}

async function provider(opts: Parameters<typeof startProvider>[0]): Promise<SipProvider> {
  const p = await startProvider(opts);
  closers.push(() => p.close());
  return p;
}

test('POST writes the sections in one write and one reload; the trunk registers to the registrar and shows Registered', T, async () => {
  const registrar = await startRegistrar();
  closers.push(() => registrar.close());
  const before = (await bed.api.get(BASE)).body.result.list;
  assert.deepEqual(before, [], 'no trunk in the test bed: gw-ep1 (endpoint, auth, aor) is a phone, not a trunk');
  const backups = (await bed.api.get('/v1/admin/pjsip/configurations')).body.result.list.length;

  const a = await bed.api.post(BASE, {
    name: 'gwt-reg',
    hostname: `127.0.0.1:${registrar.port}`,
    username: 'acct-reg',
    password: 'reg-secret',
    register: true,
    context: IN_CONTEXT,
    qualify_frequency: 0,
  });
  assert.equal(a.status, 200, a.text);
  assert.equal(a.body.result.reload.status, 'done', JSON.stringify(a.body.result.reload));
  assert.match(a.body.result.backup, /^pjsip\.conf\./);
  assert.ok(!a.text.includes('reg-secret'), 'the password is never answered');
  assert.deepEqual(
    a.body.result.sections.map((s: any) => s.type),
    ['endpoint', 'aor', 'auth', 'registration', 'identify'],
  );
  // one write: exactly one backup more
  assert.equal((await bed.api.get('/v1/admin/pjsip/configurations')).body.result.list.length, backups + 1);
  // the file is the old one with the trunk appended: nothing before it moved
  const now = pjsipConf();
  assert.ok(now.subarray(0, original.length).equals(original), 'the rest of pjsip.conf is unchanged');
  assert.match(now.toString(), /\[gwt-reg\]\ntype = auth\nauth_type = userpass\nusername = acct-reg\npassword = reg-secret\n/);

  const t = await eventually(
    async () => {
      const x = await trunk('gwt-reg');
      return x.status.registration === 'Registered' && x;
    },
    30_000,
    'gwt-reg Registered',
  );
  assert.ok(registrar.registers > 0);
  assert.deepEqual(t.status, { loaded: true, registration: 'Registered', qualify: 'NonQualified' });
  assert.equal(t.hostname, `127.0.0.1:${registrar.port}`);
  assert.equal(t.username, 'acct-reg');
  assert.equal(t.register, true);
  assert.equal(t.allow, 'ulaw,alaw');
  // Asterisk's own answer agrees
  const ep = await amiEndpoint('gwt-reg');
  assert.equal(ep?.Context, IN_CONTEXT);
  assert.equal(ep?.OutboundAuth, 'gwt-reg');
  const regs = (await bed.gateway.ami.list('PJSIPShowRegistrationsOutbound')).events.filter(
    (e) => e.fields.Event === 'OutboundRegistrationDetail' && e.fields.ObjectName === 'gwt-reg',
  );
  assert.equal(regs[0]?.fields.Status, 'Registered');
  // and the list has it
  assert.deepEqual(
    (await bed.api.get(BASE)).body.result.list.map((x: any) => x.name),
    ['gwt-reg'],
  );
});

test('a wrong password is rejected (not Registered); a PUT of the right one registers', T, async () => {
  const p = await provider({ host: '127.0.0.3', username: 'acct-bad', password: 'right-secret' });
  const a = await bed.api.post(BASE, {
    name: 'gwt-bad',
    hostname: `127.0.0.3:${p.port}`,
    username: 'acct-bad',
    password: 'wrong-secret',
    register: true,
    context: IN_CONTEXT,
  });
  assert.equal(a.status, 200, a.text);
  const t = await eventually(
    async () => {
      const x = await trunk('gwt-bad');
      return x.status.registration === 'Rejected' && x;
    },
    30_000,
    'gwt-bad Rejected',
  );
  assert.notEqual(t.status.registration, 'Registered');
  assert.ok(
    p.requests.some((r) => r.method === 'REGISTER' && r.text.includes('Authorization:') && !r.authorized),
    'Asterisk sent the wrong password',
  );
  assert.ok(!p.requests.some((r) => r.method === 'REGISTER' && r.authorized));

  // only the password changes: one line of the file
  const before = pjsipConf().toString();
  const put = await bed.api.put(`${BASE}/gwt-bad`, { password: 'right-secret' });
  assert.equal(put.status, 200, put.text);
  assert.ok(!put.text.includes('right-secret'));
  const after = pjsipConf().toString();
  assert.equal(after, before.replace('password = wrong-secret', 'password = right-secret'));
  await eventually(async () => (await trunk('gwt-bad')).status.registration === 'Registered', 30_000, 'gwt-bad Registered after the PUT');
  assert.ok(p.requests.some((r) => r.method === 'REGISTER' && r.authorized));
});

let callProvider: SipProvider;

test('a call out through the trunk reaches the provider, authenticated with the trunk credentials', T, async () => {
  callProvider = await provider({ host: '127.0.0.2', username: 'acct-call', password: 'call-secret', inviteStatus: 486 });
  const p = callProvider;
  const a = await bed.api.post(BASE, {
    name: 'gwt-call',
    hostname: `127.0.0.2:${p.port}`,
    username: 'acct-call',
    password: 'call-secret',
    register: true,
    context: IN_CONTEXT,
    from_user: 'acct-call',
    from_domain: 'provider.example',
    caller_id: '"GW Trunk" <5550100>',
    allow: 'ulaw',
    // Asterisk sends a contact's first OPTIONS at a random moment within one qualify_frequency
    qualify_frequency: 5,
  });
  assert.equal(a.status, 200, a.text);
  // registered, and qualified: the provider answers OPTIONS
  let lastStatus = '';
  await eventually(
    async () => {
      const s = (await trunk('gwt-call')).status;
      lastStatus = JSON.stringify(s);
      return s.registration === 'Registered' && s.qualify === 'Reachable';
    },
    30_000,
    'gwt-call Registered and Reachable',
  ).catch((e) => {
    throw new Error(
      `${e.message}; last status ${lastStatus}; provider saw ${p.requests.map((r) => `${r.method}${r.authorized ? '+' : '-'}`).join(' ')}`,
    );
  });

  await bed.gateway.ami.action('Originate', {
    Channel: 'PJSIP/5551234@gwt-call',
    Application: 'Wait',
    Data: '600',
    Async: 'true',
  });
  const invite = (await eventually(
    () => p.requests.find((r) => r.method === 'INVITE' && r.authorized),
    15_000,
    'an authenticated INVITE at the provider',
  ))!;
  assert.match(invite.ruri, new RegExp(`^sip:5551234@127\\.0\\.0\\.2:${p.port}\\b`));
  assert.match(invite.text, /^From:[^\r\n]*<sip:acct-call@provider\.example>/im, 'from_user and from_domain make From');
  assert.match(invite.text, /^m=audio \d+ RTP\/AVP 0\b/m, 'the offer has ulaw (allow)');
  assert.ok(
    p.requests.some((r) => r.method === 'INVITE' && !r.authorized),
    'the first INVITE was challenged, the second carried the digest of the trunk credentials',
  );
  // the provider answered 486: Asterisk ACKs it and the call is over
  await eventually(() => p.requests.some((r) => r.method === 'ACK'), 10_000, 'the ACK of 486');
});

test("a call in from the provider's address lands in the trunk's context (identify)", T, async () => {
  const p = callProvider;
  assert.ok(p, 'the previous test made the provider');
  const callId = p.invite('5550001');
  const ch = await eventually(
    async () => {
      const a = await bed.api.get('/v1/admin/core/channels');
      return (a.body.result.list as any[]).find((c) => c.channel.startsWith('PJSIP/gwt-call-'));
    },
    15_000,
    'the inbound channel',
  );
  assert.equal(ch.context, IN_CONTEXT);
  assert.equal(ch.exten, '5550001');
  // the trunk's caller_id replaces the provider's (what the endpoint option does to calls that come in)
  assert.equal(ch.caller_id_num, '5550100');
  assert.equal(ch.caller_id_name, 'GW Trunk');
  // hang it up: Asterisk gives the INVITE a final answer, the provider ACKs
  await bed.gateway.ami.action('Hangup', { Channel: ch.channel });
  await eventually(() => (p.answers.get(callId) ?? []).some((s) => s >= 300), 10_000, 'a final answer to the INVITE');
});

test('refusals write nothing: a name that exists (409), a bad hostname, a bracket, CR/LF (400), an unknown trunk (404)', T, async () => {
  const bytes = pjsipConf();
  const cases: [() => Promise<{ status: number; text: string }>, number][] = [
    [() => bed.api.post(BASE, { name: 'gw-ep1', hostname: '127.0.0.9', context: IN_CONTEXT }), 409],
    [() => bed.api.post(BASE, { name: 'gwt-call', hostname: '127.0.0.9', context: IN_CONTEXT }), 409],
    [() => bed.api.post(BASE, { name: 'gwt-x', hostname: 'sip:127.0.0.9', context: IN_CONTEXT }), 400],
    [() => bed.api.post(BASE, { name: 'gwt-x', hostname: '127.0.0.9', context: 'a]b' }), 400],
    [() => bed.api.post(BASE, { name: 'gwt-x', hostname: '127.0.0.9', context: 'in\r\n[evil]' }), 400],
    [() => bed.api.put(`${BASE}/gwt-call`, { hostname: '127.0.0.2:70000' }), 400],
    [() => bed.api.put(`${BASE}/gw-ep1`, { context: IN_CONTEXT }), 404],
    [() => bed.api.del(`${BASE}/gwt-nope`), 404],
  ];
  for (const [call, status] of cases) {
    const a = await call();
    assert.equal(a.status, status, a.text);
  }
  assert.ok(pjsipConf().equals(bytes), 'pjsip.conf is byte-identical after the refusals');
});

test('DELETE removes exactly the trunks sections; Asterisk no longer has them; the rest of pjsip.conf is unchanged', T, async () => {
  for (const name of ['gwt-call', 'gwt-bad', 'gwt-reg']) {
    const a = await bed.api.del(`${BASE}/${name}`);
    assert.equal(a.status, 200, a.text);
    assert.equal(a.body.result.reload.status, 'done');
    assert.ok(a.body.result.sections.length >= 3);
    assert.ok(!pjsipConf().toString().includes(`[${name}]`));
  }
  // the trunks were appended after a blank line, which stays: the rest is byte for byte what it was
  assert.equal(pjsipConf().toString(), `${original.toString()}\n`);
  for (const name of ['gwt-call', 'gwt-bad', 'gwt-reg']) {
    await eventually(async () => (await amiEndpoint(name)) === null, 10_000, `Asterisk forgot ${name}`);
    assert.equal((await bed.api.get(`${BASE}/${name}`)).status, 404);
  }
  const regs = (await bed.gateway.ami.list('PJSIPShowRegistrationsOutbound').catch(() => ({ events: [] }))).events;
  assert.deepEqual(
    regs.filter((e) => e.fields.Event === 'OutboundRegistrationDetail').map((e) => e.fields.ObjectName),
    [],
  );
  assert.ok(!(await bed.asterisk.cli('pjsip show endpoints')).includes('gwt-'));
  await eventually(async () => (await bed.api.get(BASE)).body.result.list.length === 0, 10_000, 'no trunk listed');
  await eventually(
    async () => !((await bed.api.get('/v1/admin/pjsip/endpoints')).body.result.list as any[]).some((e) => e.object_name.startsWith('gwt-')),
    10_000,
    'the live state forgot the endpoints',
  );
});
