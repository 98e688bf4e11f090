import t from 'tap';
import type { Test } from 'tap';
import http from 'node:http';
import zlib from 'node:zlib';
import { unique } from '../helpers/fixtures.js';
import { phone } from '../helpers/phones.js';
import { couch, testCouch } from '../helpers/store.js';
import { farmer, gateway, Session } from './helper.js';
import { tcpProxy } from './tcp-proxy.js';
import { dbUpdatesSettled } from '../helpers/db-updates.js';
import { adminNano } from '../jobs/helpers.js';
import type { Accounts } from '../../server/accounts/service.js';
import { userDocId, type UserDoc } from '../../server/accounts/records.js';
import { seqText } from '../../server/gateway/change-hub.js';

// _changes feeds stream: heartbeats reach the phone through compression, and a phone that
// goes away takes the upstream request with it. A longpoll with nothing new waits on the
// change hub (one _db_updates feed) instead of upstream: the forwarding tests run on a
// gateway with the hub off.

const store = await testCouch(t);
const upstream = await tcpProxy(t, store.url);
const gw = await gateway(t, { store, couchUrl: upstream.url });
const amina = unique('amina');
const auth = await gw.signup(amina);
const DB = auth.dbs.user;
// One connection for plain requests: the bound's test below; live feeds are not counted.
const off = await gateway(t, {
  store,
  couchUrl: upstream.url,
  env: { SYNC_CHANGE_HUB: 'off', SYNC_UPSTREAM_CONNECTIONS: '1' },
});
const offAuth = await off.signup(unique('amina'));

/** A streaming GET that stays open; resolves once the response headers arrive. */
function open(
  path: string,
  headers: Record<string, string> = {},
  as: { url: string; token: string } = { url: gw.url, token: auth.access_token },
) {
  const base = new URL(as.url);
  return new Promise<{ req: http.ClientRequest; res: http.IncomingMessage }>((resolve, reject) => {
    const req = http.request({
      host: base.hostname,
      port: base.port,
      path,
      agent: false,
      headers: { authorization: `Bearer ${as.token}`, ...headers },
    });
    req.on('response', (res) => resolve({ req, res }));
    req.on('error', reject);
    req.end();
  });
}

/** Resolves with what the decoded body has said once it contains `want`. */
function readUntil(body: NodeJS.ReadableStream, want: string) {
  return new Promise<string>((resolve, reject) => {
    let seen = '';
    body.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      if (seen.includes(want)) resolve(seen);
    });
    body.on('error', reject);
  });
}

