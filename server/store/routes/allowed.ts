/**
 * Which methods CouchDB answers on a path, for its `405 method_not_allowed`
 * (chttpd:send_method_not_allowed): a path the store knows, asked with a
 * method it does not serve there, is a 405 with `Allow`, not a 404.
 */
// Maps, not objects: a database or document named `toString` is not a method list.
const DB_ENDPOINTS = new Map<string, string>(
  Object.entries({
    _all_docs: 'GET,HEAD,POST',
    _design_docs: 'GET,HEAD,POST',
    _local_docs: 'GET,HEAD,POST',
    _bulk_docs: 'POST',
    _bulk_get: 'POST',
    _revs_diff: 'POST',
    _missing_revs: 'POST',
    _purge: 'POST',
    _find: 'POST',
    _explain: 'POST',
    _ensure_full_commit: 'POST',
    _compact: 'POST',
    _view_cleanup: 'POST',
    _changes: 'GET,POST,HEAD',
    _security: 'PUT,GET',
    _revs_limit: 'PUT,GET',
    _index: 'GET,POST',
  }),
);

const SERVER_ENDPOINTS = new Map<string, string>(
  Object.entries({
    _session: 'GET,HEAD,POST,DELETE',
    _all_dbs: 'GET,HEAD',
    _uuids: 'GET',
    _up: 'GET',
    _db_updates: 'GET,POST',
  }),
);

const DOC = 'DELETE,GET,HEAD,POST,PUT,COPY';
const ATTACHMENT = 'DELETE,GET,HEAD,PUT';

export function allowedMethods(path: string): string | null {
  const parts = path.split('?')[0]!.split('/').filter(Boolean);
  const [first, second, third, fourth] = parts;
  if (first === undefined) return 'GET,HEAD';
  if (parts.length === 1) return SERVER_ENDPOINTS.get(first) ?? 'DELETE,GET,HEAD,POST,PUT';
  if (first.startsWith('_') && SERVER_ENDPOINTS.has(first)) return null;
  if (second === '_design' || second === '_local') {
    if (parts.length === 3) return DOC;
    if (second === '_design' && fourth === '_view' && parts.length === 5) return 'GET,POST,HEAD';
    return second === '_design' ? ATTACHMENT : null;
  }
  if (parts.length === 2) return DB_ENDPOINTS.get(second as string) ?? DOC;
  if (second === '_index') return 'DELETE';
  return third !== undefined && !(second as string).startsWith('_') ? ATTACHMENT : null;
}
