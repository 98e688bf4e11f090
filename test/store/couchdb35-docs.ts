import t from 'tap';
import { testCouch } from '../helpers/store.js';
import { client, createDb, createUser, unique } from '../helpers/fixtures.js';

/**
 * Documents and databases as Apache CouchDB 3.5 answers them (issue 9): each
 * case here was answered differently by the embedded store before.
 */
const server = await testCouch(t);
const admin = client(server, server.adminAuth);
const db = await createDb(server, 'cdb35');

t.test('_purge is for server admins only; a database admin gets 401', async (t) => {
  const dbAdmin = await createUser(server, 'purger');
  const guarded = await createDb(server, 'purge', {
    admins: { names: [dbAdmin.name], roles: [] },
    members: { names: [dbAdmin.name], roles: [] },
  });
  const put = await admin('PUT', `/${guarded}/victim`, { body: { a: 1 } });
  const asDbAdmin = await client(server, dbAdmin.auth)('POST', `/${guarded}/_purge`, {
    body: { victim: [put.body.rev] },
  });
  t.equal(asDbAdmin.status, 401);
  t.same(asDbAdmin.body, { error: 'unauthorized', reason: 'You are not a server admin.' });
  const anon = await client(server)('POST', `/${guarded}/_purge`, {
    body: { victim: [put.body.rev] },
  });
  t.equal(anon.status, 401);
  t.equal((await admin('GET', `/${guarded}/victim`)).status, 200, 'nothing was purged');
  const ok = await admin('POST', `/${guarded}/_purge`, { body: { victim: [put.body.rev] } });
  t.equal(ok.status, 201);
  t.same(ok.body.purged, { victim: [put.body.rev] });
});

t.test('PUT of {_rev, _deleted: true} deletes with 200', async (t) => {
  const put = await admin('PUT', `/${db}/to-delete`, { body: { a: 1 } });
  const del = await admin('PUT', `/${db}/to-delete`, {
    body: { _rev: put.body.rev, _deleted: true },
  });
  t.equal(del.status, 200);
  t.match(del.body, { ok: true, id: 'to-delete', rev: /^2-/ });
  t.equal((await admin('GET', `/${db}/to-delete`)).status, 404);
});

t.test("PUT /db/one with body _id two: the URL's id wins", async (t) => {
  const one = unique('one');
  const res = await admin('PUT', `/${db}/${one}`, { body: { _id: unique('two'), v: 1 } });
  t.equal(res.status, 201);
  t.equal(res.body.id, one);
  t.equal((await admin('GET', `/${db}/${one}`)).body.v, 1);
});

t.test('a lone surrogate in a JSON body is invalid UTF-8 JSON (400)', async (t) => {
  const lone = await admin('PUT', `/${db}/surrogate`, { body: '{"a":"\\ud83d"}' });
  t.equal(lone.status, 400);
  t.equal(lone.body.error, 'bad_request');
  const key = await admin('PUT', `/${db}/surrogate`, { body: '{"\\udc00":1}' });
  t.equal(key.status, 400, 'in a key too');
  const bulk = await admin('POST', `/${db}/_bulk_docs`, {
    body: '{"docs":[{"_id":"surrogate","a":"\\ude00"}]}',
  });
  t.equal(bulk.status, 400, 'and in _bulk_docs');
  t.equal((await admin('GET', `/${db}/surrogate`)).status, 404, 'nothing stored');
  const pair = await admin('PUT', `/${db}/surrogate`, { body: '{"a":"\\ud83d\\ude00"}' });
  t.equal(pair.status, 201, 'a surrogate pair is a character');
  t.equal((await admin('GET', `/${db}/surrogate`)).body.a, '😀');
});

t.test('GET /_session names no authentication_db', async (t) => {
  const res = await admin('GET', '/_session');
  t.equal(res.status, 200);
  t.equal(res.body.userCtx.name, server.admin.name);
  t.notOk('authentication_db' in res.body.info);
});

