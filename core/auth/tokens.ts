// Auth tokens live in memory with a sliding expiry: each accepted use pushes the deadline forward by token_ttl_s.
import { randomUUID } from 'node:crypto';

interface Session {
  userUuid: string;
  expiresAt: number;
}

export class TokenStore {
  private readonly sessions = new Map<string, Session>();

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  issue(userUuid: string): string {
    this.sweep();
    const token = randomUUID();
    this.sessions.set(token, { userUuid, expiresAt: this.now() + this.ttlMs });
    return token;
  }

  /** The user of a live token, sliding its expiry; undefined for unknown or expired tokens. */
  use(token: string): string | undefined {
    const s = this.sessions.get(token);
    if (!s) return undefined;
    const now = this.now();
    if (s.expiresAt <= now) {
      this.sessions.delete(token);
      return undefined;
    }
    s.expiresAt = now + this.ttlMs;
    return s.userUuid;
  }

  revoke(token: string): boolean {
    return this.sessions.delete(token);
  }

  revokeUser(userUuid: string): void {
    for (const [t, s] of this.sessions) if (s.userUuid === userUuid) this.sessions.delete(t);
  }

  private sweep(): void {
    const now = this.now();
    for (const [t, s] of this.sessions) if (s.expiresAt <= now) this.sessions.delete(t);
  }
}
