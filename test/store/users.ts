import t from 'tap';
import { testCouch, couch, basicAuth } from '../helpers/store.js';
import { client, createDb, unique } from '../helpers/fixtures.js';

const server = await testCouch(t);
const admin = client(server, server.adminAuth);
const anon = client(server);
const userPath = (name: string) => `/_users/${encodeURIComponent(`org.couchdb.user:${name}`)}`;
const userDoc = (name: string, password: string, extra: Record<string, unknown> = {}) => ({
  _id: `org.couchdb.user:${name}`,
  name,
  password,
  roles: [],
  type: 'user',
  ...extra,
});
/** Accounts are made by server admins only (CouchDB 3: `_users` is admin-only). */
const signup = (name: string, password: string, extra: Record<string, unknown> = {}) =>
  admin('PUT', userPath(name), { body: userDoc(name, password, extra) });

t.test('_users is for server admins only, as in CouchDB 3', async (t) => {
  const name = unique('squatter');
  const squat = await anon('PUT', userPath(name), { body: userDoc(name, 'i-am-you') });
  t.equal(squat.status, 401, 'an anonymous PUT of a user document');
  t.same(squat.body, {
    error: 'unauthorized',
    reason: 'You are not authorized to access this db.',
  });
  t.equal((await admin('GET', userPath(name))).status, 404, 'nothing was written');
  const bulk = await anon('POST', '/_users/_bulk_docs', { body: { docs: [userDoc(name, 'x')] } });
  t.equal(bulk.status, 401, 'nor through _bulk_docs');
  const sec = await admin('GET', '/_users/_security');
  t.same(sec.body, { members: { roles: ['_admin'] }, admins: { roles: ['_admin'] } });

  await signup(name, 'pw-own');
  const as = client(server, basicAuth(name, 'pw-own'));
  const own = await as('GET', userPath(name));
  t.equal(own.status, 403, 'a user reading their own document');
  t.same(own.body, { error: 'forbidden', reason: 'You are not allowed to access this db.' });
  const rev = (await admin('GET', userPath(name))).body._rev as string;
  const put = await as('PUT', userPath(name), { body: { ...userDoc(name, 'new'), _rev: rev } });
  t.equal(put.status, 403, 'changing it');
  t.equal((await as('DELETE', `${userPath(name)}?rev=${rev}`)).status, 403, 'deleting it');
  t.equal((await admin('GET', userPath(name))).body._rev, rev, 'untouched');
});

t.test(
  'an account made by an admin: the password is hashed on write and never stored or returned',
  async (t) => {
    const name = unique('signup');
    const res = await signup(name, 'mahindi-2024');
    t.equal(res.status, 201);
    t.match(res.body, { ok: true, id: `org.couchdb.user:${name}`, rev: /^1-/ });
    const stored = await admin('GET', userPath(name));
    t.equal(stored.status, 200);
    t.notOk('password' in stored.body, 'no plain password');
    t.equal(stored.body.password_scheme, 'pbkdf2');
    t.match(stored.body.derived_key, /^[0-9a-f]{40,}$/);
    t.match(stored.body.salt, /^[0-9a-f]+$/);
    t.type(stored.body.iterations, 'number');
    t.notMatch(JSON.stringify(stored.body), /mahindi-2024/);
    const changes = await admin(
      'GET',
      `/_users/_changes?include_docs=true&filter=_doc_ids&doc_ids=${encodeURIComponent(JSON.stringify([`org.couchdb.user:${name}`]))}`,
    );
    t.notMatch(JSON.stringify(changes.body), /mahindi-2024/, 'not in _changes either');
    const all = await admin(
      'GET',
      `/_users/_all_docs?include_docs=true&key=${encodeURIComponent(JSON.stringify(`org.couchdb.user:${name}`))}`,
    );
    t.notMatch(JSON.stringify(all.body), /mahindi-2024/, 'nor in _all_docs');
    const dup = await signup(name, 'other');
    t.equal(dup.status, 409, 'a taken name conflicts');
  },
);

t.test('the user then logs in with Basic and with a cookie', async (t) => {
  const name = unique('login');
  await signup(name, 'pamba-77');
  const session = await couch(server.url, 'GET', '/_session', {
    auth: basicAuth(name, 'pamba-77'),
  });
  t.equal(session.status, 200);
  t.same(session.body.userCtx, { name, roles: [] });
  const wrong = await couch(server.url, 'GET', '/_session', { auth: basicAuth(name, 'pamba-78') });
  t.equal(wrong.status, 401);
  const login = await couch(server.url, 'POST', '/_session', {
    body: { name, password: 'pamba-77' },
  });
  t.equal(login.status, 200);
  const cookie = /AuthSession=([^;]*)/.exec(login.headers.get('set-cookie') ?? '')?.[1];
  const who = await couch(server.url, 'GET', '/_session', {
    headers: { cookie: `AuthSession=${cookie}` },
  });
  t.equal(who.body.userCtx.name, name);
});

t.test('the _auth rules: id/name, type, roles, no underscores', async (t) => {
  const name = unique('rules');
  const mismatch = await admin('PUT', userPath(name), {
    body: { name: `${name}-other`, password: 'x', roles: [], type: 'user' },
  });
  t.equal(mismatch.status, 403);
  t.same(mismatch.body, {
    error: 'forbidden',
    reason: 'Doc ID must be of the form org.couchdb.user:name',
  });
  const type = await signup(name, 'x', { type: 'admin' });
  t.equal(type.status, 403);
  t.equal(type.body.reason, 'doc.type must be user');
  const system = await admin('PUT', userPath(name), {
    body: { name, password: 'x', roles: ['_admin'], type: 'user' },
  });
  t.equal(system.status, 403, 'not even a server admin can give a system role');
  t.equal(system.body.reason, 'No system roles (starting with underscore) in users db.');
  const under = unique('_under');
  t.equal((await signup(under, 'x')).status, 403);
  t.equal(
    (await admin('PUT', userPath(name), { body: { name, password: 'x', type: 'user' } })).status,
    403,
    'roles must exist',
  );
  t.equal((await admin('GET', userPath(name))).status, 404, 'nothing was written');
  const byAdmin = await admin('PUT', userPath(name), {
    body: { name, password: 'x', roles: ['supervisor'], type: 'user' },
  });
  t.equal(byAdmin.status, 201, 'a server admin may set roles');
});

t.test('_users listings and its security object are for server admins', async (t) => {
  const name = unique('lister');
  await signup(name, 'pw');
  const as = client(server, basicAuth(name, 'pw'));
  t.equal((await as('GET', '/_users/_all_docs')).status, 401);
  t.equal((await as('GET', '/_users/_changes')).status, 401);
  t.equal((await admin('GET', '/_users/_all_docs')).status, 200);
  const sec = await admin('PUT', '/_users/_security', {
    body: { members: { names: [], roles: [] } },
  });
  t.equal(sec.status, 403);
  t.equal(sec.body.error, 'forbidden');
});

t.test('a role given by an admin opens databases to that role', async (t) => {
  const name = unique('role-user');
  await admin('PUT', userPath(name), {
    body: { name, password: 'pw', roles: ['agronomist'], type: 'user' },
  });
  const db = await createDb(server, 'byrole', {
    admins: { names: [], roles: [] },
    members: { names: [], roles: ['agronomist'] },
  });
  t.equal((await couch(server.url, 'GET', `/${db}`, { auth: basicAuth(name, 'pw') })).status, 200);
});
