import { syncErrors, type SyncError } from './errors.js';

/** A /sync request path cut into decoded segments, before anything decides what it means. */
export interface SyncPath {
  /** Path segments after `/sync/`, each percent-decoded exactly once. */
  segments: string[];
  /** True when the path ended with `/` (PouchDB asks `GET /db/` for database info). */
  trailingSlash: boolean;
  /** The query string without `?`, as the client sent it. */
  query: string;
}

export const SYNC_PREFIX = '/sync';

/**
 * Parses the raw request URL, never the router's idea of it: the gateway rebuilds the
 * upstream path from these decoded segments, so what it checked is exactly what CouchDB gets.
 * Empty segments (`//`), `.` and `..` (raw or encoded) and malformed escapes are refused
 * rather than normalised: no client of ours sends them, and normalising is where proxies
 * and CouchDB start to disagree about which database a path names.
 */
export function parseSyncPath(rawUrl: string): SyncPath | SyncError {
  const q = rawUrl.indexOf('?');
  const path = q === -1 ? rawUrl : rawUrl.slice(0, q);
  const query = q === -1 ? '' : rawUrl.slice(q + 1);
  if (path !== SYNC_PREFIX && !path.startsWith(SYNC_PREFIX + '/')) {
    return syncErrors.badPath('not a /sync path');
  }
  let rest = path.slice(SYNC_PREFIX.length + 1);
  const trailingSlash = rest.endsWith('/');
  if (trailingSlash) rest = rest.slice(0, -1);
  if (rest === '') return { segments: [], trailingSlash, query };
  const segments: string[] = [];
  for (const raw of rest.split('/')) {
    if (raw === '') return syncErrors.badPath('empty path segment');
    let segment: string;
    try {
      segment = decodeURIComponent(raw);
    } catch {
      return syncErrors.badPath('malformed percent-encoding in the path');
    }
    if (segment === '.' || segment === '..')
      return syncErrors.badPath('dot segments are not allowed');
    if (segment.includes('\0')) return syncErrors.badPath('NUL in the path');
    segments.push(segment);
  }
  return { segments, trailingSlash, query };
}

/** The query string of a request as the client sent it, without `?`. */
export function rawQuery(rawUrl: string | undefined): string {
  const url = rawUrl ?? '';
  const q = url.indexOf('?');
  return q === -1 ? '' : url.slice(q + 1);
}
