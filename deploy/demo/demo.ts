// `npm run demo` (root, Debian/Ubuntu): a real Asterisk 22 with a small sample PBX, the gateway with every plugin on
// it, and a trickle of calls so the lists and the WebSocket have something to show. Ctrl-C stops what it started.
//
// Asterisk runs from the test bed's chroot (test/asterisk/provision.sh makes it once; test/asterisk/testbed.ts starts
// it and takes the chroot's lock, so a demo and the integration tests never run on it together). The gateway is a
// child process (`node --import tsx core/main.ts`, or `bun core/main.ts` under Bun) with a gateway.yaml and data dir
// in a temp dir, logging to <temp>/gateway.log; it logs in to AMI as the [asterisk-gateway] user of
// deploy/manager.conf.example, with exactly the classes given there.
//
// DEMO_PORT: the gateway's port (default 8081). AMI is on the test bed's 127.0.0.1:15038, the phones on udp 15060.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AsteriskTestbed, type RawAmi } from '../../test/asterisk/testbed.ts';
import { BUILTIN_PLUGINS } from '../../core/plugins/builtin.ts';
import { DEMO, demoConfigs } from './pbx.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const MANAGER_EXAMPLE = path.join(ROOT, 'deploy/manager.conf.example');
const AMI_USER = 'asterisk-gateway';
/** A new Local call every TRICKLE_MS; each hangs up by itself after 15-45 s. */
const TRICKLE_MS = 3000;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const out = (line = '') => process.stdout.write(`${line}\n`);

function fail(message: string): never {
  process.stderr.write(`demo: ${message}\n`);
  process.exit(1);
}

/** The [asterisk-gateway] section of deploy/manager.conf.example with its secret replaced. */
function managerUser(secret: string): string {
  const text = fs.readFileSync(MANAGER_EXAMPLE, 'utf8');
  const m = new RegExp(`^\\[${AMI_USER}\\]\\n[^[]*`, 'm').exec(text);
  if (!m) fail(`${MANAGER_EXAMPLE} has no [${AMI_USER}] section`);
  const section = m[0].replace(/^secret\s*=.*$/m, `secret = ${secret}`);
  if (!section.includes(`secret = ${secret}`)) fail(`${MANAGER_EXAMPLE}: [${AMI_USER}] has no secret line`);
  return section;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^[ZX]$/.test(stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3));
  } catch {
    return false;
  }
}

