import t from 'tap';
import { couch, storeOr500, testCouch } from '../helpers/store.js';
import { client, createDb, createUser, unique } from '../helpers/fixtures.js';

/**
 * The access matrix: every endpoint, asked by anonymous, a named user who is
 * no member, a member, a database admin and the server admin. CouchDB answers
 * 401 to anonymous and 403 to named users without rights, except where it
 * answers 401 to everyone (server-admin endpoints; `_compact` and
 * `_view_cleanup` for members, chttpd_auth_request:require_db_admin).
 */
const server = await testCouch(t);
const admin = client(server, server.adminAuth);
const [outsider, member, dbAdmin] = await Promise.all([
  createUser(server, 'outsider'),
  createUser(server, 'member'),
  createUser(server, 'dbadmin'),
]);
const security = {
  admins: { names: [dbAdmin.name], roles: [] },
  members: { names: [member.name], roles: [] },
};
const db = await createDb(server, 'matrix', security);
await admin('PUT', `/${db}/_design/app`, {
  body: { views: { all: { map: 'function (doc) { emit(doc._id, null); }' } } },
});
await admin('PUT', `/${db}/existing`, { body: { v: 1 } });
await admin(
  'PUT',
  `/${db}/existing/file.txt?rev=${(await admin('GET', `/${db}/existing`)).body._rev}`,
  {
    body: 'hello',
    headers: { 'content-type': 'text/plain' },
  },
);

type Who = 'anonymous' | 'outsider' | 'member' | 'dbadmin' | 'admin';
const WHO: Who[] = ['anonymous', 'outsider', 'member', 'dbadmin', 'admin'];
const authOf: Record<Who, string | undefined> = {
  anonymous: undefined,
  outsider: outsider.auth,
  member: member.auth,
  dbadmin: dbAdmin.auth,
  admin: server.adminAuth,
};

interface Case {
  what: string;
  /** Builds the request for one caller (fresh ids, current revs). */
  request: (
    who: Who,
  ) => Promise<{ method: string; path: string; body?: unknown; headers?: Record<string, string> }>;
  /** Status for member, db admin and server admin; anonymous and outsiders are refused. */
  member: number;
  admins: number;
}

const fresh = async (prefix: string) => {
  const id = unique(prefix);
  const res = await admin('PUT', `/${db}/${id}`, { body: { v: 1 } });
  return { id, rev: res.body.rev as string };
};
const json = { 'content-type': 'application/json' };

