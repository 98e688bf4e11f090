import { createHash, createHmac, pbkdf2, randomBytes, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { CouchError } from '../errors.js';

/**
 * Password hashing and checking exactly as CouchDB 3.x stores and checks them
 * in `_users` documents (couch_passwords.erl, couch_users_db.erl,
 * couch_httpd_auth.erl), so a user document replicated between Apache CouchDB
 * and the embedded store keeps working in both.
 */

const pbkdf2Async = promisify(pbkdf2);

/** PRF names as CouchDB writes them in `pbkdf2_prf` ("sha" is SHA-1). */
export type Pbkdf2Prf = 'sha' | 'sha224' | 'sha256' | 'sha384' | 'sha512';

const DIGEST: Record<Pbkdf2Prf, { node: string; bytes: number }> = {
  sha: { node: 'sha1', bytes: 20 },
  sha224: { node: 'sha224', bytes: 28 },
  sha256: { node: 'sha256', bytes: 32 },
  sha384: { node: 'sha384', bytes: 48 },
  sha512: { node: 'sha512', bytes: 64 },
};

const isPrf = (v: unknown): v is Pbkdf2Prf => typeof v === 'string' && Object.hasOwn(DIGEST, v);

/** The fields CouchDB puts on a user document in place of `password`. */
export type HashedPassword = {
  password_scheme: 'pbkdf2';
  pbkdf2_prf: 'sha256' | 'sha';
  salt: string;
  iterations: number;
  derived_key: string;
};

export interface HashOptions {
  iterations: number;
  /** Default sha256, CouchDB 3.4's default; sha1 is stored as CouchDB names it, "sha". */
  prf?: 'sha256' | 'sha1';
  /** Reuse a salt (CouchDB's `preserve_salt`); a new random one otherwise. */
  salt?: string;
}

/** Refusals CouchDB makes while checking a password (403 `forbidden`). */
export class PasswordError extends CouchError {
  constructor(reason: string) {
    super(403, 'forbidden', reason);
    this.name = 'PasswordError';
  }
}

/**
 * PBKDF2 as couch_passwords:pbkdf2/4: the derived key is as long as the PRF's
 * digest and written as lowercase hex. The salt goes in as the text of the
 * stored salt (its hex characters), not the bytes it spells.
 */
export async function pbkdf2Hex(
  password: string,
  salt: string,
  iterations: number,
  prf: Pbkdf2Prf,
  keyLength = DIGEST[prf].bytes,
): Promise<string> {
  const key = await pbkdf2Async(password, salt, iterations, keyLength, DIGEST[prf].node);
  return key.toString('hex');
}

/** The legacy `simple` scheme: hex SHA-1 of password followed by salt. */
export function simpleHash(password: string, salt: string): string {
  return createHash('sha1')
    .update(password + salt)
    .digest('hex');
}

/** CouchDB's couch_uuids:random(): 16 random bytes as 32 lowercase hex characters. */
export function newSalt(): string {
  return randomBytes(16).toString('hex');
}

export async function hashPassword(password: string, opts: HashOptions): Promise<HashedPassword> {
  if (!Number.isSafeInteger(opts.iterations) || opts.iterations < 1) {
    throw new RangeError(`iterations must be a positive integer, got ${opts.iterations}`);
  }
  const prf = opts.prf === 'sha1' ? 'sha' : 'sha256';
  const salt = opts.salt ?? newSalt();
  const derived_key = await pbkdf2Hex(password, salt, opts.iterations, prf);
  return {
    password_scheme: 'pbkdf2',
    pbkdf2_prf: prf,
    salt,
    iterations: opts.iterations,
    derived_key,
  };
}

// Plain Uint8Array views: @types/pouchdb-core's global Buffer declaration clashes with Node's.
const u8 = (b: Buffer): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);

/** Equal-length strings compared in constant time; different lengths are simply unequal. */
function sameText(a: string, b: string): boolean {
  const x = u8(Buffer.from(a, 'utf8'));
  const y = u8(Buffer.from(b, 'utf8'));
  return x.length === y.length && timingSafeEqual(x, y);
}

