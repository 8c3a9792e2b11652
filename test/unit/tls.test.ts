// HTTPS and WSS (http.tls): certificates made here with openssl (a CA, two server certificates, a client
// certificate, a key that belongs to none). The gateway serves HTTPS and WSS, takes a new certificate on reload
// (SIGHUP) without dropping open connections, keeps the old one when the new files are bad, asks for client
// certificates when client_ca_file is set, and refuses to start on a bad or unreadable certificate with one line.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import net from 'node:net';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import type { TLSSocket } from 'node:tls';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import type { Gateway } from '../../core/gateway.ts';
import { gatewayIn } from '../support/gateway.ts';
import { testLogger } from '../support/log.ts';

declare const Bun: unknown;
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
let dir: string;
const f = (name: string) => path.join(dir, name);

function openssl(...args: string[]): void {
  const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
  assert.equal(r.status, 0, `openssl ${args.join(' ')}: ${r.stderr}`);
}

/** A key and a certificate for `cn` signed by the test CA (server certificates name 127.0.0.1 and localhost). */
function issue(name: string, cn: string, server: boolean): void {
  openssl('req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-subj', `/CN=${cn}`, '-out', `${name}.csr`);
  writeFileSync(f(`${name}.ext`), server ? 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' : 'extendedKeyUsage=clientAuth\n');
  openssl(
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    `${name}.ext`,
    '-out',
    `${name}.crt`,
  );
}

before(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'gw-tls-'));
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-subj', '/CN=gw-test-ca', '-days', '2', '-out', 'ca.crt');
  issue('one', 'gw-one', true);
  issue('two', 'gw-two', true);
  issue('client', 'gw-client', false);
  openssl('genrsa', '-out', 'stray.key', '2048');
  copyFileSync(f('one.crt'), f('server.crt'));
  copyFileSync(f('one.key'), f('server.key'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function yaml(tls: string): string {
  return `http: {host: 127.0.0.1, port: 0, tls: {${tls}}}
ami: {host: 127.0.0.1, port: 1, username: u, secret: s}
data_dir: ${dir}/data
asterisk: {config_dir: ${dir}}
auth: {bootstrap_admin: {username: admin, password: 'admin-pass'}}
plugins: [core, users]
`;
}

async function startGateway(tls: string): Promise<{ gw: Gateway; port: number }> {
  const gw = await gatewayIn(dir, yaml(tls), ['core', 'users'], { logger: testLogger('tls') });
  const server = await gw.start();
  assert.equal(server.scheme, 'https');
  return { gw, port: server.port };
}

interface Got {
  status: number;
  body: string;
  cn: string | undefined;
}

/** A GET over a new TLS connection trusting the test CA; `client` adds the client certificate. */
function get(port: number, p: string, opts: { client?: boolean; headers?: Record<string, string> } = {}): Promise<Got> {
  return new Promise((resolve, reject) => {
    const req = https.get(
      {
        host: '127.0.0.1',
        port,
        path: p,
        ca: readCa(),
        agent: false,
        headers: opts.headers,
        ...(opts.client ? { cert: read('client.crt'), key: read('client.key') } : {}),
      },
      (res) => {
        const cn = (res.socket as TLSSocket).getPeerCertificate?.()?.subject?.CN;
        let body = '';
        res.on('data', (d) => {
          body += d;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, cn: typeof cn === 'string' ? cn : undefined }));
      },
    );
    req.on('error', reject);
  });
}

const read = (name: string) => readFileSync(f(name));
const readCa = () => read('ca.crt');

test('HTTPS and WSS; a reload takes the new certificate without dropping an open socket; bad files keep the old one', async () => {
  const { gw, port } = await startGateway(`cert_file: server.crt, key_file: server.key`);
  try {
    const status = await get(port, '/v1/status');
    assert.equal(status.status, 200);
    assert.equal(JSON.parse(status.body).statuscode, 200);
    assert.equal(status.cn, 'gw-one');

    const login = await new Promise<Got>((resolve, reject) => {
      const req = https.request(
        {
          host: '127.0.0.1',
          port,
          path: '/v1/admin/login',
          method: 'POST',
          ca: readCa(),
          agent: false,
          headers: { authorization: `Basic ${Buffer.from('admin:admin-pass').toString('base64')}` },
        },
        (res) => {
          let body = '';
          res.on('data', (d) => {
            body += d;
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body, cn: undefined }));
        },
      );
      req.on('error', reject);
      req.end();
    });
    assert.equal(login.status, 200);
    const token = JSON.parse(login.body).result.authtoken as string;

    const ws = new WebSocket(`wss://127.0.0.1:${port}/v1/ws?authtoken=${token}`, { ca: readCa() });
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });

    // SIGHUP's work: the files now hold certificate two
    copyFileSync(f('two.crt'), f('server.crt'));
    copyFileSync(f('two.key'), f('server.key'));
    await gw.reloadTls();
    assert.equal((await get(port, '/v1/status')).cn, 'gw-two', 'new connections get the new certificate');
    assert.equal(ws.readyState, WebSocket.OPEN, 'the open WSS socket was not dropped');
    const acked = new Promise<{ type: string }>((resolve) => ws.once('message', (d) => resolve(JSON.parse(String(d)))));
    ws.send(JSON.stringify({ type: 'subscribe', topic: 'core.' }));
    assert.equal((await acked).type, 'ack', 'and it still answers');

    // a key that does not belong to the certificate: the reload is refused, the old certificate stays
    copyFileSync(f('stray.key'), f('server.key'));
    await assert.rejects(gw.reloadTls(), /do not make a usable certificate and key/);
    assert.equal((await get(port, '/v1/status')).cn, 'gw-two');
    copyFileSync(f('two.key'), f('server.key'));
    ws.close();
  } finally {
    await gw.stop();
  }
});

