import { createHmac } from 'node:crypto';
import { Internal } from '../errors.js';

/**
 * CouchDB proxy authentication (`{chttpd_auth, proxy_authentication_handler}`): a trusted
 * front names the user and their roles in headers and signs the name with the secret CouchDB
 * shares (`[chttpd_auth] secret`). CouchDB then runs `_security` and `validate_doc_update` as
 * that user, so the gateway never needs the user's password or an admin session.
 */

/** Lowercase hex HMAC-SHA256 of the user name keyed by the proxy secret (CouchDB 3.3+). */
export function proxyToken(name: string, secret: string): string {
  return createHmac('sha256', secret).update(name, 'utf8').digest('hex');
}

/**
 * The three headers for a request on behalf of `name`. Values are UTF-8 bytes carried as
 * latin1, because Node sends header strings byte per char and CouchDB reads the bytes as
 * UTF-8: a name like `Zawadi Ng'ang'a` or a non-ASCII role arrives intact.
 */
export function proxyAuthHeaders(user: {
  name: string;
  roles: readonly string[];
  secret: string;
}): Record<string, string> {
  if (user.roles.some((r) => r.includes(','))) {
    // CouchDB splits the roles header on commas: a comma would forge a second role.
    throw new Internal('a CouchDB role cannot contain a comma');
  }
  return {
    'x-auth-couchdb-username': asHeader(user.name),
    'x-auth-couchdb-roles': asHeader(user.roles.join(',')),
    'x-auth-couchdb-token': proxyToken(user.name, user.secret),
  };
}

function asHeader(text: string): string {
  return Buffer.from(text, 'utf8').toString('latin1');
}