t.test('ids and names that are Object.prototype members are ordinary names', async (t) => {
  for (const id of ['constructor', 'toString', 'hasOwnProperty', 'valueOf']) {
    const put = await admin('PUT', `/${db}/${id}`, { body: { id } });
    t.equal(put.status, 201, `PUT ${id}`);
    const got = await admin('GET', `/${db}/${id}`);
    t.equal(got.status, 200, `GET ${id}`);
    t.equal(got.body.id, id);
    const att = await admin('GET', `/${db}/${id}/constructor`);
    t.equal(att.status, 404, `attachment "constructor" of ${id}`);
    t.equal(att.body.error, 'not_found');
  }
  const view = await admin('GET', `/${db}/_design/missing/_view/constructor`);
  t.equal(view.status, 404);
  await admin('PUT', `/${db}/_design/proto`, {
    body: { views: { all: { map: 'function (doc) { emit(doc._id, 1); }' } } },
  });
  const named = await admin('GET', `/${db}/_design/proto/_view/toString`);
  t.equal(named.status, 404, 'a view named toString that the design doc lacks');
  const filter = await admin('GET', `/${db}/_changes?filter=proto/constructor`);
  t.equal(filter.status, 404, 'a filter named constructor that the design doc lacks');
  const purge = await admin('POST', `/${db}/_purge`, { body: { toString: ['1-abc'] } });
  t.equal(purge.status, 201);
  t.same(purge.body.purged, { toString: [] });
  const dbName = unique('constructor');
  t.equal((await admin('PUT', `/${dbName}`)).status, 201, 'a database named constructor…');
  t.equal((await admin('GET', `/${dbName}`)).status, 200);
  t.equal((await admin('DELETE', `/${dbName}`)).status, 200);
  for (const name of ['constructor', 'tostring', 'hasownproperty']) {
    const res = await admin('GET', `/${name}`);
    t.equal(res.status, 404, `GET /${name} is a missing database`);
    t.equal(res.body.error, 'not_found');
  }
});

t.test("the replicator's _replication_* members are kept", async (t) => {
  const body = {
    _replication_state: 'completed',
    _replication_state_time: '2026-01-01T00:00:00Z',
    _replication_state_reason: 'none',
    _replication_id: 'abc',
    _replication_stats: { docs_written: 1 },
    source: 'a',
  };
  const put = await admin('PUT', `/${db}/${unique('rep')}`, { body });
  t.equal(put.status, 201, JSON.stringify(put.body));
  const got = await admin('GET', `/${db}/${put.body.id}`);
  t.match(got.body, body);
});

t.test('_local documents: any _revisions, and only the body is stored', async (t) => {
  const id = `_local/${unique('cp')}`;
  const put = await admin('PUT', `/${db}/${id}`, {
    body: { _revisions: { start: 0, ids: ['1'] }, session: 's1' },
  });
  t.equal(put.status, 201, JSON.stringify(put.body));
  const withAtt = await admin('PUT', `/${db}/${id}`, {
    body: {
      _rev: put.body.rev,
      session: 's2',
      _attachments: { 'a.txt': { content_type: 'text/plain', data: 'aGVsbG8=' } },
    },
  });
  t.equal(withAtt.status, 201);
  const got = await admin('GET', `/${db}/${id}`);
  t.equal(got.body.session, 's2');
  t.notOk('_attachments' in got.body, 'attachments are not kept');
});

t.test('new_edits=false accepts the revision 1- (an empty hash)', async (t) => {
  const id = unique('empty-hash');
  const res = await admin('POST', `/${db}/_bulk_docs`, {
    body: { new_edits: false, docs: [{ _id: id, _rev: '1-', v: 1 }] },
  });
  t.equal(res.status, 201, JSON.stringify(res.body));
  const got = await admin('GET', `/${db}/${id}`);
  t.equal(got.status, 200);
  t.equal(got.body._rev, '1-');
});