async function main(): Promise<void> {
  const port = Number(process.env.DEMO_PORT ?? 8081);
  if (!Number.isInteger(port) || port < 1 || port > 65535) fail(`DEMO_PORT=${process.env.DEMO_PORT}: not a port`);
  const avail = AsteriskTestbed.available(); // provisions the chroot when it is missing (root)
  if (!avail.ok) fail(avail.reason);

  const amiSecret = randomBytes(18).toString('base64url');
  const adminPassword = randomBytes(9).toString('base64url');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'asterisk-gateway-demo-'));
  const bed = new AsteriskTestbed({ configs: demoConfigs(), managerUsers: managerUser(amiSecret), lockTimeoutMs: 120_000 });

  let gateway: ChildProcess | undefined;
  let ami: RawAmi | undefined;
  let trickle: NodeJS.Timeout | undefined;
  let stopping: Promise<void> | undefined;

  const stopGateway = async () => {
    const g = gateway;
    if (!g?.pid || !alive(g.pid)) return;
    const exited = new Promise<void>((r) => g.once('exit', () => r()));
    if (g.exitCode !== null || g.signalCode !== null) return;
    g.kill('SIGTERM');
    if (await Promise.race([exited.then(() => true), sleep(10_000).then(() => false)])) return;
    g.kill('SIGKILL');
    await Promise.race([exited, sleep(5000)]);
  };
  const stop = (why: string, code: number) => {
    stopping ??= (async () => {
      out(`demo: ${why}: stopping`);
      clearInterval(trickle);
      ami?.close();
      await stopGateway();
      await bed.stop().catch((e: Error) => process.stderr.write(`demo: stopping Asterisk: ${e.message}\n`));
      fs.rmSync(dir, { recursive: true, force: true });
      out('demo: stopped');
      process.exit(code);
    })();
    return stopping;
  };
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => void stop(sig, 0));
  // A crash of the demo itself: the gateway must not outlive it (Asterisk has the test bed's own exit hook).
  process.on('exit', () => {
    if (gateway?.pid && alive(gateway.pid)) gateway.kill('SIGKILL');
  });

  out(`demo: starting Asterisk 22 from ${bed.chroot} (AMI 127.0.0.1:${bed.amiPort})`);
  try {
    await bed.start();
  } catch (e) {
    fs.rmSync(dir, { recursive: true, force: true });
    fail(`Asterisk did not start: ${(e as Error).message}`);
  }

  const file = path.join(dir, 'gateway.yaml');
  fs.writeFileSync(
    file,
    [
      '# asterisk-gateway demo (deploy/demo/demo.ts); the secrets come from the environment',
      `http: { host: 127.0.0.1, port: ${port} }`,
      `ami: { host: 127.0.0.1, port: ${bed.amiPort}, username: ${AMI_USER}, secret: '\${AMI_SECRET}', reconnect_max_ms: 2000 }`,
      `asterisk: { config_dir: ${bed.configDir}, modules_dir: ${path.join(bed.chroot, 'usr/lib/x86_64-linux-gnu/asterisk/modules')} }`,
      `data_dir: ${path.join(dir, 'data')}`,
      "auth: { bootstrap_admin: { username: admin, password: '${GATEWAY_ADMIN_PASSWORD}' } }",
      `plugins: [${BUILTIN_PLUGINS.map((p) => p.name).join(', ')}]`,
      '',
    ].join('\n'),
  );
  const logFile = path.join(dir, 'gateway.log');
  const log = fs.openSync(logFile, 'a');
  const isBun = typeof process.versions.bun === 'string';
  gateway = spawn(process.execPath, [...(isBun ? [] : ['--import', 'tsx']), 'core/main.ts', '--config', file], {
    cwd: ROOT,
    env: { ...process.env, AMI_SECRET: amiSecret, GATEWAY_ADMIN_PASSWORD: adminPassword, LOG_LEVEL: process.env.LOG_LEVEL || 'info' },
    stdio: ['ignore', log, log],
    detached: true, // its own process group: Ctrl-C reaches the demo, which stops it
  });
  fs.closeSync(log);
  gateway.once('exit', (code, signal) => {
    if (stopping) return;
    const tail = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8').split('\n').slice(-15).join('\n') : '';
    process.stderr.write(`demo: the gateway exited (${code ?? signal}); last lines of its log:\n${tail}\n`);
    void stop('gateway exited', 1);
  });

  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (stopping) return;
    try {
      const r = await fetch(`${base}/v1/status`);
      const body = (await r.json()) as { result: { plugins: { live: boolean }[] } };
      if (r.status === 200 && body.result.plugins.every((p) => p.live)) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) return void stop('the gateway did not come up within 90 s', 1);
    await sleep(250);
  }

  // The trickle: Local calls into the demo dialplan. Channel ;1 runs Wait(<life>) and hangs up when it ends, which
  // ends the whole call, so no call outlives its life even when the demo is killed.
  ami = await bed.ami({ events: 'off' });
  const originate = async (exten: string, life: number, n: number) => {
    const r = await ami!.send({
      Action: 'Originate',
      Channel: `Local/${exten}@${DEMO.callsContext}`,
      Application: 'Wait',
      Data: String(life),
      CallerID: `"Demo caller ${n}" <555${String(n).padStart(4, '0')}>`,
      Async: 'true',
    });
    if (r.Response !== 'Success') process.stderr.write(`demo: Originate ${exten}: ${r.Message}\n`);
  };
  for (const id of Object.keys(DEMO.agents).slice(0, 1)) {
    await ami.send({
      Action: 'Originate',
      Channel: `Local/${id}@${DEMO.agentLoginContext}`,
      Application: 'Wait',
      Data: '86400',
      CallerID: `"Agent ${id}" <${id}>`,
      Async: 'true',
    });
  }
  const kinds = [DEMO.exten.wait, DEMO.exten.support, DEMO.exten.park, DEMO.exten.sales, DEMO.exten.support, DEMO.exten.agents];
  let n = 0;
  const next = () => {
    n += 1;
    const life = 15 + Math.floor(Math.random() * 31);
    originate(kinds[(n - 1) % kinds.length]!, life, n).catch((e: Error) => process.stderr.write(`demo: Originate: ${e.message}\n`));
  };
  next();
  trickle = setInterval(next, TRICKLE_MS);

  out('');
  out('asterisk-gateway demo is running');
  out(`  URL:      ${base}/`);
  out(`  docs:     ${base}/v1/docs`);
  out(`  login:    admin / ${adminPassword}   (generated for this run, shown only here)`);
  out(`  try:      curl -s -u 'admin:${adminPassword}' -X POST ${base}/v1/admin/login`);
  out(`            then ${base}/v1/admin/core/channels?authtoken=<authtoken>; events: ws://127.0.0.1:${port}/v1/ws`);
  out(`  asterisk: pid ${bed.pid}, AMI 127.0.0.1:${bed.amiPort}, CLI: chroot ${bed.chroot} asterisk -r`);
  out(`  gateway:  pid ${gateway.pid}, log ${logFile}`);
  out(`  demo:     pid ${process.pid}, files ${dir}`);
  out(`  phones:   PJSIP ${DEMO.phones.join(', ')} (password demo-<ext>) on udp 127.0.0.1:${DEMO.pjsipPort}`);
  out(
    `  calls:    a Local call every ${TRICKLE_MS / 1000} s into ${Object.values(DEMO.exten).join(', ')} (@${DEMO.callsContext}), each hangs up after 15-45 s`,
  );
  out('Ctrl-C stops Asterisk, the gateway and the calls.');
}

main().catch((e: Error) => fail(e.stack ?? e.message));
