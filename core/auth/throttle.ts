// Login throttling, per username and per client address: the first few failures answer at once, the next ones after
// a growing delay, and past a limit the login is refused with 429 and Retry-After (even with the right password)
// until the lock runs out. A successful login clears the username's and the address's counts. Every failure is logged
// in one line a fail2ban filter can match (deploy/fail2ban/asterisk-gateway.conf):
//   login failed for user "<name>" from <address>
export interface ThrottleOptions {
  /** failures answered at once */
  freeFailures: number;
  /** from this failure on, 429 with Retry-After */
  lockAfter: number;
  /** delay of the first slowed failure; it doubles with each further one */
  delayBaseMs: number;
  /** the first lock; it doubles with each further failure, up to maxLockMs */
  lockBaseMs: number;
  maxLockMs: number;
  /** counts are forgotten after this long without a failure */
  windowMs: number;
}

export const DEFAULT_THROTTLE: ThrottleOptions = {
  freeFailures: 3,
  lockAfter: 6,
  delayBaseMs: 250,
  lockBaseMs: 30_000,
  maxLockMs: 15 * 60_000,
  windowMs: 15 * 60_000,
};

interface Count {
  failures: number;
  last: number;
  lockedUntil: number;
}

const MAX_KEYS = 100_000;

export class LoginThrottle {
  private readonly counts = new Map<string, Count>();

  constructor(
    private readonly opts: ThrottleOptions = DEFAULT_THROTTLE,
    private readonly now: () => number = Date.now,
  ) {}

  private keys(username: string, address: string): string[] {
    return [`u:${username.toLowerCase()}`, `a:${address}`];
  }

  private get(key: string): Count | undefined {
    const c = this.counts.get(key);
    if (c && this.now() - c.last > this.opts.windowMs && c.lockedUntil <= this.now()) {
      this.counts.delete(key);
      return undefined;
    }
    return c;
  }

  /** Seconds until this username or address may try again, or 0. */
  retryAfterS(username: string, address: string): number {
    const now = this.now();
    let until = 0;
    for (const k of this.keys(username, address)) until = Math.max(until, this.get(k)?.lockedUntil ?? 0);
    return until > now ? Math.ceil((until - now) / 1000) : 0;
  }

  /** Record a failure; returns how long to hold the 401 answer (ms). */
  failed(username: string, address: string): number {
    const now = this.now();
    let worst = 0;
    for (const k of this.keys(username, address)) {
      const c = this.get(k) ?? { failures: 0, last: now, lockedUntil: 0 };
      c.failures++;
      c.last = now;
      if (c.failures >= this.opts.lockAfter) {
        const lock = Math.min(this.opts.lockBaseMs * 2 ** (c.failures - this.opts.lockAfter), this.opts.maxLockMs);
        c.lockedUntil = now + lock;
      }
      if (this.counts.size >= MAX_KEYS && !this.counts.has(k)) this.sweep();
      this.counts.set(k, c);
      worst = Math.max(worst, c.failures);
    }
    if (worst <= this.opts.freeFailures || worst >= this.opts.lockAfter) return 0;
    return this.opts.delayBaseMs * 2 ** (worst - this.opts.freeFailures - 1);
  }

  succeeded(username: string, address: string): void {
    for (const k of this.keys(username, address)) this.counts.delete(k);
  }

  private sweep(): void {
    for (const k of [...this.counts.keys()]) this.get(k);
    // still full (an attack from many addresses): forget the oldest half rather than grow without bound
    if (this.counts.size >= MAX_KEYS) {
      const oldest = [...this.counts.entries()].sort((a, b) => a[1].last - b[1].last).slice(0, MAX_KEYS / 2);
      for (const [k] of oldest) this.counts.delete(k);
    }
  }
}

/** A username or address as it may appear in a log line: quoted, without control characters. */
export function logSafe(s: string): string {
  return JSON.stringify(s.replace(/[\u0000-\u001f\u007f]/g, '?').slice(0, 128));
}
