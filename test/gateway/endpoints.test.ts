import t, { type Test } from 'tap';
import { classify, type Endpoint } from '../../server/gateway/endpoints.js';
import { SyncError } from '../../server/gateway/errors.js';
import { parseSyncPath } from '../../server/gateway/path.js';

const DB = 'userdb-616d696e61';

function route(method: string, url: string): Endpoint | SyncError {
  const path = parseSyncPath(url);
  return path instanceof SyncError ? path : classify(method, path);
}

function refused(t: Test, method: string, url: string, status: number) {
  const got = route(method, url);
  t.type(got, SyncError, `${method} ${url} is refused`);
  if (got instanceof SyncError) {
    t.equal(got.statusCode, status, `${method} ${url} → ${status}`);
    t.ok(got.error && got.reason, 'CouchDB-shaped');
  }
}

function allowed(t: Test, method: string, url: string, want: Partial<Endpoint>) {
  const got = route(method, url);
  if (got instanceof SyncError) return t.fail(`${method} ${url}: ${got.statusCode} ${got.reason}`);
  t.match(got, want, `${method} ${url}`);
}

t.test('the replication endpoints, with the right each needs', async (t) => {
  allowed(t, 'GET', `/sync/${DB}/`, { kind: 'db', need: 'read', upstreamPath: `/${DB}` });
  allowed(t, 'HEAD', `/sync/${DB}`, { kind: 'db', need: 'read' });
  allowed(t, 'GET', `/sync/${DB}/_changes?feed=longpoll&since=0`, {
    kind: 'changes',
    need: 'read',
  });
  allowed(t, 'POST', `/sync/${DB}/_changes`, { kind: 'changes', need: 'read' });
  allowed(t, 'POST', `/sync/${DB}/_revs_diff`, { kind: 'revs_diff', need: 'read' });
  allowed(t, 'POST', `/sync/${DB}/_bulk_get?revs=true`, { kind: 'bulk_get', need: 'read' });
  allowed(t, 'POST', `/sync/${DB}/_all_docs`, { kind: 'all_docs', need: 'read' });
  allowed(t, 'POST', `/sync/${DB}/_bulk_docs`, { kind: 'bulk_docs', need: 'write' });
  allowed(t, 'PUT', `/sync/${DB}/_local/abc%2Fdef`, {
    kind: 'local',
    need: 'read',
    docId: '_local/abc/def',
    upstreamPath: `/${DB}/_local/abc%2Fdef`,
  });
  allowed(t, 'DELETE', `/sync/${DB}/_local/x`, { kind: 'local', need: 'read' });
  allowed(t, 'GET', `/sync/${DB}/farmer%2F1`, {
    kind: 'doc',
    docId: 'farmer/1',
    upstreamPath: `/${DB}/farmer%2F1`,
  });
  allowed(t, 'PUT', `/sync/${DB}/farmer-1`, { kind: 'doc', need: 'write' });
  allowed(t, 'DELETE', `/sync/${DB}/farmer-1`, { kind: 'doc', need: 'write' });
  allowed(t, 'GET', `/sync/${DB}/_design/sawa`, {
    kind: 'doc',
    need: 'read',
    docId: '_design/sawa',
  });
  allowed(t, 'GET', `/sync/${DB}/visit-1/photos/a%20b.jpg`, {
    kind: 'attachment',
    need: 'read',
    docId: 'visit-1',
    attachment: 'photos/a b.jpg',
    upstreamPath: `/${DB}/visit-1/photos/a%20b.jpg`,
  });
  allowed(t, 'PUT', `/sync/${DB}/visit-1/photo.jpg`, { kind: 'attachment', need: 'write' });
  allowed(t, 'GET', `/sync/team-kilosa/_changes`, {
    kind: 'changes',
    db: 'team-kilosa',
    route: '/sync/{db}/_changes',
  });
});

