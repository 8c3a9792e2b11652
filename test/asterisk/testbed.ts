// A real Asterisk 22 for the integration tests.
//
// Asterisk runs from the Debian sid chroot made by test/asterisk/provision.sh
// (ASTERISK_CHROOT, default /var/cache/asterisk-gateway/sid), as root, in the foreground (-f), without -U/-G
// (with -U root Asterisk drops capabilities and cannot read its 0640 config files).
//
// start()   restores <chroot>/etc/asterisk from <chroot>/etc/asterisk.dist, writes the test configs below,
//           starts Asterisk and waits until AMI answers and FullyBooted is seen.
// restart() starts it again with the config files exactly as they are on disk now.
//
// Only one test bed can run per chroot at a time (one config dir, one ctl socket): start() takes a lock file in the
// chroot and waits for it, so test files that each start a bed are serialised even under `node --test`'s
// parallel file runner. The lock is released by stop().
//
// Everything here uses node: modules only, so it runs on Node 20 (tsx) and on Bun.
import { spawn, spawnSync, execFile, execFileSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface TestbedOptions {
  /** AMI port on 127.0.0.1. Default 15038 (never 5038, so a real PBX on the machine is never touched). */
  amiPort?: number;
  /** Root of the chroot. Default $ASTERISK_CHROOT or /var/cache/asterisk-gateway/sid. */
  chroot?: string;
  /** How long start() waits for FullyBooted. Default 60 s. */
  startTimeoutMs?: number;
  /** How long start() waits for another test bed on the same chroot to stop. Default 15 min. */
  lockTimeoutMs?: number;
  /**
   * Another sample PBX instead of the test configs (TESTBED): file name -> contents, written by start() after
   * manager.conf and modules.conf (which are always the bed's). The demo (deploy/demo/) passes its own.
   */
  configs?: Record<string, string>;
  /** Appended to the bed's manager.conf after its own AMI user, e.g. another [user] section. */
  managerUsers?: string;
}

export const DEFAULT_CHROOT = '/var/cache/asterisk-gateway/sid';
export const DEFAULT_AMI_PORT = 15038;
/** UDP port of the PJSIP transport written into pjsip.conf. */
export const PJSIP_PORT = 15060;

/** Names the test configs define (see the files written by start()). */
export const TESTBED = {
  contexts: {
    /** `exten => _X!,1,Answer()`, then Wait(600). */
    wait: 'gw-test-wait',
    /** Digits: Answer, Park(default). Lower-case names: Answer, Park(<exten>) i.e. the lot of that name. */
    park: 'gw-test-park',
    /** Extension = queue name: Answer, Queue(${EXTEN}). */
    queue: 'gw-test-queue',
    /** Extension = agent id: Answer, AgentLogin(${EXTEN},s). */
    agent: 'gw-test-agent',
    /** What queue member interfaces ring: Answer, Wait(600). */
    member: 'gw-test-member',
    /** AgentRequest(${EXTEN}): the member interface of agent queues. */
    agentRequest: 'gw-agent-req',
    /** comebackcontext of lot gwlot: where its timed-out parked calls go (NoOp, Hangup). */
    parkTimeout: 'gw-parked-timeout',
    /** Call control tests: Answer, Set(GW_SEEN=${GW_IN}), Set(GW_CID=${CALLERID(num)}), Playtones(440), Wait(600). */
    callsAnswer: 'gw-calls-answer',
    /** Busy() without answering. */
    callsBusy: 'gw-calls-busy',
    /** Ringing(), then Wait(600): never answers. */
    callsNoAnswer: 'gw-calls-noanswer',
    /** Congestion() without answering. */
    callsCongestion: 'gw-calls-congestion',
    /** A transfer target: Answer, Set(GW_TRANSFERRED=${EXTEN}), Wait(600). */
    callsTarget: 'gw-calls-target',
    /** Answer, then Dial(Local/${EXTEN}@gw-calls-answer/n,,tT): two channels bridged with transfer features. */
    callsBridge: 'gw-calls-bridge',
  },
  queues: {
    /** ringall, static member Local/100@gw-test-member/n "Static One". */
    main: 'gwq',
    /** Agents 2001 and 2002 via Local/<id>@gw-agent-req/n, state interface Agent:<id>. */
    agents: 'gwq-agents',
    /** No members at all: a caller waits here until hung up (a stable QueueEntry). */
    hold: 'gwq-hold',
  },
  staticMember: { interface: 'Local/100@gw-test-member/n', name: 'Static One' },
  lots: {
    default: { name: 'default', parkext: '700', first: 701, last: 720, parkingtime: 45, context: 'parkedcalls' },
    gwlot: { name: 'gwlot', first: 801, last: 810, parkingtime: 8, context: 'parkedcalls-gw' },
  },
  agents: { '2001': 'Agent One', '2002': 'Agent Two' } as Record<string, string>,
  pjsip: { endpoint: 'gw-ep1', transport: 'gw-udp', port: PJSIP_PORT },
} as const;

type Availability = { ok: true } | { ok: false; reason: string };

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ASTERISK_CMD = ['/usr/sbin/asterisk', '-f', '-C', '/etc/asterisk/asterisk.conf'];
const ANSI = /\x1b\[[0-9;]*[A-Za-z]/g;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

function resolveChroot(opt?: string): string {
  return path.resolve(opt ?? process.env.ASTERISK_CHROOT ?? DEFAULT_CHROOT);
}

/** True if pid exists and is not a zombie. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false; // vanished between the two checks
  }
}

export class AsteriskTestbed {
  readonly chroot: string;
  readonly configDir: string;
  readonly amiPort: number;
  readonly amiUser = 'gwtest';
  readonly amiSecret: string;
  /** Asterisk's stdout/stderr (appended across restarts). */
  readonly logFile: string;
  /** Milliseconds from spawn to FullyBooted of the last start()/restart(). */
  lastStartMs: number | undefined;

  private readonly startTimeoutMs: number;
  private readonly lockTimeoutMs: number;
  private readonly configs: Record<string, string> | undefined;
  private readonly managerUsers: string;
  private child: ChildProcess | undefined;
  private childExit: Promise<void> | undefined;
  private holdsLock = false;
  private readonly onProcessExit = () => this.killSync();

  constructor(opts: TestbedOptions = {}) {
    this.chroot = resolveChroot(opts.chroot);
    this.configDir = path.join(this.chroot, 'etc/asterisk');
    this.amiPort = opts.amiPort ?? DEFAULT_AMI_PORT;
    if (this.amiPort === 5038) throw new Error('AsteriskTestbed: AMI port 5038 is reserved for a real Asterisk; use another');
    this.amiSecret = randomBytes(12).toString('hex');
    this.startTimeoutMs = opts.startTimeoutMs ?? 60_000;
    this.lockTimeoutMs = opts.lockTimeoutMs ?? 15 * 60_000;
    this.configs = opts.configs;
    this.managerUsers = opts.managerUsers ?? '';
    for (const name of Object.keys(this.configs ?? {})) {
      if (name === 'manager.conf' || name === 'modules.conf' || !/^[\w.-]+\.conf$/.test(name))
        throw new Error(`AsteriskTestbed: configs may not name ${JSON.stringify(name)} (manager.conf and modules.conf are the bed's)`);
    }
    this.logFile = path.join(os.tmpdir(), `asterisk-testbed-${this.amiPort}.log`);
  }

  /**
   * Can a test bed run here? Needs Linux, root and the provisioned chroot. If the chroot is missing and we are root,
   * runs test/asterisk/provision.sh (a debootstrap; takes a few minutes, output goes to this process's stderr).
   */
  static available(opts: { chroot?: string } = {}): Availability {
    if (process.platform !== 'linux') return { ok: false, reason: `Asterisk test bed needs Linux (this is ${process.platform})` };
    if (!isRoot()) return { ok: false, reason: 'Asterisk test bed needs root (chroot, and Asterisk runs as root without -U/-G)' };
    const root = resolveChroot(opts.chroot);
    const ready = () => fs.existsSync(path.join(root, 'usr/sbin/asterisk')) && fs.existsSync(path.join(root, 'etc/asterisk.dist'));
    if (!ready()) {
      const script = path.join(HERE, 'provision.sh');
      const r = spawnSync('bash', [script], {
        env: { ...process.env, ASTERISK_CHROOT: root },
        stdio: ['ignore', 'inherit', 'inherit'],
        timeout: 20 * 60_000,
      });
      if (r.error || r.status !== 0 || !ready())
        return { ok: false, reason: `no Asterisk chroot at ${root} and ${script} failed (exit ${r.status ?? r.error?.message})` };
    }
    return { ok: true };
  }

  get pid(): number | undefined {
    return this.child?.pid !== undefined && this.child.exitCode === null && this.child.signalCode === null ? this.child.pid : undefined;
  }

  /** Restore configs from asterisk.dist, write the test (or the given) configs, start Asterisk, wait for FullyBooted. */
  async start(): Promise<void> {
    if (this.pid !== undefined) throw new Error('AsteriskTestbed.start(): already running; use restart()');
    const avail = AsteriskTestbed.available({ chroot: this.chroot });
    if (!avail.ok) throw new Error(avail.reason);
    await this.acquireLock();
    try {
      await this.killStale();
      await this.assertPortFree();
      this.restoreConfigs();
      this.writeTestConfigs();
      this.resetState();
      fs.writeFileSync(this.logFile, '');
      await this.launch();
    } catch (e) {
      await this.killHard();
      this.releaseLock();
      throw e;
    }
  }

  /** Start again with the config files as they are on disk now (nothing is rewritten). */
  async restart(): Promise<void> {
    if (this.pid !== undefined) await this.stop({ keepLock: true });
    if (!this.holdsLock) await this.acquireLock();
    try {
      await this.killStale();
      await this.launch();
    } catch (e) {
      await this.killHard();
      throw e;
    }
  }

  /** Graceful stop (SIGTERM = `core stop now`), SIGKILL if it is not gone after timeoutMs. Releases the lock. */
  async stop(opts: { timeoutMs?: number; keepLock?: boolean } = {}): Promise<void> {
    const child = this.child;
    if (child && this.pid !== undefined) {
      try {
        process.kill(child.pid!, 'SIGTERM');
      } catch {
        /* already gone */
      }
      const exited = await this.waitChildExit(opts.timeoutMs ?? 10_000);
      if (!exited) await this.killHard();
    }
    this.forget();
    if (!opts.keepLock) this.releaseLock();
  }

  /** kill -9 of the running Asterisk (a crash); waits until it is gone. Keeps the lock: restart() follows. */
  async kill9(): Promise<void> {
    await this.killHard();
  }

  /** `asterisk -rx "<cmd>"` inside the chroot; resolves with stdout (rejects on a non-zero exit). */
  cli(cmd: string, timeoutMs = 15_000): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile(
        'chroot',
        [this.chroot, '/usr/sbin/asterisk', '-rx', cmd],
        { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 },
        (err, stdout, stderr) => {
          if (err) reject(new Error(`asterisk -rx ${JSON.stringify(cmd)} failed: ${err.message} ${String(stderr).trim()}`));
          else resolve(String(stdout).replace(ANSI, ''));
        },
      );
    });
  }

  /** Log in to this bed's AMI with the raw test client. */
  async ami(opts: { events?: string } = {}): Promise<RawAmi> {
    const ami = await RawAmi.connect(this.amiPort);
    try {
      await ami.login(this.amiUser, this.amiSecret, opts.events ?? 'on');
    } catch (e) {
      ami.close();
      throw e;
    }
    return ami;
  }

  /** The last lines of Asterisk's stdout/stderr and of its messages.log, ANSI-stripped. */
  logTail(lines = 40): string {
    const tail = (file: string) => {
      try {
        return fs.readFileSync(file, 'utf8').replace(ANSI, '').split('\n').slice(-lines).join('\n').trim();
      } catch {
        return '';
      }
    };
    const out = tail(this.logFile);
    const messages = tail(path.join(this.chroot, 'var/log/asterisk/messages.log'));
    return `--- ${this.logFile} (tail) ---\n${out || '(empty)'}\n--- <chroot>/var/log/asterisk/messages.log (tail) ---\n${messages || '(empty)'}`;
  }

  // ---------------------------------------------------------------------------------------------------------------
  // process handling

  private async launch(): Promise<void> {
    this.ensureRuntimeDirs();
    const fd = fs.openSync(this.logFile, 'a');
    fs.writeSync(fd, `\n===== ${new Date().toISOString()} chroot ${this.chroot} ${ASTERISK_CMD.join(' ')}\n`);
    const t0 = Date.now();
    let child: ChildProcess;
    try {
      child = spawn('chroot', [this.chroot, ...ASTERISK_CMD], {
        detached: true, // own process group: not hit by the test runner's signals
        stdio: ['ignore', fd, fd],
        cwd: '/',
      });
    } finally {
      fs.closeSync(fd);
    }
    this.child = child;
    this.childExit = new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.once('error', () => resolve());
    });
    child.unref(); // never keeps the test process alive; stop() or the exit hook below ends Asterisk
    process.on('exit', this.onProcessExit);
    const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));

    const deadline = t0 + this.startTimeoutMs;
    let lastErr = '';
    while (Date.now() < deadline) {
      if (this.pid === undefined) {
        const err = await Promise.race([spawnError, sleep(10).then(() => undefined)]);
        throw new Error(
          `Asterisk exited during start-up (${err ? err.message : `exit ${child.exitCode ?? child.signalCode}`})\n${this.logTail()}`,
        );
      }
      try {
        await this.waitFullyBooted(Math.max(500, deadline - Date.now()));
        this.lastStartMs = Date.now() - t0;
        return;
      } catch (e) {
        lastErr = (e as Error).message;
        if ((e as { fatal?: boolean }).fatal) break;
        await sleep(100);
      }
    }
    throw new Error(
      `Asterisk did not become ready on AMI 127.0.0.1:${this.amiPort} within ${this.startTimeoutMs} ms (${lastErr})\n${this.logTail()}`,
    );
  }

  /** One attempt: connect, log in, wait for the FullyBooted event (sent right after Login once booted). */
  private async waitFullyBooted(timeoutMs: number): Promise<void> {
    const ami = await RawAmi.connect(this.amiPort, '127.0.0.1', 1000);
    try {
      try {
        await ami.login(this.amiUser, this.amiSecret, 'system');
      } catch (e) {
        const err = new Error(`AMI login as ${this.amiUser} failed: ${(e as Error).message}`);
        (err as Error & { fatal?: boolean }).fatal = /Authentication failed/.test((e as Error).message);
        throw err;
      }
      // At most a few seconds per attempt: a login that lands while Asterisk finishes booting can miss both the
      // FullyBooted sent at login (not yet booted) and the one broadcast at boot (not yet a session): seen once in
      // a restart loop, it then waited out the whole start-up timeout. A new login gets the event at once.
      await ami.waitEvent((m) => m.Event === 'FullyBooted', Math.min(timeoutMs, 5000));
      await ami.logoff();
    } finally {
      ami.close();
    }
  }

  private async waitChildExit(timeoutMs: number): Promise<boolean> {
    if (!this.childExit || this.pid === undefined) return true;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<false>((r) => {
      timer = setTimeout(() => r(false), timeoutMs);
    });
    const ok = await Promise.race([this.childExit.then(() => true as const), timedOut]);
    clearTimeout(timer);
    return ok;
  }

  private async killHard(): Promise<void> {
    const child = this.child;
    if (child && this.pid !== undefined) {
      this.killSync();
      if (!(await this.waitChildExit(10_000))) throw new Error(`Asterisk pid ${child.pid} survived SIGKILL`);
    }
    this.forget();
  }

  private killSync(): void {
    const pid = this.pid;
    if (pid === undefined) return;
    for (const target of [-pid, pid]) {
      try {
        process.kill(target, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }

  private forget(): void {
    this.child = undefined;
    this.childExit = undefined;
    process.removeListener('exit', this.onProcessExit);
  }

  /**
   * Kill every Asterisk left over from a crashed run on this chroot: the pid in its pid file, and any process whose
   * root directory is the chroot and whose name is asterisk (the command line is /usr/sbin/asterisk inside the chroot,
   * so `pgrep -f <chroot>` would not find it).
   */
  private async killStale(): Promise<void> {
    const mine = this.pid;
    const pids = new Set<number>();
    const realRoot = fs.realpathSync(this.chroot);
    try {
      const pf = Number(fs.readFileSync(path.join(this.chroot, 'run/asterisk/asterisk.pid'), 'utf8').trim());
      if (Number.isInteger(pf) && pf > 1) {
        let root = '';
        try {
          root = fs.readlinkSync(`/proc/${pf}/root`);
        } catch {
          /* not there */
        }
        if (root === realRoot) pids.add(pf);
      }
    } catch {
      /* no pid file */
    }
    for (const name of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      const pid = Number(name);
      try {
        if (fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim() !== 'asterisk') continue;
        if (fs.readlinkSync(`/proc/${pid}/root`) === realRoot) pids.add(pid);
      } catch {
        /* raced, or not ours to see */
      }
    }
    if (mine !== undefined) pids.delete(mine);
    pids.delete(process.pid);
    if (pids.size === 0) return;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    const deadline = Date.now() + 10_000;
    while ([...pids].some(alive)) {
      if (Date.now() > deadline) throw new Error(`stale Asterisk processes ${[...pids].filter(alive).join(',')} survive SIGKILL`);
      await sleep(50);
    }
  }

  /** Fail fast (instead of a 60 s wait) when something else listens on the AMI port. */
  private async assertPortFree(): Promise<void> {
    const inUse = await new Promise<boolean>((resolve) => {
      const s = net.connect({ port: this.amiPort, host: '127.0.0.1' });
      s.setTimeout(1000, () => {
        s.destroy();
        resolve(true);
      });
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (inUse) throw new Error(`AMI port 127.0.0.1:${this.amiPort} is already in use by a process that is not this chroot's Asterisk`);
  }

  /** /var/run is a symlink to /run in the chroot: create the dirs under <chroot>/run, never under the host's /run. */
  private ensureRuntimeDirs(): void {
    for (const d of ['run/asterisk', 'var/log/asterisk', 'var/lib/asterisk', 'var/spool/asterisk', 'var/cache/asterisk']) {
      fs.mkdirSync(path.join(this.chroot, d), { recursive: true });
    }
    // The packaged musiconhold.conf plays [default] from <astdatadir>/moh, which the Debian package leaves out;
    // without it Asterisk disables music on hold entirely. One second of u-law silence makes the class load.
    const moh = path.join(this.chroot, 'usr/share/asterisk/moh');
    fs.mkdirSync(moh, { recursive: true });
    const silence = path.join(moh, 'gw-testbed-silence.ulaw');
    if (!fs.existsSync(silence)) fs.writeFileSync(silence, Buffer.alloc(8000, 0xff));
    for (const dev of ['dev/null', 'dev/urandom']) {
      if (!fs.existsSync(path.join(this.chroot, dev))) throw new Error(`${path.join(this.chroot, dev)} is missing (debootstrap makes it)`);
    }
  }

  // ---------------------------------------------------------------------------------------------------------------
  // lock: one test bed per chroot at a time

  private get lockFile(): string {
    return path.join(this.chroot, 'run/asterisk-gateway-testbed.lock');
  }

  private async acquireLock(): Promise<void> {
    if (this.holdsLock) return;
    fs.mkdirSync(path.dirname(this.lockFile), { recursive: true });
    const deadline = Date.now() + this.lockTimeoutMs;
    for (;;) {
      try {
        fs.writeFileSync(this.lockFile, `${process.pid}\n`, { flag: 'wx' });
        this.holdsLock = true;
        process.on('exit', this.releaseLockSync);
        return;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      let owner = NaN;
      try {
        owner = Number(fs.readFileSync(this.lockFile, 'utf8').trim());
      } catch {
        continue; // released meanwhile
      }
      if (!Number.isInteger(owner) || owner <= 0 || owner === process.pid || !alive(owner)) {
        try {
          fs.unlinkSync(this.lockFile); // stale (its process is gone) or a leftover of ours
        } catch {
          /* someone else took it over */
        }
        continue;
      }
      if (Date.now() > deadline)
        throw new Error(`another Asterisk test bed (pid ${owner}) holds ${this.lockFile} for more than ${this.lockTimeoutMs} ms`);
      await sleep(200);
    }
  }

  private readonly releaseLockSync = () => {
    if (!this.holdsLock) return;
    try {
      if (Number(fs.readFileSync(this.lockFile, 'utf8').trim()) === process.pid) fs.unlinkSync(this.lockFile);
    } catch {
      /* already gone */
    }
    this.holdsLock = false;
  };

  private releaseLock(): void {
    this.releaseLockSync();
    process.removeListener('exit', this.releaseLockSync);
  }

  // ---------------------------------------------------------------------------------------------------------------
  // configs

  /** rm -rf etc/asterisk; cp -a etc/asterisk.dist etc/asterisk (keeps the packaged owners and modes). */
  private restoreConfigs(): void {
    const dist = path.join(this.chroot, 'etc/asterisk.dist');
    if (!fs.existsSync(dist)) throw new Error(`${dist} is missing; run test/asterisk/provision.sh`);
    fs.rmSync(this.configDir, { recursive: true, force: true });
    execFileSync('cp', ['-a', dist, this.configDir]);
  }

  /** Clean runtime state so every start() begins alike: astdb (persistent queue members), old logs. */
  private resetState(): void {
    for (const f of ['var/lib/asterisk/astdb.sqlite3', 'var/log/asterisk/messages.log', 'var/log/asterisk/queue_log']) {
      fs.rmSync(path.join(this.chroot, f), { force: true });
    }
  }

  /** Write a config file, keeping the owner and mode of the packaged file it replaces. */
  private writeConfig(name: string, body: string, header = this.testHeader(name)): void {
    fs.writeFileSync(path.join(this.configDir, name), header + body.replace(/^\n+/, ''));
  }

  private testHeader(name: string): string {
    return (
      `; hand-written by the admin: keep me\n` +
      `; (asterisk-gateway test bed: ${name}; tests check that this comment survives gateway edits)\n\n`
    );
  }

  private moduleDir(): string {
    const conf = fs.readFileSync(path.join(this.configDir, 'asterisk.conf'), 'utf8');
    const m = /^\s*astmoddir\s*=>?\s*(\S+)/m.exec(conf);
    return path.join(this.chroot, m ? m[1]! : '/usr/lib/asterisk/modules');
  }

  /**
   * Modules not loaded: ones that open ports or need hardware, databases or servers that a test bed does not have,
   * second implementations of things loaded anyway, and ones that add dialplan of their own.
   * Everything else (res_pjsip_*, app_queue, res_parking, app_agent_pool, ...) autoloads.
   */
  private noloadModules(): string[] {
    const exact = new Set([
      'chan_iax2.so', // binds UDP 4569 on 0.0.0.0
      'chan_unistim.so',
      'chan_motif.so',
      'chan_console.so',
      'chan_mobile.so',
      'chan_dahdi.so',
      'pbx_dundi.so',
      'pbx_lua.so', // would load extensions.lua's demo contexts
      'pbx_ael.so', // would load extensions.ael's demo contexts
      'pbx_realtime.so',
      'app_voicemail_odbc.so', // clashes with app_voicemail (VM_INFO registered twice)
      'app_voicemail_imap.so',
      'app_jack.so',
      'app_festival.so',
      'app_adsiprog.so',
      'app_getcpeid.so',
      'res_odbc.so',
      'res_odbc_transaction.so',
      'func_odbc.so',
      'res_snmp.so',
      'res_xmpp.so',
      'res_smdi.so',
      'res_statsd.so',
      'res_prometheus.so',
      'res_resolver_unbound.so',
      'res_corosync.so',
      'res_http_media_cache.so',
      'res_http_post.so',
      'app_stasis.so', // needs res_ari (not loaded)
      'app_stasis_broadcast.so',
      'res_stasis_broadcast.so',
    ]);
    const prefixes = ['cdr_', 'cel_', 'res_config_', 'res_calendar', 'res_hep', 'res_ari'];
    const keep = new Set(['cdr_csv.so', 'cdr_manager.so', 'cel_manager.so', 'res_config_curl.so']);
    let present: string[];
    try {
      present = fs.readdirSync(this.moduleDir()).filter((f) => f.endsWith('.so'));
    } catch {
      present = [...exact];
    }
    return present.filter((m) => !keep.has(m) && (exact.has(m) || prefixes.some((p) => m.startsWith(p)))).sort();
  }

  private writeTestConfigs(): void {
    const T = TESTBED;
    this.writeConfig(
      'manager.conf',
      `
[general]
enabled = yes
port = ${this.amiPort}
bindaddr = 127.0.0.1
displayconnects = no

[${this.amiUser}]
secret = ${this.amiSecret}
read = all
write = all
${this.managerUsers ? `\n${this.managerUsers}` : ''}`,
    );

    this.writeConfig(
      'modules.conf',
      `
[modules]
autoload = yes
; Not needed by the test bed: they open ports, want hardware/databases/servers, or add demo dialplan.
${this.noloadModules()
  .map((m) => `noload => ${m}`)
  .join('\n')}

[global]
`,
    );

    if (this.configs) {
      for (const [name, body] of Object.entries(this.configs)) this.writeConfig(name, body, '');
      return;
    }

    const ctx = T.contexts;
    this.writeConfig(
      'extensions.conf',
      `
[general]
static = yes
writeprotect = no
autofallthrough = yes
clearglobalvars = no

[globals]

; Calls without phones: AMI Originate a Local/<exten>@<context> channel, e.g.
;   Action: Originate / Channel: Local/1234@gw-test-wait / Application: Wait / Data: 600 / Async: true

[${ctx.wait}]
; answers and waits ten minutes
exten => _X!,1,Answer()
 same => n,Wait(600)
 same => n,Hangup()

[${ctx.park}]
; digits: park in the default lot
exten => _X!,1,Answer()
 same => n,Park(default)
 same => n,Hangup()
; a lot name (e.g. gwlot): park in that lot
exten => _[a-z]!,1,Answer()
 same => n,Park(\${EXTEN})
 same => n,Hangup()

[${ctx.queue}]
; the extension is the queue name: Local/gwq@gw-test-queue enters queue gwq
exten => _[a-z]!,1,Answer()
 same => n,Queue(\${EXTEN})
 same => n,Hangup()

[${ctx.agent}]
; the extension is the agent id: Local/2001@gw-test-agent logs agent 2001 in (silently)
exten => _X!,1,Answer()
 same => n,AgentLogin(\${EXTEN},s)
 same => n,Hangup()

[${ctx.member}]
; queue member interfaces (Local/100@gw-test-member/n) ring here and answer at once
exten => _X!,1,Answer()
 same => n,Wait(600)
 same => n,Hangup()

[${ctx.agentRequest}]
; member interface of agent queues: Local/2001@gw-agent-req/n connects the caller to logged-in agent 2001
exten => _X!,1,AgentRequest(\${EXTEN})
 same => n,Hangup()

[${ctx.callsAnswer}]
; call control tests: answers, shows a variable and the caller id given at originate, plays a tone
exten => _X!,1,Answer()
 same => n,Set(GW_SEEN=\${GW_IN})
 same => n,Set(GW_CID=\${CALLERID(num)})
 same => n,Playtones(440)
 same => n,Wait(600)
 same => n,Hangup()

[${ctx.callsBusy}]
exten => _X!,1,Busy(10)

[${ctx.callsNoAnswer}]
exten => _X!,1,Ringing()
 same => n,Wait(600)

[${ctx.callsCongestion}]
exten => _X!,1,Congestion(10)

[${ctx.callsTarget}]
; where transfers go
exten => _X!,1,Answer()
 same => n,Set(GW_TRANSFERRED=\${EXTEN})
 same => n,Playtones(350+440)
 same => n,Wait(600)
 same => n,Hangup()

[${ctx.callsBridge}]
; two channels in a bridge that allows transfers (t: the called side, T: the caller)
exten => _X!,1,Answer()
 same => n,Dial(Local/\${EXTEN}@${ctx.callsAnswer}/n,,tT)
 same => n,Hangup()

[${ctx.parkTimeout}]
; comebackcontext of lot gwlot: a timed-out parked call ends here
exten => s,1,NoOp(parked call timed out: lot \${PARKEDLOT} space \${PARKING_SPACE})
 same => n,Hangup()
exten => _[A-Za-z0-9].,1,Goto(s,1)
`,
    );

    const agentMembers = Object.entries(T.agents)
      .map(([id, name]) => `member => Local/${id}@${ctx.agentRequest}/n,0,${name},Agent:${id}`)
      .join('\n');
    this.writeConfig(
      'queues.conf',
      `
[general]
persistentmembers = yes
autofill = yes
monitor-type = MixMonitor

[${T.queues.main}]
strategy = ringall
timeout = 15
retry = 1
joinempty = yes
leavewhenempty = no
ringinuse = no
member => ${T.staticMember.interface},0,${T.staticMember.name}

[${T.queues.agents}]
strategy = ringall
timeout = 15
retry = 1
joinempty = yes
leavewhenempty = no
ringinuse = no
${agentMembers}

[${T.queues.hold}]
; no members: callers wait until hung up
strategy = ringall
timeout = 15
joinempty = yes
leavewhenempty = no
ringinuse = no
`,
    );

    const L = T.lots;
    this.writeConfig(
      'res_parking.conf',
      `
[general]

[${L.default.name}]
parkext => ${L.default.parkext}
parkpos => ${L.default.first}-${L.default.last}
context => ${L.default.context}
parkingtime => ${L.default.parkingtime}

[${L.gwlot.name}]
parkpos => ${L.gwlot.first}-${L.gwlot.last}
context => ${L.gwlot.context}
parkingtime => ${L.gwlot.parkingtime}
comebacktoorigin = no
comebackcontext = ${ctx.parkTimeout}
`,
    );

    this.writeConfig(
      'agents.conf',
      `
[general]

${Object.entries(T.agents)
  .map(([id, name]) => `[${id}]\nfullname = ${name}\n`)
  .join('\n')}`,
    );

    // Atxfer (the AMI action) plays the atxfer feature code into the channel: Asterisk has none by default.
    this.writeConfig(
      'features.conf',
      `
[general]
atxferabort => *1
atxfercomplete => *2

[featuremap]
atxfer => *3
`,
    );

    const P = T.pjsip;
    this.writeConfig(
      'pjsip.conf',
      `
[${P.transport}]
type = transport
protocol = udp
bind = 127.0.0.1:${P.port}

[${P.endpoint}]
type = endpoint
transport = ${P.transport}
context = ${ctx.wait}
disallow = all
allow = ulaw
auth = ${P.endpoint}
aors = ${P.endpoint}

[${P.endpoint}]
type = auth
auth_type = userpass
username = ${P.endpoint}
password = ${P.endpoint}-secret

[${P.endpoint}]
type = aor
max_contacts = 1
`,
    );
  }
}

// =================================================================================================================
// A minimal raw AMI client for tests (node:net; deliberately independent of core/ami).

/** One AMI message as a plain object; repeated keys (e.g. Output) are joined with "\n". */
export type AmiMessage = Record<string, string>;

let actionSeq = 0;

export class RawAmi {
  banner = '';
  /** Every unsolicited event received so far (capped at the last 5000). */
  readonly events: Record<string, string>[] = [];
  private buf = '';
  private cur: Array<[string, string]> = [];
  private closed = false;
  private closeError: Error | undefined;
  private readonly responses = new Map<string, (m: Record<string, string>) => void>();
  private readonly listeners = new Set<(m: Record<string, string>) => void>();
  private readonly closeWaiters = new Set<(e: Error) => void>();

  private constructor(private readonly socket: net.Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.onData(chunk));
  }

  /** After the banner: track the connection's end (connect() handles errors until then). */
  private listen(): void {
    const socket = this.socket;
    socket.on('error', (e) => {
      this.closeError ??= e;
    });
    socket.on('close', () => {
      this.closed = true;
      const err = this.closeError ?? new Error('AMI connection closed');
      for (const w of this.closeWaiters) w(err);
      this.closeWaiters.clear();
    });
  }

  static connect(port: number, host = '127.0.0.1', timeoutMs = 3000): Promise<RawAmi> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host });
      let ami: RawAmi | undefined;
      const timer = setTimeout(() => fail(new Error(`AMI ${host}:${port}: no banner within ${timeoutMs} ms`)), timeoutMs);
      const fail = (e: Error) => {
        clearTimeout(timer);
        socket.destroy();
        reject(e);
      };
      socket.once('error', fail);
      socket.once('close', () => fail(new Error(`AMI ${host}:${port}: closed before the banner`)));
      socket.once('connect', () => {
        ami = new RawAmi(socket);
        ami.onBanner = () => {
          clearTimeout(timer);
          socket.removeAllListeners('error');
          socket.removeAllListeners('close');
          ami!.listen();
          resolve(ami!);
        };
      });
    });
  }

  private onBanner: ((banner: string) => void) | undefined;

  get isClosed(): boolean {
    return this.closed;
  }

  private onData(chunk: string): void {
    this.buf += chunk;
    let nl: number;
    while ((nl = this.buf.indexOf('\n')) >= 0) {
      const line = this.buf.slice(0, nl).replace(/\r$/, '');
      this.buf = this.buf.slice(nl + 1);
      if (!this.banner) {
        this.banner = line;
        this.onBanner?.(line);
        continue;
      }
      if (line === '') {
        if (this.cur.length) this.dispatch(this.cur);
        this.cur = [];
        continue;
      }
      const i = line.indexOf(':');
      if (i < 0) this.cur.push(['', line]);
      else this.cur.push([line.slice(0, i), line.slice(i + 1).replace(/^ /, '')]);
    }
  }

  private dispatch(lines: Array<[string, string]>): void {
    const m: Record<string, string> = {};
    for (const [k, v] of lines) m[k] = k in m ? `${m[k]}\n${v}` : v;
    if (m.Response !== undefined && m.ActionID !== undefined && this.responses.has(m.ActionID)) {
      const r = this.responses.get(m.ActionID)!;
      this.responses.delete(m.ActionID);
      r(m);
      return;
    }
    if (m.Event !== undefined) {
      this.events.push(m);
      if (this.events.length > 5000) this.events.splice(0, this.events.length - 5000);
    }
    for (const l of [...this.listeners]) l(m);
  }

  private write(action: Record<string, string | number | boolean | string[]>): void {
    let out = '';
    for (const [k, v] of Object.entries(action)) {
      for (const one of Array.isArray(v) ? v : [v]) {
        const s = String(one);
        if (/[\r\n]/.test(s)) throw new Error(`AMI header ${k} contains CR/LF`);
        out += `${k}: ${s}\r\n`;
      }
    }
    this.socket.write(out + '\r\n');
  }

  private whenClosed(): Promise<never> {
    return new Promise((_, reject) => {
      if (this.closed) reject(this.closeError ?? new Error('AMI connection closed'));
      else this.closeWaiters.add(reject);
    });
  }

  /** Send an action; resolves with its Response message (ActionID is added). */
  send(action: Record<string, string | number | boolean | string[]>, timeoutMs = 10_000): Promise<Record<string, string>> {
    const id = (action.ActionID as string | undefined) ?? `t${process.pid}-${++actionSeq}`;
    return new Promise((resolve, reject) => {
      if (this.closed) return reject(new Error('AMI connection closed'));
      const timer = setTimeout(() => {
        this.responses.delete(id);
        reject(new Error(`AMI ${String(action.Action)}: no response within ${timeoutMs} ms`));
      }, timeoutMs);
      const onClose = (e: Error) => {
        clearTimeout(timer);
        this.responses.delete(id);
        reject(e);
      };
      this.closeWaiters.add(onClose);
      this.responses.set(id, (m) => {
        clearTimeout(timer);
        this.closeWaiters.delete(onClose);
        resolve(m);
      });
      this.write({ ...action, ActionID: id });
    });
  }

  /**
   * A list action: resolves with the ack and the item events, once the event with `EventList: Complete` arrives.
   * An Error response resolves with no events.
   */
  async list(
    action: Record<string, string | number | boolean | string[]>,
    timeoutMs = 10_000,
  ): Promise<{ response: Record<string, string>; events: Record<string, string>[]; complete?: Record<string, string> }> {
    const id = `t${process.pid}-${++actionSeq}`;
    const items: Record<string, string>[] = [];
    let done!: (m: Record<string, string>) => void;
    const completed = new Promise<Record<string, string>>((r) => (done = r));
    const listener = (m: Record<string, string>) => {
      if (m.ActionID !== id || m.Event === undefined) return;
      if (/^complete$/i.test(m.EventList ?? '')) done(m);
      else items.push(m);
    };
    this.listeners.add(listener);
    let timer: NodeJS.Timeout | undefined;
    try {
      const response = await this.send({ ...action, ActionID: id }, timeoutMs);
      if (response.Response !== 'Success') return { response, events: [] };
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`AMI ${String(action.Action)}: list not complete within ${timeoutMs} ms`)), timeoutMs);
      });
      const complete = await Promise.race([completed, timeout, this.whenClosed()]);
      return { response, events: items, complete };
    } finally {
      clearTimeout(timer);
      this.listeners.delete(listener);
    }
  }

  /** Wait for an event matching pred. With includePast (default false), events already received count too. */
  waitEvent(
    pred: (m: Record<string, string>) => boolean,
    timeoutMs = 10_000,
    opts: { includePast?: boolean } = {},
  ): Promise<Record<string, string>> {
    if (opts.includePast) {
      const hit = this.events.find(pred);
      if (hit) return Promise.resolve(hit);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`AMI: no matching event within ${timeoutMs} ms`));
      }, timeoutMs);
      const onClose = (e: Error) => {
        cleanup();
        reject(e);
      };
      const listener = (m: Record<string, string>) => {
        if (m.Event !== undefined && pred(m)) {
          cleanup();
          resolve(m);
        }
      };
      const cleanup = () => {
        clearTimeout(timer);
        this.listeners.delete(listener);
        this.closeWaiters.delete(onClose);
      };
      if (this.closed) return onClose(this.closeError ?? new Error('AMI connection closed'));
      this.listeners.add(listener);
      this.closeWaiters.add(onClose);
    });
  }

  async login(username: string, secret: string, events = 'on'): Promise<Record<string, string>> {
    const r = await this.send({ Action: 'Login', Username: username, Secret: secret, Events: events });
    if (r.Response !== 'Success') throw new Error(`AMI login: ${r.Message ?? r.Response}`);
    return r;
  }

  async logoff(): Promise<void> {
    if (this.closed) return;
    try {
      await this.send({ Action: 'Logoff' }, 2000);
    } catch {
      /* closing anyway */
    }
  }

  /** Wait until the server closes the connection (e.g. Asterisk was killed). */
  waitClosed(timeoutMs = 10_000): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`AMI connection still open after ${timeoutMs} ms`)), timeoutMs);
      this.closeWaiters.add(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  close(): void {
    this.socket.destroy();
  }
}