test('client_ca_file: a client without a certificate from that CA is refused; with one it is served', async () => {
  const { gw, port } = await startGateway(`cert_file: one.crt, key_file: one.key, client_ca_file: ca.crt`);
  try {
    await assert.rejects(get(port, '/v1/status'), 'no client certificate: the handshake fails');
    const ok = await get(port, '/v1/status', { client: true });
    assert.equal(ok.status, 200);
  } finally {
    await gw.stop();
  }
});

test('a bad or unreadable certificate stops start-up with one line naming the key', () => {
  const runner = typeof Bun !== 'undefined' ? [process.execPath] : [process.execPath, '--import', 'tsx'];
  const cases: [string, RegExp][] = [
    ['cert_file: missing.crt, key_file: one.key', /^asterisk-gateway: http\.tls\.cert_file: cannot read .*missing\.crt: ENOENT$/],
    [
      'cert_file: one.crt, key_file: stray.key',
      /^asterisk-gateway: http\.tls: .*one\.crt and .*stray\.key do not make a usable certificate and key: /,
    ],
    ['cert_file: one.key, key_file: one.key', /^asterisk-gateway: http\.tls\.cert_file: .*one\.key holds no PEM certificate$/],
  ];
  for (const [tls, line] of cases) {
    writeFileSync(f('bad.yaml'), yaml(tls));
    const r = spawnSync(runner[0]!, [...runner.slice(1), path.join(ROOT, 'core/main.ts'), '--config', f('bad.yaml')], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, LOG_LEVEL: 'silent', LOG_FILE: '' },
      timeout: 60000,
    });
    assert.equal(r.status, 2, `${tls}: exit ${r.status}, stderr ${r.stderr}`);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, line);
  }
});

test('SIGHUP to the running gateway (core/main.ts) swaps the certificate; the process keeps serving', async () => {
  copyFileSync(f('one.crt'), f('hup.crt'));
  copyFileSync(f('one.key'), f('hup.key'));
  const port = await new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
  writeFileSync(f('hup.yaml'), yaml('cert_file: hup.crt, key_file: hup.key').replace('port: 0', `port: ${port}`));
  const runner = typeof Bun !== 'undefined' ? [process.execPath] : [process.execPath, '--import', 'tsx'];
  const child = spawn(runner[0]!, [...runner.slice(1), path.join(ROOT, 'core/main.ts'), '--config', f('hup.yaml')], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'info', LOG_FILE: f('hup.log') },
    stdio: 'ignore',
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    let first: Got | undefined;
    for (let i = 0; i < 200 && !first; i++) {
      first = await get(port, '/v1/status').catch(() => undefined);
      if (!first) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(first?.cn, 'gw-one');
    copyFileSync(f('two.crt'), f('hup.crt'));
    copyFileSync(f('two.key'), f('hup.key'));
    child.kill('SIGHUP');
    let cn: string | undefined;
    for (let i = 0; i < 100 && cn !== 'gw-two'; i++) {
      await new Promise((r) => setTimeout(r, 50));
      cn = (await get(port, '/v1/status').catch(() => undefined))?.cn;
    }
    assert.equal(cn, 'gw-two');
    assert.match(readFileSync(f('hup.log'), 'utf8'), /"msg":"SIGHUP: TLS certificate reloaded"/);
  } finally {
    child.kill('SIGTERM');
  }
  assert.equal(await exited, 0, 'SIGTERM: a clean exit');
});
