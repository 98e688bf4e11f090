import { createHmac, timingSafeEqual } from 'node:crypto';
import { CouchError } from '../errors.js';
import type { UserCtx } from '../user-ctx.js';

/**
 * CouchDB proxy authentication (couch_httpd_auth:proxy_auth_user, 3.3.2+): a
 * trusted front (Sawa's gateway) names the user and their roles in headers
 * and signs the name with the shared secret. The token is the lowercase hex
 * HMAC of the user name keyed by `[chttpd_auth] secret`, with any of
 * `hash_algorithms` (default `sha256, sha`): SHA-256 is what we mint, SHA-1 is
 * still accepted because CouchDB before 3.3.2 only knew SHA-1 and still
 * accepts it by default, so older gateways keep working.
 *
 * Unlike CouchDB's default (`proxy_use_secret = false`, headers trusted
 * unsigned) the store never trusts unsigned headers: with no secret proxy
 * authentication is off and the headers are ignored.
 */

export const PROXY_HEADERS = {
  userName: 'x-auth-couchdb-username',
  roles: 'x-auth-couchdb-roles',
  token: 'x-auth-couchdb-token',
} as const;

type ProxyHash = 'sha256' | 'sha1';
const HASHES: readonly ProxyHash[] = ['sha256', 'sha1'];

/** Raised only with `rejectBadToken`: a proxy user name whose token is missing or wrong. */
export class ProxyAuthError extends CouchError {
  constructor() {
    super(401, 'unauthorized', 'Invalid or missing X-Auth-CouchDB-Token.');
    this.name = 'ProxyAuthError';
  }
}

export type HeaderBag = Readonly<Record<string, string | string[] | undefined>>;

function header(headers: HeaderBag, name: string): string | undefined {
  for (const [k, v] of Object.entries(headers)) {
    if (k.toLowerCase() === name) return Array.isArray(v) ? v[0] : v;
  }
  return undefined;
}

// Plain Uint8Array views: @types/pouchdb-core's global Buffer declaration clashes with Node's.
const u8 = (b: Buffer): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);

/**
 * Node hands header values over as latin1, one char per byte; CouchDB works on
 * those bytes and reads them as UTF-8. A value with wider characters was made
 * in-process (e.g. by `inject`) and is already text.
 */
function headerBytes(value: string): Uint8Array {
  const wide = /[^\u0000-\u00ff]/.test(value);
  return u8(Buffer.from(value, wide ? 'utf8' : 'latin1'));
}

const hmacHex = (hash: ProxyHash, secret: string, data: Uint8Array) =>
  createHmac(hash, secret).update(data).digest('hex');

/** The X-Auth-CouchDB-Token for `name`: lowercase hex HMAC-SHA256 under the proxy secret. */
export function proxyToken(name: string, secret: string): string {
  return hmacHex('sha256', secret, u8(Buffer.from(name, 'utf8')));
}

/**
 * The three headers for a request made on behalf of `name`, values encoded as
 * CouchDB reads them (UTF-8 bytes, carried as latin1 so Node will send them).
 */
export function proxyAuthHeaders(opts: {
  name: string;
  roles: readonly string[];
  secret: string;
}): Record<string, string> {
  const asHeader = (text: string) => Buffer.from(text, 'utf8').toString('latin1');
  return {
    'X-Auth-CouchDB-UserName': asHeader(opts.name),
    'X-Auth-CouchDB-Roles': asHeader(opts.roles.join(',')),
    'X-Auth-CouchDB-Token': proxyToken(opts.name, opts.secret),
  };
}

/** CouchDB 3.3+ splits roles on commas and the spaces around them, dropping only trailing empties. */
function parseRoles(value: string | undefined): string[] {
  if (value === undefined) return [];
  const roles = value.split(/\s*,\s*/);
  while (roles.length > 0 && roles[roles.length - 1] === '') roles.pop();
  return roles;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function decode(value: string): string | undefined {
  try {
    return utf8.decode(headerBytes(value));
  } catch {
    return undefined;
  }
}

function tokenMatches(token: string | undefined, secret: string, name: Uint8Array): boolean {
  if (token === undefined) return false;
  const given = u8(Buffer.from(token, 'latin1'));
  return HASHES.some((hash) => {
    const expected = u8(Buffer.from(hmacHex(hash, secret, name), 'latin1'));
    return expected.length === given.length && timingSafeEqual(expected, given);
  });
}

export interface ProxyAuthOptions {
  /**
   * Throw ProxyAuthError (401) for a user name with a missing or wrong token.
   * Off by default: CouchDB ignores such headers and lets the next
   * authentication method (cookie, Basic, or none) decide.
   */
  rejectBadToken?: boolean;
}

/**
 * The user context proxy headers prove, or null when they prove nothing: no
 * user-name header, no secret configured, or (CouchDB's behaviour) a missing
 * or wrong token. Roles are taken as given, `_admin` included: the proxy is
 * trusted with them, which is why the secret is required.
 */
export function readProxyAuth(
  headers: HeaderBag,
  secret: string | undefined,
  opts: ProxyAuthOptions = {},
): UserCtx | null {
  const rawName = header(headers, PROXY_HEADERS.userName);
  if (rawName === undefined || rawName === '') return null;
  if (secret === undefined || secret === '') return null;
  const name = decode(rawName);
  const token = header(headers, PROXY_HEADERS.token);
  if (name === undefined || !tokenMatches(token, secret, headerBytes(rawName))) {
    if (opts.rejectBadToken) throw new ProxyAuthError();
    return null;
  }
  const rawRoles = header(headers, PROXY_HEADERS.roles);
  const roles = parseRoles(rawRoles === undefined ? undefined : (decode(rawRoles) ?? rawRoles));
  return { name, roles };
}
