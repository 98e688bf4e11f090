import { CouchError } from '../errors.js';

export interface BasicCredentials {
  name: string;
  password: string;
}

/**
 * A Basic header CouchDB would refuse. CouchDB answers undecodable base64 with
 * 400 `bad_request` (couch_httpd_auth:basic_name_pw), not 401, so this error
 * carries that status; credentials that are not UTF-8 can never match a user
 * created through JSON, so they end where CouchDB ends them: 401.
 */
export class BasicAuthError extends CouchError {
  constructor(status: 400 | 401, error: 'bad_request' | 'unauthorized', reason: string) {
    super(status, error, reason);
    this.name = 'BasicAuthError';
  }
}

// CouchDB matches the scheme as the literal prefix "Basic " (case and all).
const PREFIX = 'Basic ';
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

function decodeBase64(value: string): Buffer {
  const compact = value.replace(/\s+/g, '');
  if (!BASE64.test(compact) || compact.length % 4 === 1) {
    throw new BasicAuthError(400, 'bad_request', 'Authorization header has invalid base64 value');
  }
  return Buffer.from(compact, 'base64');
}

/**
 * The user name and password of an `Authorization: Basic …` header, or null
 * when there is none to try: no header, another scheme, no ':' in the decoded
 * value, or CouchDB's logout pair `_:_`. The password is everything after the
 * first ':' and may itself contain ':'.
 */
export function parseBasicAuth(header: string | string[] | undefined): BasicCredentials | null {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || !value.startsWith(PREFIX)) return null;
  const bytes = decodeBase64(value.slice(PREFIX.length));
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw new BasicAuthError(401, 'unauthorized', 'Name or password is incorrect.');
  }
  const colon = text.indexOf(':');
  if (colon === -1) return null;
  const name = text.slice(0, colon);
  const password = text.slice(colon + 1);
  if (name === '_' && password === '_') return null;
  return { name, password };
}
