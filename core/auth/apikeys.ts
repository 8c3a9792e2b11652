// API keys for machine clients (CRM, wallboard, fleet collector): long-lived secrets that act as a user of one role.
// A key is shown once, when it is created; the store keeps only its hash. A key may be limited to client networks
// (CIDR, IPv4 and IPv6, matched against the socket's address) and may expire; a revoked key is deleted.
import { createHash, randomBytes } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';
import type { Collection, Store, StoredRecord } from '../store/store.ts';
import type { Role } from './accounts.ts';

export interface ApiKeyRecord extends StoredRecord {
  name: string;
  role: Role;
  /** SHA-256 of the key, hex. The key itself is never stored. */
  key_hash: string;
  expires_at: string | null;
  allowed_networks: string[];
  last_used: string | null;
}

/** Every key starts with this, so the auth check knows a key from a session token (and secret scanners find leaks). */
export const KEY_PREFIX = 'gwk_';

/**
 * The stored form of a key. A fast hash is right here, unlike for passwords: a key is 32 random bytes (256 bits), so
 * a stolen store cannot be brute-forced whatever the hash's speed; slow, salted hashes (scrypt for the passwords)
 * only matter for secrets people choose. A fast hash also keeps the check off the event loop's critical path on
 * every request.
 */
export function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

// ---- networks ----

interface Network {
  v6: boolean;
  base: bigint;
  bits: number;
}

function ipv4ToBigInt(s: string): bigint {
  return s.split('.').reduce((n, part) => (n << 8n) | BigInt(Number(part)), 0n);
}

function ipv6ToBigInt(s: string): bigint {
  let text = s.replace(/%.*$/, ''); // a zone index (fe80::1%eth0) is not part of the address
  const v4tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  const dotted = v4tail?.[1];
  if (dotted) {
    const n = ipv4ToBigInt(dotted);
    text = `${text.slice(0, -dotted.length)}${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`;
  }
  const cut = text.indexOf('::');
  const head = cut < 0 ? text : text.slice(0, cut);
  const tail = cut < 0 ? undefined : text.slice(cut + 2);
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return groups.reduce((n, g) => (n << 16n) | BigInt(Number.parseInt(g, 16)), 0n);
}

/** `192.0.2.0/24`, `2001:db8::/32`, or one address (a /32 or /128); undefined when it is not one. */
export function parseNetwork(cidr: string): Network | undefined {
  const m = /^([^/]+)(?:\/(\d{1,3}))?$/.exec(cidr.trim());
  const addr = m?.[1];
  if (!m || !addr) return undefined;
  const prefix = m[2];
  const v6 = isIPv6(addr);
  if (!v6 && !isIPv4(addr)) return undefined;
  const max = v6 ? 128 : 32;
  const bits = prefix === undefined ? max : Number(prefix);
  if (bits > max) return undefined;
  const value = v6 ? ipv6ToBigInt(addr) : ipv4ToBigInt(addr);
  return { v6, bits, base: mask(value, bits, max) };
}

function mask(value: bigint, bits: number, max: number): bigint {
  const shift = BigInt(max - bits);
  return (value >> shift) << shift;
}

/** Whether `address` (as the socket gives it; IPv4-mapped IPv6 counts as IPv4 too) is in one of the networks. */
export function inNetworks(address: string, networks: readonly string[]): boolean {
  const forms: { v6: boolean; value: bigint }[] = [];
  const bare = address.replace(/%.*$/, '');
  if (isIPv4(bare)) forms.push({ v6: false, value: ipv4ToBigInt(bare) });
  else if (isIPv6(bare)) {
    const value = ipv6ToBigInt(bare);
    forms.push({ v6: true, value });
    if (value >> 32n === 0xffffn) forms.push({ v6: false, value: value & 0xffffffffn }); // ::ffff:a.b.c.d
  } else return false;
  return networks.some((cidr) => {
    const net = parseNetwork(cidr);
    return net !== undefined && forms.some((f) => f.v6 === net.v6 && mask(f.value, net.bits, f.v6 ? 128 : 32) === net.base);
  });
}

// ---- the keys ----

/** How often at most a key's last_used is written to disk (it is always current in memory). */
const LAST_USED_FLUSH_MS = 60_000;

export class ApiKeys {
  readonly keys: Collection<ApiKeyRecord>;
  /** key_hash -> record: the check on every request is one hash and one lookup. */
  private readonly byHash = new Map<string, ApiKeyRecord>();
  private readonly flushedAt = new Map<string, number>();

  constructor(
    private readonly store: Store,
    private readonly now: () => number = Date.now,
    private readonly onError: (e: unknown) => void = () => {},
  ) {
    this.keys = store.collection<ApiKeyRecord>('apikeys');
    for (const k of this.keys.all()) this.byHash.set(k.key_hash, k);
  }

  list(): readonly ApiKeyRecord[] {
    return this.keys.all();
  }

  /** A new key: the record, and the key itself, which exists only in this answer. */
  async create(fields: {
    name: string;
    role: Role;
    expires_at: string | null;
    allowed_networks: string[];
  }): Promise<{ record: ApiKeyRecord; key: string }> {
    const key = KEY_PREFIX + randomBytes(32).toString('base64url');
    const record = await this.keys.insert({ ...fields, key_hash: hashKey(key), last_used: null });
    this.byHash.set(record.key_hash, record);
    return { record, key };
  }

  async revoke(id: string): Promise<boolean> {
    const rec = this.keys.get(id);
    if (!rec) return false;
    this.byHash.delete(rec.key_hash);
    this.flushedAt.delete(id);
    return this.keys.remove(id);
  }

  /**
   * The key's identity (its id stands for the user) and role, or undefined: not a key, unknown, revoked, expired, or
   * used from outside its networks. `from` is the client address from the socket; when it is unknown, a key limited
   * to networks is refused.
   */
  resolve(token: string, from: string | undefined): { userUuid: string; roles: Set<Role>; apiKey: true } | undefined {
    if (!token.startsWith(KEY_PREFIX)) return undefined;
    const rec = this.byHash.get(hashKey(token));
    if (!rec) return undefined;
    const now = this.now();
    if (rec.expires_at !== null && Date.parse(rec.expires_at) <= now) return undefined;
    if (rec.allowed_networks.length > 0 && (from === undefined || !inNetworks(from, rec.allowed_networks))) return undefined;
    rec.last_used = new Date(now).toISOString();
    if (now - (this.flushedAt.get(rec.uuid) ?? 0) >= LAST_USED_FLUSH_MS) {
      this.flushedAt.set(rec.uuid, now);
      this.store.flush().catch(this.onError);
    }
    return { userUuid: rec.uuid, roles: new Set([rec.role]), apiKey: true };
  }
}
