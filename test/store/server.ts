import t, { type Test } from 'tap';
import { testCouch, couch } from '../helpers/store.js';
import { client, createDb, createUser, unique } from '../helpers/fixtures.js';

const server = await testCouch(t);
const admin = client(server, server.adminAuth);
const anon = client(server);
const user = await createUser(server, 'srv-user');
const named = client(server, user.auth);

t.test('GET / welcomes with couchdb, version, uuid and vendor', async (t) => {
  const res = await anon('GET', '/');
  t.equal(res.status, 200);
  t.equal(res.body.couchdb, 'Welcome');
  t.match(res.body.version, /^3\.\d+\.\d+/);
  t.match(res.body.uuid, /^[0-9a-f]{32}$/);
  t.type(res.body.vendor?.name, 'string');
  t.ok(Array.isArray(res.body.features));
  t.match(res.headers.get('content-type'), /^application\/json/);
  t.match(res.headers.get('server'), /^CouchDB\/3\./);
  const again = await anon('GET', '/');
  t.equal(again.body.uuid, res.body.uuid, 'the server uuid is stable');
});

t.test('GET /_up', async (t) => {
  const res = await anon('GET', '/_up');
  t.equal(res.status, 200);
  t.equal(res.body.status, 'ok');
});

t.test('GET /_uuids: one by default, count=N, unique, no caching', async (t) => {
  const one = await anon('GET', '/_uuids');
  t.equal(one.status, 200);
  t.equal(one.body.uuids.length, 1);
  t.match(one.body.uuids[0], /^[0-9a-f]{32}$/);
  const many = await anon('GET', '/_uuids?count=50');
  t.equal(many.body.uuids.length, 50);
  t.equal(new Set(many.body.uuids).size, 50, 'all different');
  t.match(many.headers.get('cache-control'), /no-cache/);
  const tooMany = await anon('GET', '/_uuids?count=1001');
  t.equal(tooMany.status, 400);
  t.equal(tooMany.body.error, 'bad_request');
});

t.test('GET /_all_dbs: server admins only, with key ranges', async (t) => {
  // One tag for both, so that no other database (of another file, or of an earlier run on
  // the same CouchDB) sorts between them.
  const tag = unique('alldbs');
  const a = await createDb(server, `${tag}-a`);
  const b = await createDb(server, `${tag}-b`);
  const all = await admin('GET', '/_all_dbs');
  t.equal(all.status, 200);
  t.ok(all.body.includes(a) && all.body.includes(b));
  t.ok(all.body.includes('_users'));
  t.same([...all.body].sort(), all.body, 'sorted');
  const range = await admin(
    'GET',
    `/_all_dbs?startkey=${encodeURIComponent(JSON.stringify(a))}&endkey=${encodeURIComponent(JSON.stringify(b))}`,
  );
  t.same(range.body, [a, b].sort());
  const limited = await admin(
    'GET',
    `/_all_dbs?startkey=${encodeURIComponent(JSON.stringify(a))}&limit=1`,
  );
  t.same(limited.body, [a]);
  // Within the two names: other parts and files create databases meanwhile.
  const desc = await admin(
    'GET',
    `/_all_dbs?descending=true&startkey=${encodeURIComponent(JSON.stringify(b))}&endkey=${encodeURIComponent(JSON.stringify(a))}`,
  );
  t.same(desc.body, [a, b].sort().reverse(), 'descending');
  for (const [who, call] of [
    ['anonymous', anon],
    ['a named user', named],
  ] as const) {
    const res = await call('GET', '/_all_dbs');
    t.equal(res.status, 401, who);
    t.equal(res.body.error, 'unauthorized', who);
  }
});

/** CouchDB without `_global_changes` (a single node's default) has no `_db_updates`. */
function noGlobalChanges(t: Test, res: { status: number; body: any }): boolean {
  if (server.embedded || res.status !== 404) return false;
  t.same(res.body, { error: 'not_found', reason: 'Database does not exist.' });
  t.comment('this CouchDB has no _global_changes database');
  return true;
}

