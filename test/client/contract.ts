import t from 'tap';
import { SawaError } from '../../client/index.js';
import { farmer } from '../gateway/helper.js';
import { unique } from '../helpers/fixtures.js';
import { couch } from '../helpers/store.js';
import { fileGateway, PASSWORD, phoneClient, sharedStorage, visit } from './helper.js';

/**
 * The client's contract (client/index.ts) against the real service on the embedded store,
 * with PouchDB phones: sign-in, the local databases, a sync round both ways, refused writes,
 * conflicts, the session kept in storage, sign-out.
 */
t.test('the client contract', async (t) => {
  const gw = await fileGateway();
  const store = gw.store;

  t.test('signup, push, pull on a second phone, nothing offered back', async (t) => {
    const name = unique('amina');
    const a = phoneClient(gw.url);
    const states: string[] = [];
    a.client.on('state', (s) => states.push(s));
    t.equal(a.client.state, 'signed-out');
    await t.rejects(a.client.syncOnce(), { code: 'signed-out' });
    const user = await a.client.signup(name, PASSWORD);
    t.equal(user.name, name);
    t.equal(a.client.state, 'idle');
    t.match(a.client.dbs, { user: /^userdb-/, shared: [] });
    const { user: db, shared } = a.client.databases;
    t.same(shared, []);
    const docs = Array.from({ length: 30 }, () => visit(name));
    await db.bulkDocs(docs);
    t.equal(await a.client.pending(), 30);

    const first = await a.client.syncOnce();
    t.match(first, { pushed: 30, rejected: [], conflicts: [], complete: true });
    t.same(states, ['idle', 'syncing', 'idle']);
    t.equal(await a.client.pending(), 0);
    t.ok(a.client.lastSyncedAt);
    const onServer = await couch(store.url, 'GET', `/${a.client.dbs?.user}/_all_docs`, {
      auth: store.adminAuth,
    });
    for (const d of docs) t.ok(onServer.body.rows.some((r: { id: string }) => r.id === d._id));

    const b = phoneClient(gw.url);
    await b.client.login(name, PASSWORD);
    const pulled = await b.client.syncOnce();
    t.match(pulled, { pulled: 30, pushed: 0, complete: true });
    const got = await b.client.databases.user.get(docs[0]?._id as string, { revs: true });
    t.equal(got.farmer_id, 'farmer-1');
    t.ok(got._revisions, 'stored with its history');
    // The push checkpoint was seeded from the pull: nothing is offered back.
    t.equal(b.traffic.count(/_revs_diff|_bulk_docs/), 0, 'no push request after the first pull');
    t.equal(await b.client.pending(), 0);

    // An idle round: one request.
    const before = b.traffic.calls.length;
    t.match(await b.client.syncOnce(), { pulled: 0, pushed: 0 });
    t.equal(b.traffic.calls.length - before, 1, 'an idle round is one request');
  });

  t.test('a write the rules refuse comes back with the rule reason', async (t) => {
    const name = unique('baraka');
    const { client } = phoneClient(gw.url);
    await client.signup(name, PASSWORD);
    const events: unknown[] = [];
    client.on('rejected', (r) => events.push(r));
    const good = visit(name);
    const bad = visit(name, { activity: 'dancing' });
    const forged = visit('someone-else');
    await client.databases.user.bulkDocs([good, bad, forged]);
    const result = await client.syncOnce();
    t.equal(result.pushed, 1);
    t.equal(result.rejected.length, 2);
    const db = client.dbs?.user;
    for (const doc of [bad, forged]) {
      const r = result.rejected.find((x) => x.id === doc._id);
      t.match(r, { db, id: doc._id, reason: /\w/ }, 'refused with a reason');
    }
    t.match(result.rejected.find((x) => x.id === bad._id)?.reason, /activity/);
    t.same(events, result.rejected, 'one rejected event each');
    t.ok(await client.databases.user.get(bad._id as string), 'the refused doc stays local');
    const again = await client.syncOnce();
    t.same(again.rejected, [], 'reported once');
  });

  t.test('two phones edit one farmer: the conflict is reported', async (t) => {
    const name = unique('chausiku');
    const a = phoneClient(gw.url).client;
    const b = phoneClient(gw.url).client;
    await a.signup(name, PASSWORD);
    await b.login(name, PASSWORD);
    const id = `farmer-${unique('f')}`;
    await a.databases.user.put(farmer(name, id));
    await a.syncOnce();
    await b.syncOnce();
    const onA = await a.databases.user.get(id);
    const onB = await b.databases.user.get(id);
    await a.databases.user.put({
      ...onA,
      village: 'Dakawa',
      updated_at: '2024-05-02T09:00:00+03:00',
    });
    await b.databases.user.put({
      ...onB,
      village: 'Mtibwa',
      updated_at: '2024-05-03T09:00:00+03:00',
    });
    const seen: unknown[] = [];
    b.on('conflict', (c) => seen.push(c));
    t.match(await a.syncOnce(), { pushed: 1, conflicts: [] });
    const result = await b.syncOnce();
    t.equal(result.pushed, 1);
    t.same(result.conflicts, [{ db: b.dbs?.user, id }]);
    t.same(seen, result.conflicts);
    const local = await b.databases.user.get(id, { conflicts: true });
    t.equal(local._conflicts.length, 1, 'both revisions are on the phone');
  });

  t.test('the session is kept in storage; logout revokes it', async (t) => {
    const name = unique('dalila');
    const storage = sharedStorage();
    const first = phoneClient(gw.url, { storage }).client;
    await first.signup(name, PASSWORD);
    await first.databases.user.put(visit(name));
    await first.syncOnce();
    const stored = JSON.parse(storage.values.get('sawa.session') as string);
    t.type(stored.refresh_token, 'string');

    // A reload: a new client on the same storage is signed in, with no network needed.
    const offline = phoneClient(gw.url, { storage });
    offline.fail(100);
    await offline.client.ready;
    t.equal(offline.client.state, 'idle');
    t.equal(offline.client.user?.name, name);
    t.equal(offline.traffic.calls.length, 0);

    const again = phoneClient(gw.url, { storage, localPrefix: 'kept-' }).client;
    await again.ready;
    await again.databases.user.put(visit(name));
    await again.logout();
    t.equal(again.state, 'signed-out');
    t.equal(storage.values.size, 0, 'tokens forgotten');
    t.throws(() => again.databases, { code: 'signed-out' });
    const refresh = await couch(gw.url, 'POST', '/auth/refresh', {
      body: { refresh_token: stored.refresh_token },
    });
    t.equal(refresh.status, 401, 'the refresh token no longer works');
    // Local data stays unless wiped.
    const keptAgain = phoneClient(gw.url, { localPrefix: 'kept-' }).client;
    await keptAgain.login(name, PASSWORD);
    t.equal(
      (await keptAgain.databases.user.allDocs()).rows.length,
      1,
      'the unsynced visit is still there',
    );
    const wiped = keptAgain.databases.user;
    await keptAgain.logout({ wipe: true });
    await t.rejects(wiped.info(), 'wiped databases are destroyed');
  });

  t.test('signup passes an invitation code on', async (t) => {
    const name = unique('faraji');
    const { client, traffic } = phoneClient(gw.url);
    // Whether this server asks for invitations or not, the code must reach it.
    await client.signup(name, PASSWORD, { invite: 'karibu-123' }).catch(() => undefined);
    const call = traffic.calls.find((c) => c.path === '/auth/signup');
    t.same(JSON.parse(call?.body ?? '{}'), {
      username: name,
      password: PASSWORD,
      invite: 'karibu-123',
    });
  });

  t.test('a wrong password is a clear error, not a state change', async (t) => {
    const name = unique('elia');
    const { client } = phoneClient(gw.url);
    await client.signup(name, PASSWORD);
    await client.logout();
    const err = await client.login(name, 'not-the-password').catch((e: unknown) => e);
    t.ok(err instanceof SawaError);
    t.match(err, { code: 'SAWA_BAD_CREDENTIALS', status: 401 });
    t.equal(client.state, 'signed-out');
  });
});
