import { createHmac, timingSafeEqual } from 'node:crypto';
import { CouchError } from '../errors.js';

/**
 * CouchDB's `AuthSession` cookie (couch_httpd_auth.erl, CouchDB 3.3+):
 *   base64url-without-padding( name ":" HEX-SECONDS ":" raw-HMAC )
 * where the HMAC is over `name:HEX-SECONDS`, keyed by the server secret
 * followed by the user's password salt (so a password change ends every
 * session), with the first of `[chttpd_auth] hash_algorithms` (sha256) when
 * minting and any of them (sha256, then sha1 for cookies from before 3.3)
 * when reading. The timestamp is when the cookie was made; it is valid for
 * `timeout` seconds after that and is re-issued once 10% of that has passed.
 */

export const SESSION_COOKIE = 'AuthSession';

export type CookieHash = 'sha256' | 'sha1';

/** CouchDB's default `[chttpd_auth] hash_algorithms = sha256, sha`. */
export const COOKIE_HASHES: readonly CookieHash[] = ['sha256', 'sha1'];

/** A cookie that is not even shaped like one: CouchDB answers 400 rather than ignoring it. */
export class SessionCookieError extends CouchError {
  constructor() {
    super(400, 'bad_request', 'Malformed AuthSession cookie. Please clear your cookies.');
    this.name = 'SessionCookieError';
  }
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

// Plain Uint8Array views: @types/pouchdb-core's global Buffer declaration clashes with Node's.
const u8 = (b: Buffer): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);

function mac(hash: CookieHash, secret: string, salt: string, data: Uint8Array): Uint8Array {
  // The key is the secret's bytes followed by the salt's: one UTF-8 string.
  return u8(
    createHmac(hash, secret + salt)
      .update(data)
      .digest(),
  );
}

export interface MintOptions {
  name: string;
  /** The `salt` of the user's document ('' when it has none, as CouchDB reads it). */
  userSalt: string;
  /** `[chttpd_auth] secret`. */
  secret: string;
  /** Seconds since the epoch; now by default. */
  now?: number;
  hash?: CookieHash;
}

/** The value of a fresh AuthSession cookie. */
export function mintSessionCookie(opts: MintOptions): string {
  // A ':' in the name would make the cookie unreadable as that name.
  if (opts.name.includes(':')) throw new TypeError('a session user name cannot contain ":"');
  // Erlang's integer_to_list(T, 16) writes upper-case hex.
  const data = u8(
    Buffer.from(`${opts.name}:${(opts.now ?? nowSeconds()).toString(16).toUpperCase()}`),
  );
  const hmac = mac(opts.hash ?? 'sha256', opts.secret, opts.userSalt, data);
  const cookie = new Uint8Array(data.length + 1 + hmac.length);
  cookie.set(data);
  cookie[data.length] = 0x3a;
  cookie.set(hmac, data.length + 1);
  return Buffer.from(cookie).toString('base64url');
}

export interface SessionUser {
  salt?: unknown;
}

export interface ReadOptions<U extends SessionUser> {
  /** `[chttpd_auth] secret`; without one CouchDB ignores session cookies. */
  secret: string | undefined;
  /** The user's credentials (their `_users` document, or a configured admin), or null when unknown. */
  lookupUser: (name: string) => U | null | Promise<U | null>;
  /** `[chttpd_auth] timeout`, seconds. */
  timeoutSec: number;
  /** Seconds since the epoch; now by default. */
  now?: number;
  /** Accepted HMACs, CouchDB's default `sha256, sha` unless given. */
  hashes?: readonly CookieHash[];
}

export interface Session<U> {
  name: string;
  user: U;
  /** CouchDB sends a fresh cookie once more than 10% of the timeout has passed. */
  needsRefresh: boolean;
}

const BASE64URL = /^[A-Za-z0-9_-]*$/;
const HEX_TIME = /^[+-]?[0-9A-Fa-f]+$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

function split(value: string): {
  data: Uint8Array;
  name: Uint8Array;
  time: string;
  hmac: Uint8Array;
} {
  if (!BASE64URL.test(value) || value.length % 4 === 1) throw new SessionCookieError();
  const bytes = u8(Buffer.from(value, 'base64url'));
  const first = bytes.indexOf(0x3a);
  const second = first === -1 ? -1 : bytes.indexOf(0x3a, first + 1);
  if (second === -1) throw new SessionCookieError();
  return {
    data: bytes.subarray(0, second),
    name: bytes.subarray(0, first),
    time: Buffer.from(bytes.subarray(first + 1, second)).toString('latin1'),
    hmac: bytes.subarray(second + 1),
  };
}

