import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/**
 * Password hashing with scrypt (node:crypto). The cost travels with each hash, so raising
 * it later only changes new hashes; older ones are re-hashed at the next good login.
 */

export interface ScryptCost {
  /** CPU/memory cost, a power of two. */
  N: number;
  r: number;
  p: number;
}

/** Production cost: N=2^15, r=8 (32 MiB, ~50-100 ms on a server core; OWASP's minimum is 2^17 with r=8 p=1 at 128 MiB). */
export const DEFAULT_SCRYPT_COST: ScryptCost = { N: 2 ** 15, r: 8, p: 1 };

const KEY_BYTES = 32;
const SALT_BYTES = 16;

/** What a user record stores: never the password, never returned by an API or logged. */
export interface PasswordHash {
  alg: 'scrypt';
  N: number;
  r: number;
  p: number;
  salt: string;
  hash: string;
}

function derive(password: string, salt: Buffer, cost: ScryptCost): Promise<Buffer> {
  // scrypt needs 128*N*r bytes; Node's default ceiling (32 MiB) is exactly that at 2^15, r=8.
  const opts: ScryptOptions = { ...cost, maxmem: 256 * cost.N * cost.r + 1024 * 1024 };
  // NFC, so the same password typed on two keyboards (composed or decomposed accents) matches.
  const text = password.normalize('NFC');
  return new Promise((resolve, reject) =>
    scrypt(text, salt, KEY_BYTES, opts, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

export async function hashPassword(password: string, cost: ScryptCost): Promise<PasswordHash> {
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, cost);
  return { alg: 'scrypt', ...cost, salt: salt.toString('base64'), hash: key.toString('base64') };
}

/** Constant-time comparison of the derived key with the stored one. */
export async function verifyPassword(password: string, stored: PasswordHash): Promise<boolean> {
  const expected = Buffer.from(stored.hash, 'base64');
  const key = await derive(password, Buffer.from(stored.salt, 'base64'), stored);
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/** True when the stored hash is cheaper than the current cost and should be redone. */
export function needsRehash(stored: PasswordHash, cost: ScryptCost): boolean {
  return stored.N < cost.N || stored.r < cost.r || stored.p < cost.p;
}

/**
 * A hash of a random password nobody knows, at the current cost. Logins for unknown users
 * verify against it, so they take as long as logins for real users and fail the same way.
 */
export function dummyHash(cost: ScryptCost): Promise<PasswordHash> {
  return hashPassword(randomBytes(24).toString('base64'), cost);
}