const cases: Case[] = [
  {
    what: 'GET /db',
    request: async () => ({ method: 'GET', path: `/${db}` }),
    member: 200,
    admins: 200,
  },
  {
    what: 'GET _all_docs',
    request: async () => ({ method: 'GET', path: `/${db}/_all_docs` }),
    member: 200,
    admins: 200,
  },
  {
    what: 'POST _all_docs',
    request: async () => ({
      method: 'POST',
      path: `/${db}/_all_docs`,
      body: { keys: ['existing'] },
    }),
    member: 200,
    admins: 200,
  },
  {
    what: 'GET _design_docs',
    request: async () => ({ method: 'GET', path: `/${db}/_design_docs` }),
    member: 200,
    admins: 200,
  },
  {
    what: 'GET _local_docs',
    request: async () => ({ method: 'GET', path: `/${db}/_local_docs` }),
    member: 200,
    admins: 200,
  },
  {
    what: 'GET _changes',
    request: async () => ({ method: 'GET', path: `/${db}/_changes` }),
    member: 200,
    admins: 200,
  },
  {
    what: 'POST _changes',
    request: async () => ({
      method: 'POST',
      path: `/${db}/_changes?filter=_doc_ids`,
      body: { doc_ids: ['existing'] },
    }),
    member: 200,
    admins: 200,
  },
  {
    what: 'POST _bulk_docs',
    request: async () => ({
      method: 'POST',
      path: `/${db}/_bulk_docs`,
      body: { docs: [{ _id: unique('bd') }] },
    }),
    member: 201,
    admins: 201,
  },
  {
    what: 'POST _bulk_get',
    request: async () => ({
      method: 'POST',
      path: `/${db}/_bulk_get`,
      body: { docs: [{ id: 'existing' }] },
    }),
    member: 200,
    admins: 200,
  },
  {
    what: 'POST _revs_diff',
    request: async () => ({
      method: 'POST',
      path: `/${db}/_revs_diff`,
      body: { existing: ['9-abc'] },
    }),
    member: 200,
    admins: 200,
  },
  {
    what: 'POST /db',
    request: async () => ({ method: 'POST', path: `/${db}`, body: { v: 1 } }),
    member: 201,
    admins: 201,
  },
  {
    what: 'PUT doc',
    request: async () => ({ method: 'PUT', path: `/${db}/${unique('put')}`, body: { v: 1 } }),
    member: 201,
    admins: 201,
  },
  {
    what: 'GET doc',
    request: async () => ({ method: 'GET', path: `/${db}/existing` }),
    member: 200,
    admins: 200,
  },
  {
    what: 'GET doc open_revs',
    request: async () => ({ method: 'GET', path: `/${db}/existing?open_revs=all` }),
    member: 200,
    admins: 200,
  },
  {
    what: 'DELETE doc',
    request: async () => {
      const d = await fresh('del');
      return { method: 'DELETE', path: `/${db}/${d.id}?rev=${d.rev}` };
    },
    member: 200,
    admins: 200,
  },
  {
    what: 'COPY doc',
    request: async () => ({
      method: 'COPY',
      path: `/${db}/existing`,
      headers: { destination: unique('copy') },
    }),
    member: 201,
    admins: 201,
  },
  {
    what: 'PUT _local doc',
    request: async () => ({
      method: 'PUT',
      path: `/${db}/_local/${unique('l')}`,
      body: { seq: 1 },
    }),
    member: 201,
    admins: 201,
  },
  {
    what: 'GET attachment',
    request: async () => ({ method: 'GET', path: `/${db}/existing/file.txt` }),
    member: 200,
    admins: 200,
  },
  {
    what: 'PUT attachment',
    request: async () => ({
      method: 'PUT',
      path: `/${db}/${unique('att')}/a.txt`,
      body: 'x',
      headers: { 'content-type': 'text/plain' },
    }),
    member: 201,
    admins: 201,
  },
  {
    what: 'GET view',
    request: async () => ({ method: 'GET', path: `/${db}/_design/app/_view/all?limit=1` }),
    member: 200,
    admins: 200,
  },
  {
    what: 'GET design doc',
    request: async () => ({ method: 'GET', path: `/${db}/_design/app` }),
    member: 200,
    admins: 200,
  },
  {
    what: 'PUT design doc',
    request: async () => ({
      method: 'PUT',
      path: `/${db}/_design/${unique('d')}`,
      body: { views: {} },
    }),
    member: 403,
    admins: 201,
  },
  {
    what: 'GET _security',
    request: async () => ({ method: 'GET', path: `/${db}/_security` }),
    member: 200,
    admins: 200,
  },
  {
    what: 'PUT _security',
    request: async () => ({ method: 'PUT', path: `/${db}/_security`, body: security }),
    // CouchDB 3.5: 500 no_majority (every shard refused the write).
    member: storeOr500(server, 403),
    admins: 200,
  },
  {
    what: 'POST _find',
    request: async () => ({ method: 'POST', path: `/${db}/_find`, body: { selector: { v: 1 } } }),
    member: 200,
    admins: 200,
  },
  {
    what: 'POST _explain',
    request: async () => ({
      method: 'POST',
      path: `/${db}/_explain`,
      body: { selector: { v: 1 } },
    }),
    member: 200,
    admins: 200,
  },
  {
    what: 'GET _index',
    request: async () => ({ method: 'GET', path: `/${db}/_index` }),
    member: 200,
    admins: 200,
  },
  {
    what: 'POST _index',
    request: async () => ({
      method: 'POST',
      path: `/${db}/_index`,
      body: { index: { fields: ['v'] }, ddoc: unique('idx') },
    }),
    member: server.embedded ? 403 : 500,
    admins: 200,
  },
  {
    what: 'POST _compact',
    request: async () => ({ method: 'POST', path: `/${db}/_compact`, headers: json }),
    member: 401,
    admins: 202,
  },
  {
    what: 'POST _view_cleanup',
    request: async () => ({ method: 'POST', path: `/${db}/_view_cleanup`, headers: json }),
    member: 401,
    admins: 202,
  },
  {
    what: 'POST _ensure_full_commit',
    request: async () => ({ method: 'POST', path: `/${db}/_ensure_full_commit`, headers: json }),
    member: 201,
    admins: 201,
  },
  {
    what: 'GET _revs_limit',
    request: async () => ({ method: 'GET', path: `/${db}/_revs_limit` }),
    member: 200,
    admins: 200,
  },
  {
    what: 'PUT _revs_limit',
    request: async () => ({ method: 'PUT', path: `/${db}/_revs_limit`, body: 1000 }),
    // CouchDB 3.5: 500 badmatch around its forbidden.
    member: storeOr500(server, 403),
    admins: 200,
  },
];