/** `promise`, or a failure after a generous bound: a hang must fail the test, not stall it. */
function within<T>(promise: Promise<T>, what: string, ms = 15_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<T>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen`)), ms);
  });
  return Promise.race([promise, bound]).finally(() => clearTimeout(timer));
}

for (const [feed, encoding] of [
  ['longpoll', 'identity'],
  ['continuous', 'identity'],
  ['longpoll', 'gzip'],
] as const) {
  t.test(
    `a phone that leaves a ${feed} feed (${encoding}) closes the upstream request`,
    async (t) => {
      const db = offAuth.dbs.user;
      const carried = upstream.connectionFor(new RegExp(`^GET /${db}/_changes\\?feed=${feed}`));
      const { req, res } = await open(
        `/sync/${db}/_changes?feed=${feed}&since=now&heartbeat=1000`,
        { 'accept-encoding': encoding },
        { url: off.url, token: offAuth.access_token },
      );
      t.equal(res.statusCode, 200);
      await within(
        readUntil(encoding === 'gzip' ? res.pipe(zlib.createGunzip()) : res, '\n'),
        'a first heartbeat',
      );
      const conn = await carried;
      req.destroy();
      await within(conn.closed, 'the upstream connection closing');
      t.pass('the upstream connection closed');
    },
  );
}

for (const [encoding, inflate] of [
  ['gzip', () => zlib.createGunzip()],
  ['br', () => zlib.createBrotliDecompress()],
] as const) {
  t.test(`longpoll heartbeats flush through ${encoding}`, async (t) => {
    const { req, res } = await open(
      `/sync/${offAuth.dbs.user}/_changes?feed=longpoll&since=now&heartbeat=1000`,
      { 'accept-encoding': encoding },
      { url: off.url, token: offAuth.access_token },
    );
    t.equal(res.headers['content-encoding'], encoding);
    const body = res.pipe(inflate());
    const seen = await within(readUntil(body, '\n'), `a heartbeat through ${encoding}`);
    // CouchDB 3.5's longpoll opens its array at once, then sends newlines as heartbeats.
    t.match(seen, /^(\{"results":\[)?\n+$/, 'only heartbeats so far: nothing changed');
    req.destroy();
  });
}

t.test('a longpoll answers when a change arrives, compressed', async (t) => {
  const { res } = await open(`/sync/${DB}/_changes?feed=longpoll&since=now&heartbeat=1000`, {
    'accept-encoding': 'gzip',
  });
  const body = res.pipe(zlib.createGunzip());
  const done = within(readUntil(body, 'last_seq'), 'the feed answering');
  const put = await gw.call('PUT', `/sync/${DB}/_local/poke`, {
    auth: `Bearer ${auth.access_token}`,
    body: { n: 1 },
  });
  t.equal(put.status, 201);
  const write = await gw.call('POST', `/sync/${DB}/_bulk_docs`, {
    auth: `Bearer ${auth.access_token}`,
    body: { docs: [{ _id: '_design/x' }] },
  });
  t.equal(write.status, 201, 'refused per document, nothing written');
  const farmer = {
    _id: 'farmer-1',
    type: 'farmer',
    owner: amina,
    created_at: '2024-05-01T09:30:00+03:00',
    updated_at: '2024-05-01T09:30:00+03:00',
    name: 'Asha',
    village: 'Kilosa',
    district: 'Morogoro',
  };
  t.equal(
    (
      await gw.call('POST', `/sync/${DB}/_bulk_docs`, {
        auth: `Bearer ${auth.access_token}`,
        body: { docs: [farmer] },
      })
    ).status,
    201,
  );
  const seen = await done;
  t.match(JSON.parse(seen.trim()), { results: [{ id: 'farmer-1' }] });
});

// The change hub: longpolls with nothing new wait in the gateway, woken by one _db_updates feed.

const hub = gw.svc.app.changeHub;

async function until(what: string, ok: () => boolean, ms = 10_000) {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A longpoll as a phone sends it; resolves with the status, the answer and when it came. */
function longpoll(token: string, db: string, query: string, signal?: AbortSignal) {
  return fetch(`${gw.url}/sync/${db}/_changes?feed=longpoll&${query}`, {
    headers: { authorization: `Bearer ${token}` },
    signal,
  }).then(async (res) => ({
    status: res.status,
    body: (await res.json()) as { results: { id: string }[]; last_seq: unknown },
    at: Date.now(),
  }));
}

/** Written straight to the store, as a job or another instance would. */
async function writeToStore(db: string, owner: string, id: string) {
  const res = await couch(store.url, 'PUT', `/${db}/${id}`, {
    auth: store.adminAuth,
    body: farmer(owner, id),
  });
  if (res.status !== 201) throw new Error(`write ${id}: ${res.status}`);
}

/**
 * Once the change hub has heard of every write made before the call: a write to a database
 * of its own is announced after them, and the hub takes notices in order.
 */
async function hubHeardAll(): Promise<void> {
  const marker = unique('heard');
  const res = await couch(store.url, 'PUT', `/${marker}`, { auth: store.adminAuth });
  if (res.status !== 201) throw new Error(`marker database: ${res.status}`);
  await until('the hub heard the marker', () => hub.stamp(marker) > 0);
  await couch(store.url, 'DELETE', `/${marker}`, { auth: store.adminAuth });
}

/**
 * Cuts the hub's `_db_updates` feed until the hub notices: a cut that falls between two of
 * its requests finds nothing to cut. Not live lasts at least its 1 s retry pause.
 */
async function cutHubFeed() {
  for (let tries = 1; ; tries++) {
    upstream.cut(/_db_updates/);
    try {
      await until('the hub noticed its feed cut', () => !hub.live, 1000);
      return;
    } catch (err) {
      if (tries === 10) throw err;
    }
  }
}

const userDbFeeds = (lines: string[], dbs: string[]) =>
  lines.filter((l) => dbs.some((db) => l.startsWith(`GET /${db}/_changes`)));

await until('the change hub is live', () => hub.live);

t.test('100 parked phones cost one upstream feed, not a request each', async (t) => {
  const users = await Promise.all([1, 2, 3, 4].map(() => gw.signup(unique('kundi'))));
  const dbs = users.map((u) => u.dbs.user);
  // On CouchDB the signups' writes reach _db_updates some hundreds of ms late; heard while
  // the phones wait, they would wake them for reads of their own.
  await dbUpdatesSettled(adminNano(store), `${dbs[0]}-settle`);
  const mark = upstream.requests.length;
  const stop = new AbortController();
  const polls = Array.from({ length: 100 }, (_, i) => {
    const u = users[i % 4]!;
    return longpoll(u.access_token, u.dbs.user, 'since=now&timeout=20000', stop.signal);
  });
  // Registered at once, read 32 at a time: on a loaded machine that takes a while.
  await until('100 phones parked', () => hub.waiting === 100 && hub.reading === 0);
  const feedsBefore = hub.requests;
  await new Promise((r) => setTimeout(r, 300));
  const seen = upstream.requests.slice(mark);
  const reads = userDbFeeds(seen, dbs);
  // On failure, which reads came beyond the phones' own (a wake, a retry) is in the report.
  t.equal(reads.length, 100, 'one read of each phone’s query', {
    extra: reads.filter((l) => !/[?&]since=now[ &]/.test(l) || /feed=/.test(l)),
  });
  t.same(
    userDbFeeds(seen, dbs).filter((l) => /[?&]feed=/.test(l)),
    [],
    'no longpoll upstream: every phone waits in the gateway',
  );
  // Alone, the hub's one longpoll waits through the pause. On a server other files write to
  // (COUCHDB_URL, the suite's store) each of their writes answers it and it asks again, one
  // request at a time: never one per phone.
  const hubAsked = hub.requests - feedsBefore;
  t.ok(
    store.shared ? hubAsked < 100 : hubAsked <= 1,
    `the hub asked _db_updates ${hubAsked} times`,
  );

  await writeToStore(dbs[0]!, users[0]!.user.name, 'farmer-kundi');
  const woken = await Promise.all(polls.filter((_, i) => i % 4 === 0));
  for (const w of woken)
    t.same(
      w.body.results.map((r) => r.id),
      ['farmer-kundi'],
    );
  t.equal(hub.waiting, 75, 'the phones of the other databases still wait');
  stop.abort();
  await Promise.allSettled(polls);
});

t.test('a change written while the phone is being parked is not lost', async (t) => {
  const u = await gw.signup(unique('mbio'));
  const db = u.dbs.user;
  const held = upstream.holdAnswer(new RegExp(`^GET /${db}/_changes\\?`));
  const poll = longpoll(u.access_token, db, 'since=now&timeout=15000');
  const read = await held;
  // The phone's read has found nothing and its answer is on the wire; the write lands now,
  // and the hub hears of it before that answer reaches the gateway.
  const heard = hub.requests;
  await writeToStore(db, u.user.name, 'farmer-mbio');
  await until('the hub has read the write', () => hub.requests > heard);
  await new Promise((r) => setTimeout(r, 100));
  const t0 = Date.now();
  read.release();
  const got = await poll;
  t.same(
    got.body.results.map((r) => r.id),
    ['farmer-mbio'],
  );
  t.ok(got.at - t0 < 5000, `answered ${got.at - t0} ms after, not at the timeout`);
});

t.test('back from an answer with nothing pending, a phone waits without a read', async (t) => {
  const u = await gw.signup(unique('rudi'));
  const db = u.dbs.user;
  const since = (seq: unknown) => encodeURIComponent(typeof seq === 'string' ? seq : `${seq}`);
  const start = await gw.call('GET', `/sync/${db}/_changes`, {
    auth: `Bearer ${u.access_token}`,
  });
  await writeToStore(db, u.user.name, 'farmer-rudi-1');
  // Every notice of this database (the signup's writes, this one) heard before the read
  // begins: an answer overtaken by a notice is not relied on.
  await hubHeardAll();
  const got = await longpoll(u.access_token, db, `since=${since(start.body.last_seq)}`);
  t.same(
    got.body.results.map((r) => r.id),
    ['farmer-rudi-1'],
  );
  const mark = upstream.requests.length;
  const before = hub.waiting;
  const stop = new AbortController();
  const next = longpoll(u.access_token, db, `since=${since(got.body.last_seq)}`, stop.signal);
  await until('parked', () => hub.waiting > before);
  t.same(userDbFeeds(upstream.requests.slice(mark), [db]), [], 'parked without a read upstream');
  await writeToStore(db, u.user.name, 'farmer-rudi-2');
  // The phone may be answered empty meanwhile (its user record changed): it asks again.
  let answer = await next;
  for (let i = 0; i < 5 && answer.body.results.length === 0; i++)
    answer = await longpoll(u.access_token, db, `since=${since(answer.body.last_seq)}`);
  stop.abort();
  t.same(
    answer.body.results.map((r) => r.id),
    ['farmer-rudi-2'],
    'the next write wakes it',
  );
  // From an older sequence the phone has not seen everything since: it is read.
  const old = await longpoll(u.access_token, db, `since=${since(got.body.last_seq)}&timeout=1`);
  t.same(
    old.body.results.map((r) => r.id),
    ['farmer-rudi-2'],
  );
});

t.test("user A's parked request never wakes with B's data", async (t) => {
  const [a, b] = await Promise.all([gw.signup(unique('asha')), gw.signup(unique('bora'))]);
  let aDone = false;
  const pollA = longpoll(a.access_token, a.dbs.user, 'since=now&timeout=20000').finally(
    () => (aDone = true),
  );
  const pollB = longpoll(b.access_token, b.dbs.user, 'since=now&timeout=20000');
  await until('both parked', () => hub.waiting >= 2);
  await writeToStore(b.dbs.user, b.user.name, 'farmer-bora');
  t.same(
    (await pollB).body.results.map((r) => r.id),
    ['farmer-bora'],
  );
  await new Promise((r) => setTimeout(r, 300));
  t.notOk(aDone, "A still waits: B's write is not A's news");
  await writeToStore(a.dbs.user, a.user.name, 'farmer-asha');
  t.same(
    (await pollA).body.results.map((r) => r.id),
    ['farmer-asha'],
    'A gets only its own',
  );
});

t.test("a disabled user's parked longpoll is ended", async (t) => {
  const name = unique('zawadi');
  const me = await gw.signup(name);
  const before = hub.waiting;
  const poll = longpoll(me.access_token, me.dbs.user, 'since=now&timeout=20000');
  await until('parked', () => hub.waiting > before);
  await gw.member(unique('m'), ['agent'], []); // makes the admin
  const ops = await gw.login(gw.ops);
  const t0 = Date.now();
  const offRes = await gw.call('POST', `/admin/users/${name}/disable`, {
    auth: `Bearer ${ops.access_token}`,
  });
  t.equal(offRes.status, 200);
  const got = await poll;
  t.equal(got.status, 401, 'refused as its next request would be');
  t.ok(got.at - t0 < 5000, `ended ${got.at - t0} ms after the disable`);
});

const accounts = gw.svc.app.accounts as Accounts;
const accountsDb = gw.svc.app.config.ACCOUNTS_DB;
const recordRead = new RegExp(`^GET /${accountsDb}/user(:|%3A)`, 'i');
const recordReads = (lines: string[]) => lines.filter((l) => recordRead.test(l));

/** The user's record changed straight in the accounts database, as another instance would. */
async function editRecord(name: string, edit: (doc: UserDoc) => UserDoc, on = gw) {
  const app = on.svc.app;
  const path = `/${app.config.ACCOUNTS_DB}/${encodeURIComponent(userDocId(name))}`;
  const doc = await couch(store.url, 'GET', path, { auth: store.adminAuth });
  const cache = (app.accounts as Accounts).ctx.users.cache;
  const heard = cache.heard;
  const res = await couch(store.url, 'PUT', path, {
    auth: store.adminAuth,
    body: edit(doc.body as UserDoc),
  });
  if (res.status !== 201) throw new Error(`record write: ${res.status}`);
  await until('the accounts feed brought it', () => cache.heard > heard);
}

t.test('a sync-time write leaves a parked phone parked, and costs no read', async (t) => {
  const name = unique('tumaini');
  const me = await gw.signup(name);
  const before = hub.waiting;
  let done = false;
  const poll = longpoll(me.access_token, me.dbs.user, 'since=now&timeout=20000').finally(
    () => (done = true),
  );
  await until('parked', () => hub.waiting > before);
  const mark = upstream.requests.length;
  // This instance's own write of the first pull, then another instance's of a push.
  const heard = accounts.ctx.users.cache.heard;
  accounts.recordSync(name, 'pull');
  await accounts.flushSyncTimes();
  await until('the feed brought the write', () => accounts.ctx.users.cache.heard > heard);
  await editRecord(name, (doc) => ({ ...doc, last_push_at: new Date().toISOString() }));
  t.notOk(done, 'still parked: nothing it may do changed');
  t.same(recordReads(upstream.requests.slice(mark)), [], 'its user record was not read again');
  await writeToStore(me.dbs.user, name, 'farmer-tumaini');
  const got = await poll;
  t.same(
    got.body.results.map((r) => r.id),
    ['farmer-tumaini'],
    'answered by the next write',
  );
  const next = await gw.call('GET', `/sync/${me.dbs.user}/`, { auth: `Bearer ${me.access_token}` });
  t.equal(next.status, 200);
  t.same(recordReads(upstream.requests.slice(mark)), [], 'nor for its next request');
});

t.test('disabled by another instance: the parked longpoll is refused at once', async (t) => {
  const name = unique('baraka');
  const me = await gw.signup(name);
  const before = hub.waiting;
  const poll = longpoll(me.access_token, me.dbs.user, 'since=now&timeout=20000');
  await until('parked', () => hub.waiting > before);
  const t0 = Date.now();
  await editRecord(name, (doc) => ({ ...doc, disabled: true }));
  const got = await poll;
  t.equal(got.status, 401, 'refused as its next request would be');
  t.ok(got.at - t0 < 5000, `ended ${got.at - t0} ms after the write`);
  const again = await gw.call('GET', `/sync/${me.dbs.user}/`, {
    auth: `Bearer ${me.access_token}`,
  });
  t.equal(again.status, 401, 'and so is the next request');
});

t.test(
  'disabled while its token was checked: the longpoll is refused once registered',
  async (t) => {
    const name = unique('zawadi');
    const me = await gw.signup(name);
    // Nothing is cached after the signup: the longpoll's check reads the record. Its answer (the
    // record before the disable) is held until the disable has come through the accounts feed,
    // when no phone of this user was registered to hear it.
    const path = `/${accountsDb}/${encodeURIComponent(userDocId(name))}`;
    const held = within(upstream.holdAnswer(new RegExp(`^GET ${path}[ ?]`)), 'the record read');
    const poll = longpoll(me.access_token, me.dbs.user, 'since=now&timeout=20000');
    const read = await held;
    const t0 = Date.now();
    await editRecord(name, (doc) => ({ ...doc, disabled: true }));
    read.release();
    const got = await poll;
    t.equal(got.status, 401, 'refused, not parked on the record read before the disable');
    t.ok(got.at - t0 < 5000, `ended ${got.at - t0} ms after the write`);
  },
);

/** The upstream requests (first lines) for `db`'s `_changes` as a `feed` feed. */
const upstreamFeeds = (lines: string[], db: string, feed = 'continuous') =>
  lines.filter(
    (l) =>
      /^(GET|POST) /.test(l) &&
      l.includes(` /${db}/_changes?`) &&
      new RegExp(`[?&]feed=${feed}`).test(l),
  );

for (const [how, on] of [
  ['held by the hub', gw],
  ['forwarded (hub off)', off],
] as const) {
  t.test(
    `a continuous feed ${how} ends when its user is disabled, not on a sync time`,
    async (t) => {
      const name = unique('imani');
      const me = await on.signup(name);
      const db = me.dbs.user;
      const mark = upstream.requests.length;
      const { req, res } = await within(
        open(
          `/sync/${db}/_changes?feed=continuous&since=now&heartbeat=1000`,
          {},
          {
            url: on.url,
            token: me.access_token,
          },
        ),
        'the feed',
      );
      t.teardown(() => req.destroy());
      t.equal(res.statusCode, 200);
      const ended = new Promise<void>((resolve) => res.once('close', resolve));
      // A write that changes nothing the token check reads: the feed goes on.
      await editRecord(name, (doc) => ({ ...doc, last_pull_at: new Date().toISOString() }), on);
      const flowing = readUntil(res, 'farmer-still-flowing');
      await writeToStore(db, name, 'farmer-still-flowing');
      await within(flowing, 'a change after the sync-time write');
      t.pass('still flowing after a sync-time write');
      const t0 = Date.now();
      await editRecord(name, (doc) => ({ ...doc, disabled: true }), on);
      await within(ended, 'the feed ending', 5000);
      t.ok(Date.now() - t0 < 5000, `ended ${Date.now() - t0} ms after the write`);
      const again = await on.call('GET', `/sync/${db}/`, { auth: `Bearer ${me.access_token}` });
      t.equal(again.status, 401, 'and its reconnection is refused');
      t.equal(
        upstreamFeeds(upstream.requests.slice(mark), db).length,
        on === gw ? 0 : 1,
        on === gw ? 'no continuous feed upstream' : 'one continuous feed upstream',
      );
    },
  );
}

/** A continuous feed through the gateway, read to its end (decoded); rejects on a cut. */
function continuousToEnd(token: string, db: string, query: string, encoding = 'identity') {
  return feedToEnd(token, db, `feed=continuous&${query}`, { 'accept-encoding': encoding });
}

/** A `_changes` request through the gateway (`query` names the feed), read to its end. */
async function feedToEnd(
  token: string,
  db: string,
  query: string,
  headers: Record<string, string>,
  url = gw.url,
) {
  const encoding = headers['accept-encoding'] ?? 'identity';
  const { res } = await open(
    `/sync/${db}/_changes?${query}`,
    { 'accept-encoding': encoding, ...headers },
    { url, token },
  );
  const body = encoding === 'gzip' ? res.pipe(zlib.createGunzip()) : res;
  const text = new Promise<string>((resolve, reject) => {
    let seen = '';
    body.on('data', (chunk: Buffer) => (seen += chunk.toString()));
    body.on('end', () => resolve(seen));
    body.on('error', reject);
  });
  return { res, text };
}

/** What the store itself writes for a query, as an admin. */
async function direct(db: string, query: string): Promise<string> {
  const res = await fetch(`${store.url}/${db}/_changes?${query}`, {
    headers: { authorization: store.adminAuth },
  });
  return res.text();
}

const lines = (text: string) => text.split('\n').filter((l) => l !== '');
const seqOf = (line: string) => (JSON.parse(line) as { seq: unknown }).seq;

/**
 * Our lines against the store's own, row by row (same id). CouchDB's `seq` strings depend on
 * where a read started (each shard's position), so rows are compared without them, but with
 * their fields in CouchDB's order.
 */
function sameRows(t: Test, ours: string[], theirs: string[]) {
  const unseq = (line: string) => {
    const { seq: _, ...rest } = JSON.parse(line) as Record<string, unknown>;
    return rest;
  };
  const byId = new Map(theirs.map((l) => [unseq(l).id, l]));
  const mismatched = ours.filter((l) => {
    const want = byId.get(unseq(l).id);
    const a = unseq(l);
    return !want || JSON.stringify(a) !== JSON.stringify(unseq(want));
  });
  t.same(mismatched, [], 'each row as the store writes it, fields in its order');
}

for (const encoding of ['identity', 'gzip']) {
  t.test(
    `a continuous feed on the hub: a later write arrives as CouchDB's line (${encoding})`,
    async (t) => {
      const name = unique('upendo');
      const me = await gw.signup(name);
      const db = me.dbs.user;
      const mark = upstream.requests.length;
      const before = hub.waiting;
      const q = 'since=now&limit=1&heartbeat=1000&include_docs=true';
      const feed = await within(continuousToEnd(me.access_token, db, q, encoding), 'the feed');
      t.equal(feed.res.statusCode, 200);
      if (encoding === 'gzip') t.equal(feed.res.headers['content-encoding'], 'gzip');
      await until('parked', () => hub.waiting > before && hub.reading === 0);
      await writeToStore(db, name, 'farmer-upendo');
      const got = lines(await within(feed.text, 'the feed ending at its limit'));
      const only = encodeURIComponent('["farmer-upendo"]');
      const theirs = lines(
        await direct(
          db,
          `feed=continuous&include_docs=true&filter=_doc_ids&doc_ids=${only}&limit=1`,
        ),
      );
      const row = theirs[0];
      t.equal(got.length, 2, 'the row, then the last_seq line');
      sameRows(t, got.slice(0, 1), [row!]);
      t.same(JSON.parse(got[1]!), { last_seq: seqOf(got[0]!), pending: 0 });
      t.same(upstreamFeeds(upstream.requests.slice(mark), db), [], 'no continuous feed upstream');
    },
  );
}