t.test('everything else is refused, CouchDB-shaped', async (t) => {
  refused(t, 'GET', '/sync', 404);
  refused(t, 'GET', '/sync/', 404);
  for (const system of [
    '_all_dbs',
    '_users',
    '_replicator',
    '_global_changes',
    '_session',
    '_up',
    '_uuids',
  ]) {
    refused(t, 'GET', `/sync/${system}`, 403);
    refused(t, 'GET', `/sync/${system}/_changes`, 403);
  }
  refused(t, 'PUT', `/sync/${DB}`, 403);
  refused(t, 'DELETE', `/sync/${DB}/`, 403);
  refused(t, 'POST', `/sync/${DB}`, 405);
  for (const admin of ['_security', '_purge', '_compact', '_view_cleanup', '_revs_limit']) {
    refused(t, 'GET', `/sync/${DB}/${admin}`, 403);
    refused(t, 'POST', `/sync/${DB}/${admin}`, 403);
  }
  refused(t, 'PUT', `/sync/${DB}/_design/sawa`, 403);
  refused(t, 'DELETE', `/sync/${DB}/_design/sawa`, 403);
  refused(t, 'GET', `/sync/${DB}/_design/sawa/_view/conflicts`, 404);
  refused(t, 'GET', `/sync/${DB}/_design/sawa/validate.js`, 404);
  for (const other of [
    '_find',
    '_index',
    '_explain',
    '_design_docs',
    '_local_docs',
    '_missing_revs',
    '_shards',
  ]) {
    refused(t, 'POST', `/sync/${DB}/${other}`, 404);
  }
  refused(t, 'GET', `/sync/${DB}/_bulk_docs`, 405);
  refused(t, 'GET', `/sync/${DB}/_revs_diff`, 405);
  refused(t, 'PUT', `/sync/${DB}/_changes`, 405);
  refused(t, 'PATCH', `/sync/${DB}/farmer-1`, 405);
  refused(t, 'POST', `/sync/${DB}/farmer-1`, 405);
  refused(t, 'GET', `/sync/${DB}/_local/a/b`, 404);
  refused(t, 'GET', `/sync/${DB}/_changes/x`, 404);
  refused(t, 'GET', `/sync/${DB}/farmer-1/`, 404);
  const m = route('PATCH', `/sync/${DB}/farmer-1`) as SyncError;
  t.equal(m.headers.allow, 'GET, HEAD, PUT, DELETE', '405 names what is allowed');
});

t.test('paths are decoded once, never normalised', async (t) => {
  refused(t, 'GET', `/sync//${DB}`, 400);
  refused(t, 'GET', `/sync/${DB}//_changes`, 400);
  refused(t, 'GET', `/sync/${DB}/../userdb-62`, 400);
  refused(t, 'GET', `/sync/${DB}/%2e%2e/userdb-62`, 400);
  refused(t, 'GET', `/sync/${DB}/%2E%2E/userdb-62`, 400);
  refused(t, 'GET', `/sync/./${DB}`, 400);
  refused(t, 'GET', `/sync/${DB}/%zz`, 400);
  refused(t, 'GET', `/sync/${DB}/a%00b`, 400);
  refused(t, 'GET', '/syncx/abc', 400);
  // An encoded slash stays inside its segment: the database is named with a slash (which
  // access.ts will refuse), never split into a path CouchDB would read differently.
  allowed(t, 'GET', `/sync/${DB}%2F..%2Fuserdb-62/_changes`, {
    db: `${DB}/../userdb-62`,
    upstreamPath: `/${encodeURIComponent(`${DB}/../userdb-62`)}/_changes`,
  });
  allowed(t, 'GET', '/sync/USERDB-616D696E61/', { db: 'USERDB-616D696E61' });
  const p = parseSyncPath(`/sync/${DB}/_changes?since=0&feed=longpoll`);
  t.same(p, { segments: [DB, '_changes'], trailingSlash: false, query: 'since=0&feed=longpoll' });
});