for (const c of cases) {
  t.test(c.what, async (t) => {
    for (const who of WHO) {
      const req = await c.request(who);
      const res = await couch(server.url, req.method, req.path, {
        auth: authOf[who],
        body: req.body,
        headers: req.headers,
      });
      const wanted =
        who === 'anonymous'
          ? 401
          : who === 'outsider'
            ? 403
            : who === 'member'
              ? c.member
              : c.admins;
      t.equal(res.status, wanted, `${who}: ${JSON.stringify(res.body)}`);
      if (wanted >= 400) {
        t.match(
          res.body,
          {
            error:
              wanted === 401
                ? 'unauthorized'
                : wanted === 500
                  ? String
                  : /forbidden|error_saving_ddoc/,
            reason: String,
          },
          who,
        );
      }
    }
  });
}

t.test('server-level endpoints for server admins only: 401 to everyone else', async (t) => {
  for (const [method, path] of [
    ['GET', '/_all_dbs'],
    ['GET', '/_db_updates'],
    ['PUT', `/${unique('newdb')}`],
    ['DELETE', `/${db}`],
    // CouchDB 3.5: database admins included (couchdb35-docs.ts purges as the server admin).
    ['POST', `/${db}/_purge`],
  ] as const) {
    for (const who of WHO.filter((w) => w !== 'admin')) {
      const res = await couch(server.url, method, path, { auth: authOf[who] });
      t.equal(res.status, 401, `${method} ${path} as ${who}`);
      t.equal(res.body.error, 'unauthorized');
    }
  }
  t.equal((await admin('GET', '/_all_dbs')).status, 200);
  t.equal((await admin('GET', `/${db}`)).status, 200, 'the database was not deleted');
});

t.test('open endpoints answer everyone', async (t) => {
  for (const who of WHO) {
    for (const path of ['/', '/_up', '/_uuids', '/_session']) {
      t.equal(
        (await couch(server.url, 'GET', path, { auth: authOf[who] })).status,
        200,
        `${path} as ${who}`,
      );
    }
  }
});

t.test('members and admins by role', async (t) => {
  const [field, boss] = await Promise.all([
    createUser(server, 'field', ['field']),
    createUser(server, 'boss', ['boss']),
  ]);
  const byRole = await createDb(server, 'roles', {
    admins: { names: [], roles: ['boss'] },
    members: { names: [], roles: ['field'] },
  });
  t.equal((await couch(server.url, 'GET', `/${byRole}`, { auth: field.auth })).status, 200);
  t.equal(
    (await couch(server.url, 'PUT', `/${byRole}/_design/x`, { auth: field.auth, body: {} })).status,
    403,
  );
  t.equal(
    (await couch(server.url, 'GET', `/${byRole}`, { auth: boss.auth })).status,
    200,
    'admins are members',
  );
  t.equal(
    (await couch(server.url, 'PUT', `/${byRole}/_design/x`, { auth: boss.auth, body: {} })).status,
    201,
  );
  t.equal((await couch(server.url, 'GET', `/${byRole}`, { auth: outsider.auth })).status, 403);
});

t.test(
  'a database with empty members is public, but design docs and _security stay with admins',
  async (t) => {
    const pub = await createDb(server, 'public', {
      admins: { names: [], roles: [] },
      members: { names: [], roles: [] },
    });
    const anon = client(server);
    t.equal((await anon('GET', `/${pub}`)).status, 200);
    t.equal((await anon('PUT', `/${pub}/doc`, { body: { a: 1 } })).status, 201);
    t.equal((await client(server, outsider.auth)('GET', `/${pub}/doc`)).status, 200);
    const ddoc = await anon('PUT', `/${pub}/_design/x`, { body: {} });
    t.equal(ddoc.status, 401);
    t.equal(ddoc.body.error, 'unauthorized');
    const named = await client(server, outsider.auth)('PUT', `/${pub}/_design/x`, { body: {} });
    t.equal(named.status, 403);
    t.equal(named.body.error, 'forbidden');
    const bulk = await client(server, outsider.auth)('POST', `/${pub}/_bulk_docs`, {
      body: { docs: [{ _id: '_design/y' }, { _id: 'z' }] },
    });
    t.equal(bulk.body[0].error, 'forbidden', 'per document in _bulk_docs');
    t.equal(bulk.body[1].ok, true);
    t.equal((await anon('PUT', `/${pub}/_security`, { body: {} })).status, storeOr500(server, 401));
  },
);

t.test('wrong credentials are refused even where anonymous would pass', async (t) => {
  const res = await couch(server.url, 'GET', '/', {
    auth: 'Basic ' + Buffer.from(`${member.name}:wrong`).toString('base64'),
  });
  t.equal(res.status, 401);
  t.same(res.body, { error: 'unauthorized', reason: 'Name or password is incorrect.' });
});
