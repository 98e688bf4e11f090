import { syncErrors, type SyncError } from './errors.js';
import type { SyncPath } from './path.js';

/**
 * The endpoints PouchDB's replicator (and a remote PouchDB's document API) uses, and
 * nothing else. Everything a phone does not need — server endpoints, system databases,
 * database create/delete, `_security`, `_purge`, `_compact`, `_find`, views, design-doc
 * writes — is refused here, before the token is even looked at.
 */
export type EndpointKind =
  | 'db'
  | 'changes'
  | 'revs_diff'
  | 'bulk_get'
  | 'all_docs'
  | 'bulk_docs'
  | 'local'
  | 'doc'
  | 'attachment';

/** The right a request needs on the database: `read` members may also write `_local` checkpoints. */
export type Need = 'read' | 'write';

export interface Endpoint {
  kind: EndpointKind;
  db: string;
  need: Need;
  /** Document id (`_design/x`, `_local/x` included) for doc, local and attachment. */
  docId?: string;
  attachment?: string;
  /** Path on CouchDB, rebuilt from the decoded segments, query not included. */
  upstreamPath: string;
  /** The database's own path on CouchDB (`/userdb-…`). */
  dbPath: string;
  /** Route template, for metrics and logs (never the concrete path: it holds user data). */
  route: string;
}

const READ = ['GET', 'HEAD'] as const;
const DOC_METHODS = ['GET', 'HEAD', 'PUT', 'DELETE'] as const;

/** Single-segment database endpoints: which methods each takes. A Map: a document named
 * `toString` or `constructor` must not find Object.prototype's members here. */
const DB_ENDPOINTS = new Map<
  string,
  { kind: EndpointKind; methods: readonly string[]; need: Need }
>([
  ['_changes', { kind: 'changes', methods: ['GET', 'POST'], need: 'read' }],
  ['_revs_diff', { kind: 'revs_diff', methods: ['POST'], need: 'read' }],
  ['_bulk_get', { kind: 'bulk_get', methods: ['POST'], need: 'read' }],
  ['_all_docs', { kind: 'all_docs', methods: ['GET', 'POST'], need: 'read' }],
  ['_bulk_docs', { kind: 'bulk_docs', methods: ['POST'], need: 'write' }],
]);

/** CouchDB endpoints that exist but change a database in ways only Sawa itself may. */
const ADMIN_ONLY = new Set([
  '_security',
  '_purge',
  '_compact',
  '_view_cleanup',
  '_revs_limit',
  '_design',
]);

const enc = encodeURIComponent;

type Make = (kind: EndpointKind, need: Need, route: string, extra?: Partial<Endpoint>) => Endpoint;

export function classify(method: string, path: SyncPath): Endpoint | SyncError {
  const [db, ...rest] = path.segments;
  if (db === undefined) return syncErrors.noDatabase();
  if (db.startsWith('_')) return syncErrors.notOffered('A server endpoint or system database');
  if (path.trailingSlash && rest.length > 0)
    return syncErrors.notSyncEndpoint('A path ending in /');
  const base = `/${enc(db)}`;
  const make: Make = (kind, need, route, extra = {}) => ({
    kind,
    db,
    need,
    upstreamPath: base,
    dbPath: base,
    route: `/sync/{db}${route}`,
    ...extra,
  });
  const [first, ...more] = rest;
  if (first === undefined) return database(method, make);
  const dbEndpoint = DB_ENDPOINTS.get(first);
  if (dbEndpoint) {
    if (more.length > 0) return syncErrors.notSyncEndpoint(first + '/…');
    const { kind, need, methods } = dbEndpoint;
    return (
      allowed(method, methods) ??
      make(kind, need, `/${first}`, { upstreamPath: `${base}/${first}` })
    );
  }
  if (first === '_local') return local(method, more, base, make);
  if (first === '_design') return designDoc(method, more, base, make);
  if (ADMIN_ONLY.has(first)) return syncErrors.notOffered(first);
  if (first.startsWith('_')) return syncErrors.notSyncEndpoint(first);
  return document(method, first, more, base, make);
}

/** `/{db}` itself: its info, never its creation or deletion. */
function database(method: string, make: Make): Endpoint | SyncError {
  if (method === 'PUT' || method === 'DELETE') {
    return syncErrors.notOffered('Creating or deleting a database');
  }
  return allowed(method, READ) ?? make('db', 'read', '');
}

/** Checkpoints: a read-only member's replicator must still record how far it got. */
function local(method: string, more: string[], base: string, make: Make): Endpoint | SyncError {
  if (more.length !== 1) return syncErrors.notSyncEndpoint('_local without exactly one id');
  const id = more[0] as string;
  return (
    allowed(method, DOC_METHODS) ??
    make('local', 'read', '/_local/{id}', {
      docId: `_local/${id}`,
      upstreamPath: `${base}/_local/${enc(id)}`,
    })
  );
}

/** Design docs replicate down (PouchDB reads them); views, shows and writes stay server-side. */
function designDoc(method: string, more: string[], base: string, make: Make): Endpoint | SyncError {
  if (more.length !== 1) return syncErrors.notSyncEndpoint('Views and design-document paths');
  if (method !== 'GET' && method !== 'HEAD')
    return syncErrors.notOffered('Writing design documents');
  const name = more[0] as string;
  return make('doc', 'read', '/_design/{ddoc}', {
    docId: `_design/${name}`,
    upstreamPath: `${base}/_design/${enc(name)}`,
  });
}

/** A document, or one of its attachments. */
function document(
  method: string,
  id: string,
  more: string[],
  base: string,
  make: Make,
): Endpoint | SyncError {
  const refused = allowed(method, DOC_METHODS);
  if (refused) return refused;
  const docPath = `${base}/${enc(id)}`;
  if (more.length === 0) {
    return make('doc', needFor(method), '/{doc}', { docId: id, upstreamPath: docPath });
  }
  return make('attachment', needFor(method), '/{doc}/{attachment}', {
    docId: id,
    attachment: more.join('/'),
    upstreamPath: `${docPath}/${more.map(enc).join('/')}`,
  });
}

function needFor(method: string): Need {
  return method === 'GET' || method === 'HEAD' ? 'read' : 'write';
}

function allowed(method: string, methods: readonly string[]): SyncError | null {
  return methods.includes(method) ? null : syncErrors.methodNotAllowed(methods);
}

/** The endpoints that count as a pull or a push for the "last synced" record. */
export function syncDirection(kind: EndpointKind, status: number): 'pull' | 'push' | null {
  if ((kind === 'changes' || kind === 'bulk_get') && status === 200) return 'pull';
  // 202: accepted by fewer cluster nodes than the write quorum, but stored.
  if (kind === 'bulk_docs' && (status === 201 || status === 202)) return 'push';
  return null;
}