t.test("a continuous feed's limit ends it at the right last_seq, read in pages", async (t) => {
  const name = unique('jabari');
  const me = await gw.signup(name);
  const db = me.dbs.user;
  const docs = Array.from({ length: 130 }, (_, i) => farmer(name, `farmer-j${i}`));
  const wrote = await couch(store.url, 'POST', `/${db}/_bulk_docs`, {
    auth: store.adminAuth,
    body: { docs },
  });
  t.equal(wrote.status, 201);
  const mark = upstream.requests.length;
  const q = 'since=0&limit=120&style=all_docs';
  const feed = await continuousToEnd(me.access_token, db, q);
  const got = lines(await within(feed.text, 'the feed ending at its limit'));
  t.equal(got.length, 121, 'its limit of rows, then the last_seq line');
  // Against the store's normal feed (its own continuous one would wait out its timeout here).
  const all = JSON.parse(await direct(db, 'style=all_docs')) as { results: unknown[] };
  sameRows(
    t,
    got.slice(0, 120),
    all.results.map((r) => JSON.stringify(r)),
  );
  const last = JSON.parse(got[120]!) as { last_seq: string; pending: number };
  t.equal(last.last_seq, seqOf(got[119]!), 'last_seq: the last row’s');
  const ids = (rows: string[]) => rows.map((l) => (JSON.parse(l) as { id: string }).id);
  const since = encodeURIComponent(seqText(last.last_seq));
  const rest = JSON.parse(await direct(db, `since=${since}`)) as { results: { id: string }[] };
  t.equal(last.pending, rest.results.length, 'pending: what is left after it');
  t.same(
    new Set([...ids(got.slice(0, 120)), ...rest.results.map((r) => r.id)]).size,
    120 + rest.results.length,
    'nothing twice',
  );
  t.ok(
    docs.every(
      (d) => ids(got.slice(0, 120)).includes(d._id) || rest.results.some((r) => r.id === d._id),
    ),
    'nothing missed',
  );
  const seen = upstream.requests.slice(mark);
  t.same(upstreamFeeds(seen, db), [], 'no continuous feed upstream');
  const reads = seen.filter((l) => l.startsWith(`GET /${db}/_changes?`));
  t.same(
    reads.map((l) => /[?&]limit=(\d+)/.exec(l)?.[1]),
    ['100', '20'],
    'read a page of 100, then what was left of its limit',
  );
});

