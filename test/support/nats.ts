// A real nats-server with JetStream for the fleet tests (Debian's package; test/nats/provision.sh installs it).
// Each server listens on a free loopback port with its own temporary store directory; restart() stops it and starts
// it again on the same port and store, as a broker restart would.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/** Why nats-server cannot run here, or null when it can. Under CI it is mandatory (test/run.sh provisions it). */
export function natsSkipReason(): string | null {
  const r = spawnSync('nats-server', ['--version'], { encoding: 'utf8' });
  if (r.status === 0) return null;
  if (process.env.CI === 'true') throw new Error('CI=true: nats-server is missing (test/nats/provision.sh installs it)');
  return 'nats-server is not installed (test/nats/provision.sh)';
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = net.connect(port, '127.0.0.1');
    c.once('data', (d) => {
      c.destroy();
      resolve(d.toString().startsWith('INFO '));
    });
    c.once('error', () => resolve(false));
    c.setTimeout(1000, () => {
      c.destroy();
      resolve(false);
    });
  });
}

export interface NatsAuth {
  user?: string;
  password?: string;
  token?: string;
}

export class NatsServer {
  readonly storeDir = mkdtempSync(path.join(os.tmpdir(), 'nats-js-'));
  private proc: ChildProcess | null = null;
  private output = '';

  private constructor(
    readonly port: number,
    private readonly auth: NatsAuth,
  ) {}

  static async start(auth: NatsAuth = {}): Promise<NatsServer> {
    const s = new NatsServer(await freePort(), auth);
    await s.run();
    return s;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  private async run(): Promise<void> {
    const args = ['-js', '-a', '127.0.0.1', '-p', String(this.port), '-sd', this.storeDir];
    if (this.auth.user !== undefined) args.push('--user', this.auth.user, '--pass', this.auth.password ?? '');
    if (this.auth.token !== undefined) args.push('--auth', this.auth.token);
    this.output = '';
    const p = spawn('nats-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    p.stdout?.on('data', (d) => (this.output = (this.output + d).slice(-4000)));
    p.stderr?.on('data', (d) => (this.output = (this.output + d).slice(-4000)));
    this.proc = p;
    const until = Date.now() + 15000;
    while (Date.now() < until) {
      if (p.exitCode !== null) throw new Error(`nats-server exited (${p.exitCode}): ${this.output}`);
      if (await accepts(this.port)) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`nats-server did not accept on ${this.port} within 15 s: ${this.output}`);
  }

  /** Stop the server (by its pid: SIGTERM, SIGKILL after 5 s) and wait until it is gone. */
  stop(): Promise<void> {
    return this.end('SIGTERM');
  }

  /** Kill the server (SIGKILL: what it had not read from its sockets is gone) and wait until it is gone. */
  kill(): Promise<void> {
    return this.end('SIGKILL');
  }

  private async end(signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
    const p = this.proc;
    this.proc = null;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const gone = new Promise<void>((r) => p.once('exit', () => r()));
    p.kill(signal);
    const t = signal === 'SIGKILL' ? undefined : setTimeout(() => p.kill('SIGKILL'), 5000);
    await gone;
    clearTimeout(t);
  }

  /** Stop (or kill), then start again on the same port with the same store (a broker restart, or a crash). */
  async restart(downMs = 0, how: 'stop' | 'kill' = 'stop'): Promise<void> {
    await (how === 'kill' ? this.kill() : this.stop());
    if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
    await this.run();
  }

  async close(): Promise<void> {
    await this.stop();
    rmSync(this.storeDir, { recursive: true, force: true });
  }
}
