import t from 'tap';
import { testCouch, couch } from '../helpers/store.js';
import { createDb, unique } from '../helpers/fixtures.js';
import { proxyAuthHeaders, proxyToken } from '../../server/store/auth/proxy.js';

/**
 * Proxy authentication as CouchDB's proxy_authentication_handler with
 * `proxy_use_secret`: a signed X-Auth-CouchDB-Token makes the named user; a
 * wrong or missing token makes the headers count for nothing.
 */
const server = await testCouch(t);
const secret = server.proxySecret;
if (!secret) {
  t.comment('no proxy secret for this CouchDB (set COUCHDB_PROXY_SECRET)');
} else {
  const db = await createDb(server, 'proxied', {
    admins: { names: [], roles: [] },
    members: { names: [], roles: ['field'] },
  });
  const name = unique('proxied-user');

  t.test('a valid token: the named user with the given roles', async (t) => {
    const headers = proxyAuthHeaders({ name, roles: ['field', 'kilosa'], secret });
    const who = await couch(server.url, 'GET', '/_session', { headers });
    t.equal(who.status, 200);
    t.same(who.body.userCtx, { name, roles: ['field', 'kilosa'] });
    t.equal(who.body.info.authenticated, 'proxy');
    t.equal(
      (await couch(server.url, 'GET', `/${db}`, { headers })).status,
      200,
      'the role opens the database',
    );
    const write = await couch(server.url, 'PUT', `/${db}/by-proxy`, { headers, body: { a: 1 } });
    t.equal(write.status, 201);
    const noRoles = { ...proxyAuthHeaders({ name, roles: [], secret }) };
    delete (noRoles as Record<string, string>)['X-Auth-CouchDB-Roles'];
    const plain = await couch(server.url, 'GET', '/_session', { headers: noRoles });
    t.same(plain.body.userCtx, { name, roles: [] }, 'no roles header: no roles');
    t.equal((await couch(server.url, 'GET', `/${db}`, { headers: noRoles })).status, 403);
  });

  t.test('the _admin role through the proxy is a server admin', async (t) => {
    const headers = proxyAuthHeaders({ name: 'ops-proxy', roles: ['_admin'], secret });
    t.equal((await couch(server.url, 'GET', '/_all_dbs', { headers })).status, 200);
  });

  t.test('a wrong token counts for nothing', async (t) => {
    const headers = {
      'X-Auth-CouchDB-UserName': name,
      'X-Auth-CouchDB-Roles': '_admin',
      'X-Auth-CouchDB-Token': proxyToken(name, secret + 'x'),
    };
    const who = await couch(server.url, 'GET', '/_session', { headers });
    t.equal(who.status, 200);
    t.same(who.body.userCtx, { name: null, roles: [] });
    t.equal((await couch(server.url, 'GET', '/_all_dbs', { headers })).status, 401);
    t.equal((await couch(server.url, 'GET', `/${db}`, { headers })).status, 401);
    const forName = { ...headers, 'X-Auth-CouchDB-Token': proxyToken('someone-else', secret) };
    t.same(
      (await couch(server.url, 'GET', '/_session', { headers: forName })).body.userCtx.name,
      null,
      "another name's token",
    );
  });

  t.test('a missing token counts for nothing', async (t) => {
    const headers = { 'X-Auth-CouchDB-UserName': name, 'X-Auth-CouchDB-Roles': 'field,_admin' };
    const who = await couch(server.url, 'GET', '/_session', { headers });
    t.same(who.body.userCtx, { name: null, roles: [] });
    t.equal((await couch(server.url, 'GET', `/${db}`, { headers })).status, 401);
  });
}

t.test('with proxy authentication off, even signed headers are ignored', async (t) => {
  if (!server.embedded) {
    t.comment('the embedded store only: it is configuration of the CouchDB under test');
    return;
  }
  const closed = await testCouch(t, {}, { proxyAuth: false });
  const headers = proxyAuthHeaders({ name: 'ops', roles: ['_admin'], secret: closed.proxySecret });
  const who = await couch(closed.url, 'GET', '/_session', { headers });
  t.equal(who.status, 200);
  t.same(who.body.userCtx, { name: null, roles: [] });
  t.notOk(who.body.info.authentication_handlers.includes('proxy'), 'proxy is not offered');
  t.equal((await couch(closed.url, 'GET', '/_all_dbs', { headers })).status, 401);
  t.equal(
    (await couch(closed.url, 'GET', '/_all_dbs', { auth: closed.adminAuth })).status,
    200,
    'Basic still works',
  );
});