t.test('a continuous feed on the hub keeps its filter (POST _selector)', async (t) => {
  const name = unique('tatu');
  const me = await gw.signup(name);
  const db = me.dbs.user;
  const mark = upstream.requests.length;
  const before = hub.waiting;
  const res = await fetch(
    `${gw.url}/sync/${db}/_changes?feed=continuous&filter=_selector&since=now&limit=1`,
    {
      method: 'POST',
      headers: { authorization: `Bearer ${me.access_token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ selector: { village: 'Kilosa' } }),
    },
  );
  t.equal(res.status, 200);
  const text = res.text();
  await until('parked', () => hub.waiting > before && hub.reading === 0);
  await writeToStore(db, name, 'farmer-elsewhere');
  const put = await couch(store.url, 'PUT', `/${db}/farmer-kilosa`, {
    auth: store.adminAuth,
    body: farmer(name, 'farmer-kilosa', { village: 'Kilosa' }),
  });
  t.equal(put.status, 201);
  const got = lines(await within(text, 'the feed ending at its limit'));
  t.same(
    got.map((l) => (JSON.parse(l) as { id?: string }).id),
    ['farmer-kilosa', undefined],
    'only the document its selector takes, then the last_seq line',
  );
  t.same(upstreamFeeds(upstream.requests.slice(mark), db), [], 'no continuous feed upstream');
});

t.test('a phone that leaves a continuous feed on the hub leaves the hub', async (t) => {
  const me = await gw.signup(unique('safari'));
  const before = hub.waiting;
  const { req, res } = await open(
    `/sync/${me.dbs.user}/_changes?feed=continuous&since=now&heartbeat=1000`,
    {},
    { url: gw.url, token: me.access_token },
  );
  await within(readUntil(res, '\n'), 'the feed opening');
  t.ok(hub.waiting > before, 'parked on the hub');
  req.destroy();
  await until('gone from the hub', () => hub.waiting === before);
  t.pass('gone from the hub');
});

t.test('a continuous feed without a heartbeat ends at its timeout', async (t) => {
  const me = await gw.signup(unique('subira'));
  const db = me.dbs.user;
  const mark = upstream.requests.length;
  const before = hub.waiting;
  const t0 = Date.now();
  const feed = await continuousToEnd(me.access_token, db, 'since=now&timeout=500');
  await until('parked', () => hub.waiting > before);
  const got = lines(await within(feed.text, 'the feed ending at its timeout'));
  t.ok(Date.now() - t0 >= 500, 'not before its timeout');
  const now = JSON.parse(await direct(db, 'since=now')) as { last_seq: unknown };
  t.same(
    got.map((l) => JSON.parse(l) as unknown),
    [{ last_seq: now.last_seq, pending: 0 }],
  );
  t.same(upstreamFeeds(upstream.requests.slice(mark), db), [], 'no continuous feed upstream');
  t.equal(hub.waiting, before, 'and it left the hub');
});

t.test('a continuous feed ends with its last_seq when the hub is lost', async (t) => {
  const me = await gw.signup(unique('kesi'));
  const db = me.dbs.user;
  const before = hub.waiting;
  const q = 'since=now&heartbeat=1000';
  const feed = await continuousToEnd(me.access_token, db, q);
  await until('parked', () => hub.waiting > before && hub.reading === 0);
  await cutHubFeed();
  const got = lines(await within(feed.text, 'the feed ending'));
  const now = JSON.parse(await direct(db, 'since=now')) as { last_seq: unknown };
  t.same(
    got.map((l) => JSON.parse(l) as unknown),
    [{ last_seq: now.last_seq, pending: 0 }],
    'ended where it stood: the phone reconnects from there',
  );
  await until('the hub is back', () => hub.live, 15_000);
});

t.test('live PouchDB phones get changes from another phone and from the store', async (t) => {
  const name = unique('neema');
  const me = await gw.signup(name);
  const db = me.dbs.user;
  const mine = phone();
  const other = phone();
  const session = new Session(gw.url, me);
  const rep = mine.replicate.from(session.db(db), { live: true, retry: true });
  t.teardown(() => rep.cancel());
  const seen = new Set<string>();
  rep.on('change', (info: { docs: { _id: string }[] }) => {
    for (const d of info.docs) seen.add(d._id);
  });
  const arrived = (id: string) => until(`${id} arriving`, () => seen.has(id), 15_000);
  await until('the phone waits on the hub', () => hub.waiting > 0);
  await other.put(farmer(name, 'farmer-from-phone'));
  const push = await other.replicate.to(new Session(gw.url, me).db(db));
  t.equal(push.docs_written, 1);
  await arrived('farmer-from-phone');
  await writeToStore(db, name, 'farmer-from-store');
  await arrived('farmer-from-store');

  // The hub goes down mid-wait: the phone falls back to a forwarded longpoll, nothing lost.
  await until('parked again', () => hub.waiting > 0);
  await cutHubFeed();
  await writeToStore(db, name, 'farmer-after-loss');
  await arrived('farmer-after-loss');
  await until('the hub is back', () => hub.live, 15_000);
  t.pass('every write arrived');
});

t.test(
  'plain requests to CouchDB wait for one of SYNC_UPSTREAM_CONNECTIONS; feeds do not',
  async (t) => {
    const db = offAuth.dbs.user;
    const as = { url: off.url, token: offAuth.access_token };
    const bearer = { authorization: `Bearer ${offAuth.access_token}` };
    // A forwarded feed holds its own connection, outside the bound of one.
    const feed = await within(
      open(`/sync/${db}/_changes?feed=continuous&since=now&heartbeat=1000`, {}, as),
      'the feed',
    );
    t.teardown(() => feed.req.destroy());
    const held = upstream.holdAnswer(new RegExp(`^GET /${db} HTTP`));
    const info = fetch(`${off.url}/sync/${db}/`, { headers: bearer });
    const { release } = await within(held, 'the info request going upstream');
    const local = fetch(`${off.url}/sync/${db}/_local/bound-check`, { headers: bearer });
    // Nothing to await for a request that must not happen: give it time to show up if it would.
    await new Promise((r) => setTimeout(r, 300));
    const localLine = new RegExp(`^GET /${db}/_local/bound-check `);
    t.notOk(
      upstream.requests.some((l) => localLine.test(l)),
      'the second request waits for the connection',
    );
    release();
    t.equal((await within(info, 'the info answer')).status, 200);
    t.equal((await within(local, 'the checkpoint answer')).status, 404);
    t.ok(
      upstream.requests.some((l) => localLine.test(l)),
      'then goes',
    );
  },
);

// Eventsource feeds wait on the hub too: the continuous feed's rows as CouchDB's server-sent
// events.

/** Server-sent events as their fields (`data`, `id`, `event`), one object per event. */
const events = (text: string) =>
  text
    .split('\n\n')
    .filter((e) => e !== '')
    .map((e) =>
      Object.fromEntries(
        e.split('\n').map((l) => [l.slice(0, l.indexOf(': ')), l.slice(l.indexOf(': ') + 2)]),
      ),
    );

t.test("an eventsource feed on the hub: a later write arrives as CouchDB's event", async (t) => {
  const name = unique('tumaini');
  const me = await gw.signup(name);
  const db = me.dbs.user;
  const mark = upstream.requests.length;
  const before = hub.waiting;
  const q = 'feed=eventsource&since=now&limit=1&heartbeat=200&include_docs=true';
  const feed = await within(feedToEnd(me.access_token, db, q, {}), 'the feed');
  t.equal(feed.res.statusCode, 200);
  t.match(feed.res.headers, { 'content-type': /^text\/event-stream/, 'cache-control': 'no-cache' });
  await until('parked', () => hub.waiting > before && hub.reading === 0);
  await new Promise((r) => setTimeout(r, 500)); // two heartbeats' time
  await writeToStore(db, name, 'farmer-tumaini');
  const all = events(await within(feed.text, 'the feed ending at its limit'));
  const beats = all.filter((e) => e.event === 'heartbeat');
  t.ok(beats.length > 0, `heartbeats while parked: ${beats.length}`);
  t.same(
    new Set(beats.map((e) => JSON.stringify(e))),
    new Set(['{"event":"heartbeat","data":""}']),
  );
  const got = all.filter((e) => e.event !== 'heartbeat');
  const only = encodeURIComponent('["farmer-tumaini"]');
  const theirs = events(
    await direct(db, `feed=eventsource&include_docs=true&filter=_doc_ids&doc_ids=${only}&limit=1`),
  );
  t.equal(got.length, 2, 'the event, then its id alone');
  sameRows(t, [got[0]!.data!], [theirs[0]!.data!]);
  const seq = seqOf(got[0]!.data!);
  t.equal(got[0]!.id, JSON.stringify(seq), "the event's id is its seq, as CouchDB writes it");
  t.same(got[1], { id: JSON.stringify(seq) }, 'the end: where a reconnection resumes');
  t.same(
    upstreamFeeds(upstream.requests.slice(mark), db, 'eventsource'),
    [],
    'no eventsource feed upstream',
  );
});

t.test(
  'an eventsource feed resumes from Last-Event-ID, and ends with an id when the hub is lost',
  async (t) => {
    for (const [how, on] of [
      ['held by the hub', gw],
      ['forwarded (hub off)', off],
    ] as const) {
      const name = unique('baraka');
      const me = await on.signup(name);
      const db = me.dbs.user;
      await writeToStore(db, name, 'farmer-seen');
      const seen = JSON.parse(await direct(db, 'since=now')) as { last_seq: unknown };
      await writeToStore(db, name, 'farmer-missed');
      const q = 'feed=eventsource&since=now&limit=1&heartbeat=1000';
      const lastId = { 'last-event-id': seqText(seen.last_seq) };
      const resumed = await feedToEnd(me.access_token, db, q, lastId, on.url);
      const got = events(await within(resumed.text, `the resumed feed, ${how}`));
      const first = got.find((e) => e.data !== undefined && e.data !== '');
      t.equal((JSON.parse(first!.data!) as { id: string }).id, 'farmer-missed', how);
      // A phone's made-up Last-Event-ID is a made-up `since`: CouchDB's answer, never a 500.
      const forged = { 'last-event-id': 'not-a-seq"}<x>' };
      const bad = await feedToEnd(me.access_token, db, q, forged, on.url);
      await within(bad.text, `the forged id's answer, ${how}`);
      const theirs = await fetch(
        `${store.url}/${db}/_changes?feed=eventsource&limit=1&since=${encodeURIComponent(forged['last-event-id'])}`,
        {
          headers: { authorization: store.adminAuth },
        },
      );
      await theirs.text();
      t.equal(
        bad.res.statusCode,
        theirs.status,
        `a forged Last-Event-ID: ${theirs.status}, ${how}`,
      );
      t.ok(theirs.status >= 400 && theirs.status < 500);
    }
    const name = unique('baraka');
    const me = await gw.signup(name);
    const db = me.dbs.user;

    const before = hub.waiting;
    const held = await feedToEnd(
      me.access_token,
      db,
      'feed=eventsource&since=now&heartbeat=1000',
      {},
    );
    await until('parked', () => hub.waiting > before && hub.reading === 0);
    await cutHubFeed();
    const ended = events(await within(held.text, 'the feed ending')).filter(
      (e) => e.event !== 'heartbeat',
    );
    const now = JSON.parse(await direct(db, 'since=now')) as { last_seq: unknown };
    t.same(ended, [{ id: JSON.stringify(now.last_seq) }], 'no row, only where it stood');
    await until('the hub is back', () => hub.live, 15_000);
  },
);