t.test('GET /_db_updates: created, updated and deleted databases (normal feed)', async (t) => {
  const start = await admin('GET', '/_db_updates?since=now');
  if (noGlobalChanges(t, start)) return;
  t.equal(start.status, 200);
  t.type(start.body.last_seq, 'string');
  const name = unique('dbup');
  t.equal((await admin('PUT', `/${name}`)).status, 201);
  t.equal((await admin('PUT', `/${name}/doc`, { body: { a: 1 } })).status, 201);
  const events = async () => {
    for (let i = 0; i < 50; i++) {
      const res = await admin(
        'GET',
        `/_db_updates?since=${encodeURIComponent(start.body.last_seq)}`,
      );
      const mine = res.body.results.filter((r: { db_name: string }) => r.db_name === name);
      if (mine.length > 0) return { res, mine };
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error('no event for ' + name);
  };
  const { res, mine } = await events();
  t.match(mine[mine.length - 1], { db_name: name, type: /created|updated/, seq: String });
  t.type(res.body.last_seq, 'string');
  t.equal((await admin('DELETE', `/${name}`)).status, 200);
  let last: { type?: string } = {};
  for (let i = 0; i < 50 && last.type !== 'deleted'; i++) {
    const again = await admin(
      'GET',
      `/_db_updates?since=${encodeURIComponent(start.body.last_seq)}`,
    );
    last = again.body.results.filter((r: { db_name: string }) => r.db_name === name).pop() ?? {};
    if (last.type !== 'deleted') await new Promise((r) => setTimeout(r, 20));
  }
  t.equal(last.type, 'deleted');
});

t.test('GET /_db_updates?feed=longpoll waits for the next event', async (t) => {
  const now = await admin('GET', '/_db_updates?since=now');
  if (noGlobalChanges(t, now)) return;
  const name = unique('dbup-lp');
  const waiting = admin(
    'GET',
    `/_db_updates?feed=longpoll&timeout=10000&since=${encodeURIComponent(now.body.last_seq)}`,
  );
  await new Promise((r) => setTimeout(r, 100));
  await admin('PUT', `/${name}`);
  let res = await waiting;
  t.equal(res.status, 200);
  const announced = (r: typeof res) =>
    r.body.results.some((u: { db_name: string }) => u.db_name === name);
  // On a server every test file shares, the next event may be another file's: follow on.
  for (let i = 0; i < 20 && server.shared && !announced(res); i++) {
    const since = encodeURIComponent(res.body.last_seq);
    res = await admin('GET', `/_db_updates?feed=longpoll&timeout=10000&since=${since}`);
  }
  t.ok(announced(res), 'the new database is announced');
  t.type(res.body.last_seq, 'string');
  const quiet = await admin(
    'GET',
    `/_db_updates?feed=longpoll&timeout=200&since=${encodeURIComponent(res.body.last_seq)}`,
  );
  t.equal(quiet.status, 200);
  // A server every test file shares lists their writes (and its own `_dbs`) too.
  const news = server.shared
    ? quiet.body.results.filter((r: { db_name: string }) => r.db_name === name)
    : quiet.body.results;
  t.same(news, [], 'nothing new: an empty answer after the timeout');
});

t.test('GET /_db_updates: a write of _local documents alone is not announced', async (t) => {
  const name = unique('dbup-local');
  const marker = unique('dbup-marker');
  t.equal((await admin('PUT', `/${name}`)).status, 201);
  t.equal((await admin('PUT', `/${marker}`)).status, 201);
  const now = await admin('GET', '/_db_updates?since=now');
  if (noGlobalChanges(t, now)) return;
  t.equal((await admin('PUT', `/${name}/_local/checkpoint`, { body: { seq: 1 } })).status, 201);
  // Then a real write elsewhere: once it is listed, the checkpoint would have been too.
  t.equal((await admin('PUT', `/${marker}/doc`, { body: { a: 1 } })).status, 201);
  const since = encodeURIComponent(now.body.last_seq);
  let names: string[] = [];
  for (let i = 0; i < 100 && !names.includes(marker); i++) {
    const res = await admin('GET', `/_db_updates?since=${since}`);
    // Only updates: on CouchDB the two creations above may be listed late, after `now`.
    names = res.body.results
      .filter((r: { type: string }) => r.type !== 'created')
      .map((r: { db_name: string }) => r.db_name);
    if (!names.includes(marker)) await new Promise((r) => setTimeout(r, 20));
  }
  t.ok(names.includes(marker), 'the document write is announced');
  t.notOk(names.includes(name), 'the checkpoint is not');
  await admin('DELETE', `/${name}`);
  await admin('DELETE', `/${marker}`);
});

t.test('GET /_db_updates is for server admins only', async (t) => {
  t.equal((await anon('GET', '/_db_updates')).status, 401);
  const res = await named('GET', '/_db_updates');
  t.equal(res.status, 401);
  t.equal(res.body.error, 'unauthorized');
});

t.test('responses are JSON with CouchDB headers', async (t) => {
  const res = await fetch(server.url + '/_up');
  t.equal(res.headers.get('cache-control'), 'must-revalidate');
  t.match(res.headers.get('content-type'), /^application\/json/);
  const missing = await couch(server.url, 'GET', '/_nonexistent_endpoint', {
    auth: server.adminAuth,
  });
  t.ok(missing.status === 400 || missing.status === 404, `status ${missing.status}`);
  t.type(missing.body.error, 'string');
  t.type(missing.body.reason, 'string');
});