export interface VerifyOptions {
  /** CouchDB's `[chttpd_auth] min_iterations` (default 1). */
  minIterations?: number;
  /** CouchDB's `[chttpd_auth] max_iterations` (default 1000000000). */
  maxIterations?: number;
  /** Skips PBKDF2 for a password already checked against this revision of the document. */
  cache?: VerifiedCache;
}

type UserDocLike = Readonly<Record<string, unknown>>;

/**
 * Whether `password` is the password of `userDoc`. Schemes and defaults follow
 * couch_httpd_auth:authenticate_int: no `password_scheme` means `simple`; a
 * pbkdf2 document without `pbkdf2_prf` is SHA-1 (CouchDB before 3.4) and
 * without `iterations` used 10000. A PRF CouchDB does not know, or an
 * iteration count outside the configured bounds, is refused with 403 as
 * CouchDB refuses it. Anything else malformed simply does not verify.
 */
export async function verifyPassword(
  password: string,
  userDoc: UserDocLike,
  opts: VerifyOptions = {},
): Promise<boolean> {
  const { cache } = opts;
  const name = userDoc['name'];
  const rev = userDoc['_rev'];
  const cacheable = cache !== undefined && typeof name === 'string' && typeof rev === 'string';
  if (cacheable) {
    const known = cache.check(name, rev, password);
    if (known !== undefined) return known;
  }
  const ok = await verifyAgainstDoc(password, userDoc, opts);
  if (ok && cacheable) cache.remember(name, rev, password);
  return ok;
}

async function verifyAgainstDoc(
  password: string,
  doc: UserDocLike,
  opts: VerifyOptions,
): Promise<boolean> {
  if (typeof password !== 'string') return false;
  const salt = doc['salt'] ?? '';
  if (typeof salt !== 'string') return false;
  const scheme = doc['password_scheme'] ?? 'simple';
  if (scheme === 'simple') {
    const expected = doc['password_sha'];
    return typeof expected === 'string' && sameText(simpleHash(password, salt), expected);
  }
  if (scheme !== 'pbkdf2') return false;

  const prf = doc['pbkdf2_prf'] ?? 'sha';
  if (!isPrf(prf)) throw new PasswordError('PRF is invalid');
  const iterations = doc['iterations'] ?? 10000;
  if (typeof iterations !== 'number' || !Number.isSafeInteger(iterations) || iterations < 1) {
    return false;
  }
  if (iterations < (opts.minIterations ?? 1)) {
    throw new PasswordError('Iteration count is too low for this server');
  }
  if (iterations > (opts.maxIterations ?? 1_000_000_000)) {
    throw new PasswordError('Iteration count is too high for this server');
  }
  const expected = doc['derived_key'];
  if (typeof expected !== 'string') return false;
  return sameText(await pbkdf2Hex(password, salt, iterations, prf), expected);
}

/**
 * Remembers passwords that verified against a given revision of a user
 * document, so Basic authentication on every request does not rerun PBKDF2
 * (CouchDB 3.5 keeps the same kind of cache, couch_passwords_cache). Keyed by
 * user name and `_rev`: any change to the document, a new password above all,
 * makes a new key, and the old entry ages out of the LRU. The password itself
 * is kept only as an HMAC under a key born with the cache and never stored.
 */
export class VerifiedCache {
  readonly #entries = new Map<string, Uint8Array>();
  readonly #key = u8(randomBytes(32));

  constructor(readonly capacity = 4096) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) {
      throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
    }
  }

  get size(): number {
    return this.#entries.size;
  }

  #digest(password: string): Uint8Array {
    return u8(createHmac('sha256', this.#key).update(password, 'utf8').digest());
  }

  /**
   * true: this password verified against this revision before. false: another
   * password did, and one revision has one password, so this one is wrong.
   * undefined: nothing known, run the real check.
   */
  check(name: string, rev: string, password: string): boolean | undefined {
    const id = JSON.stringify([name, rev]);
    const known = this.#entries.get(id);
    if (known === undefined) return undefined;
    this.#entries.delete(id);
    this.#entries.set(id, known);
    return timingSafeEqual(known, this.#digest(password));
  }

  remember(name: string, rev: string, password: string): void {
    const id = JSON.stringify([name, rev]);
    this.#entries.delete(id);
    this.#entries.set(id, this.#digest(password));
    if (this.#entries.size > this.capacity) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
  }

  clear(): void {
    this.#entries.clear();
  }
}