/**
 * The session an AuthSession cookie value proves, or null when it proves none
 * (expired, forged, unknown user, no secret configured): CouchDB then goes on
 * as if no cookie had been sent. Throws SessionCookieError (400) for a value
 * that does not decode into three ':'-separated parts, as CouchDB does.
 */
export async function readSessionCookie<U extends SessionUser>(
  value: string | undefined,
  opts: ReadOptions<U>,
): Promise<Session<U> | null> {
  if (value === undefined || value === '') return null;
  const parts = split(value);
  if (opts.secret === undefined || opts.secret === '') return null;
  let name: string;
  try {
    name = utf8.decode(parts.name);
  } catch {
    return null;
  }
  const user = await opts.lookupUser(name);
  if (user === null) return null;
  if (!HEX_TIME.test(parts.time)) return null;
  const issued = parseInt(parts.time, 16);
  const now = opts.now ?? nowSeconds();
  if (!(now < issued + opts.timeoutSec)) return null;
  const salt = typeof user.salt === 'string' ? user.salt : '';
  const matches = (opts.hashes ?? COOKIE_HASHES).some((hash) => {
    const expected = mac(hash, opts.secret as string, salt, parts.data);
    return expected.length === parts.hmac.length && timingSafeEqual(expected, parts.hmac);
  });
  if (!matches) return null;
  const left = issued + opts.timeoutSec - now;
  return { name, user, needsRefresh: left < opts.timeoutSec * 0.9 };
}

export interface CookieAttributes {
  /** `[chttpd_auth] timeout`, seconds. */
  timeoutSec: number;
  /** `[chttpd_auth] allow_persistent_cookies`, true by default since 3.0: adds Expires and Max-Age. */
  persistent?: boolean;
  /** Set when the request came over HTTPS, as CouchDB does. */
  secure?: boolean;
  /** `[chttpd_auth] cookie_domain`. */
  domain?: string;
  /** `[chttpd_auth] same_site`: none, lax or strict (any case); anything else adds nothing. */
  sameSite?: string;
  /** Seconds since the epoch, for Expires; now by default. */
  now?: number;
}

const SAME_SITE: Record<string, string> = { none: 'None', lax: 'Lax', strict: 'Strict' };

/**
 * The Set-Cookie header CouchDB sends (mochiweb_cookies:cookie/3 with
 * couch_httpd_auth:cookie_attributes), attributes in mochiweb's order:
 * `AuthSession=…; Version=1; Expires=…; Max-Age=…; Secure; Domain=…; Path=/; HttpOnly; SameSite=…`
 */
export function setCookieHeader(value: string, attrs: CookieAttributes): string {
  const parts = [`${SESSION_COOKIE}=${value}`, 'Version=1'];
  if (attrs.persistent ?? true) {
    const age = Math.max(0, attrs.timeoutSec);
    const expires = new Date(((attrs.now ?? nowSeconds()) + age) * 1000).toUTCString();
    parts.push(`Expires=${expires}`, `Max-Age=${age}`);
  }
  if (attrs.secure) parts.push('Secure');
  if (attrs.domain) parts.push(`Domain=${attrs.domain}`);
  parts.push('Path=/', 'HttpOnly');
  const sameSite = SAME_SITE[(attrs.sameSite ?? '').toLowerCase()];
  if (sameSite) parts.push(`SameSite=${sameSite}`);
  return parts.join('; ');
}

/**
 * What `DELETE /_session` (and a failed login) sends: CouchDB's
 * clear_auth_cookie is an empty AuthSession with the same attributes, which
 * CouchDB then reads as no cookie at all.
 */
export function clearCookieHeader(attrs: CookieAttributes): string {
  return setCookieHeader('', attrs);
}

/** The AuthSession value in a `Cookie` request header, if any. */
export function sessionCookieFromHeader(header: string | string[] | undefined): string | undefined {
  const text = Array.isArray(header) ? header.join('; ') : header;
  if (!text) return undefined;
  for (const pair of text.split(';')) {
    const eq = pair.indexOf('=');
    if (eq === -1 || pair.slice(0, eq).trim() !== SESSION_COOKIE) continue;
    const v = pair.slice(eq + 1).trim();
    return v.length >= 2 && v.startsWith('"') && v.endsWith('"') ? v.slice(1, -1) : v;
  }
  return undefined;
}
