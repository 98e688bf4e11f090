import t from 'tap';
import { Link } from '../../bench/client-link.js';
import { retrySleep } from '../../client/backoff.js';
import { send } from '../../client/http.js';
import { unique } from '../helpers/fixtures.js';
import { couch } from '../helpers/store.js';
import {
  expiringToken,
  fileGateway,
  PASSWORD,
  phoneClient,
  sharedStorage,
  sleep,
  until,
  visit,
} from './helper.js';

/**
 * The client on a bad day: a token that runs out mid-sync, many requests waiting on one
 * refresh, a session revoked elsewhere, a link that drops mid-pull, failed requests retried,
 * and live sync both ways. Real service, embedded store, PouchDB phones.
 */
const KEY = 'sawa.session';

/** Rewrites the stored session (as another tab or a clock skew would leave it). */
function tamper(storage: ReturnType<typeof sharedStorage>, change: (s: any) => void): void {
  const session = JSON.parse(storage.values.get(KEY) as string);
  change(session);
  storage.values.set(KEY, JSON.stringify(session));
}

t.test('the client on a bad link', async (t) => {
  const gw = await fileGateway();

  t.test('a token that expires mid-sync is refreshed once and the sync goes on', async (t) => {
    const name = unique('grace');
    const storage = sharedStorage();
    const a = phoneClient(gw.url, { storage }).client;
    await a.signup(name, PASSWORD);
    await a.databases.user.bulkDocs(Array.from({ length: 40 }, () => visit(name)));
    // Expires in 2 s, though the phone believes it has an hour: only a 401 can tell.
    tamper(storage, (s) => {
      s.access_token = expiringToken(s.access_token, 2);
      s.expires_at = Date.now() + 3_600_000;
    });
    const slow = phoneClient(gw.url, { storage, batchSize: 10, localPrefix: '' }, 250);
    // The same local database as `a`: its 40 visits wait to be pushed.
    const local = slow.client;
    (local as any).options.localPrefix = (a as any).options.localPrefix;
    await local.ready;
    const result = await local.syncOnce();
    t.match(result, { pushed: 40, rejected: [], complete: true });
    t.ok(
      slow.traffic.calls.some((c) => c.status === 401 && c.path.startsWith('/sync/')),
      'the token ran out during the sync',
    );
    t.equal(slow.traffic.count(/auth\/refresh/), 1, 'one refresh');
    t.equal(local.state, 'idle');
  });

  t.test('many requests waiting on an expired token share one refresh', async (t) => {
    const name = unique('halima');
    const storage = sharedStorage();
    await phoneClient(gw.url, { storage }).client.signup(name, PASSWORD);
    tamper(storage, (s) => {
      s.access_token = expiringToken(s.access_token, -10);
      s.expires_at = Date.now() + 3_600_000;
    });
    const p = phoneClient(gw.url, { storage });
    await p.client.ready;
    const answers = await Promise.all(Array.from({ length: 6 }, () => p.client.request('/me')));
    t.same(
      answers.map((r) => r.status),
      [200, 200, 200, 200, 200, 200],
    );
    t.equal(p.traffic.count(/auth\/refresh/), 1, 'a single refresh in flight');
  });

  t.test('a revoked or reused refresh token signs the phone out, no loop', async (t) => {
    const name = unique('idd');
    const storage = sharedStorage();
    const a = phoneClient(gw.url, { storage });
    await a.client.signup(name, PASSWORD);
    // A copy of the session (a restored backup, a cloned phone) refreshes first: the
    // original's refresh token is now a used one.
    const copy = sharedStorage();
    for (const [k, v] of storage.values) copy.values.set(k, v);
    tamper(copy, (s) => (s.expires_at = 0));
    const other = phoneClient(gw.url, { storage: copy });
    await other.client.ready;
    t.equal((await other.client.request('/me')).status, 200);

    // The original phone, restarted, must refresh: its refresh token was used by the copy.
    tamper(storage, (s) => (s.expires_at = 0));
    const restarted = phoneClient(gw.url, { storage });
    await restarted.client.ready;
    const states: string[] = [];
    restarted.client.on('state', (s) => states.push(s));
    await t.rejects(restarted.client.syncOnce(), { code: 'signed-out' });
    t.equal(restarted.client.state, 'signed-out');
    t.same(states, ['syncing', 'signed-out']);
    t.equal(restarted.traffic.count(/auth\/refresh/), 1);
    const calls = restarted.traffic.calls.length;
    await t.rejects(restarted.client.syncOnce(), { code: 'signed-out' });
    t.equal(restarted.traffic.calls.length, calls, 'no request once signed out: no loop');
    t.equal(storage.values.size, 0, 'the dead session is forgotten');

    // Reuse revoked the whole session: the copy is out too at its next refresh.
    tamper(copy, (s) => (s.expires_at = 0));
    const again = phoneClient(gw.url, { storage: copy });
    await again.client.ready;
    await t.rejects(again.client.request('/me'), { code: 'signed-out' });
    t.equal(again.client.state, 'signed-out');
  });

  t.test('a dropped request is retried with backoff', async (t) => {
    const name = unique('jabiri');
    const p = phoneClient(gw.url);
    await p.client.signup(name, PASSWORD);
    await p.client.databases.user.put(visit(name));
    p.fail(2);
    const result = await p.client.syncOnce();
    t.match(result, { pushed: 1, complete: true });
    t.equal(p.traffic.calls.filter((c) => c.status === 0).length, 2, 'two failed attempts');
  });

  t.test('a link cut mid-pull: offline, then resumed from the checkpoint', async (t) => {
    const name = unique('khadija');
    const writer = phoneClient(gw.url).client;
    await writer.signup(name, PASSWORD);
    const docs = Array.from({ length: 700 }, () => visit(name, { notes: 'Mavuno ni mazuri.' }));
    await writer.databases.user.bulkDocs(docs);
    t.match(await writer.syncOnce(), { pushed: 700 });

    const link = await new Link(gw.url, {
      downBitsPerSec: 2_000_000,
      upBitsPerSec: 1_000_000,
      rttMs: 20,
    }).open();
    t.teardown(() => link.close());
    const phone = phoneClient(link.url).client;
    await phone.login(name, PASSWORD);
    const states: string[] = [];
    phone.on('state', (s) => states.push(s));
    link.cutAfterDown(12_000);
    const cut = await phone.syncOnce();
    t.ok(link.wasCut);
    t.equal(cut.complete, false);
    t.equal(phone.state, 'offline');
    t.ok(phone.lastError);
    t.ok(cut.pulled > 0 && cut.pulled < 700, `some pages stored before the cut (${cut.pulled})`);
    link.restore();
    const resumed = await phone.syncOnce();
    t.equal(resumed.complete, true);
    t.equal(cut.pulled + resumed.pulled, 700, 'resumed where it stopped: nothing twice');
    t.equal(phone.state, 'idle');
    t.same(states, ['syncing', 'offline', 'syncing', 'idle']);
    const all = await phone.databases.user.allDocs();
    t.equal(all.rows.length, 700);
  });

  t.test('live sync: server changes arrive, local writes leave', async (t) => {
    const name = unique('lulu');
    const a = phoneClient(gw.url).client;
    const b = phoneClient(gw.url).client;
    await a.signup(name, PASSWORD);
    await b.login(name, PASSWORD);
    b.startLiveSync({ pushDelayMs: 100 });
    t.teardown(() => b.stopLiveSync());
    await until(() => b.state === 'idle' && b.lastSyncedAt !== null);

    const fromServer = visit(name);
    await a.databases.user.put(fromServer);
    await a.syncOnce();
    await until(() =>
      b.databases.user.get(fromServer._id).then(
        () => true,
        () => false,
      ),
    );
    t.pass('a change on the server reached the live phone');

    const fromPhone = visit(name);
    await b.databases.user.put(fromPhone);
    const db = b.dbs?.user as string;
    await until(async () => {
      const res = await couch(gw.store.url, 'GET', `/${db}/${fromPhone._id}`, {
        auth: gw.store.adminAuth,
      });
      return res.status === 200;
    });
    t.pass('a local write reached the server');
    // The round that pushed it records its checkpoint after the server has the document.
    await until(() => b.state === 'idle');
    b.stopLiveSync();
    t.equal(await b.pending(), 0);
  });

  t.test('live sync waits on the server: a quiet second costs a held longpoll', async (t) => {
    const name = unique('tumaini');
    const phone = phoneClient(gw.url);
    await phone.client.signup(name, PASSWORD);
    phone.client.startLiveSync({ pushDelayMs: 100 });
    t.teardown(() => phone.client.stopLiveSync());
    await until(() => phone.client.state === 'idle' && phone.client.lastSyncedAt !== null);
    await until(() => phone.traffic.count(/feed=longpoll/) > 0);
    const before = phone.traffic.calls.length;
    await sleep(1000);
    const quiet = phone.traffic.calls.slice(before);
    t.ok(quiet.length <= 2, `${quiet.length} requests in a quiet second (a loop makes dozens)`);
    const refused = phone.traffic.calls.filter(
      (c) => /feed=longpoll/.test(c.path) && c.status >= 400,
    );
    t.same(refused, [], 'no longpoll refused');
  });

  t.test('longpolls answered empty at once are asked again only after a backoff', async (t) => {
    const name = unique('baraka');
    let longpolls = 0;
    const phone = phoneClient(gw.url, {
      fetch: async (input, init) => {
        const url = new URL(String(input));
        if (url.searchParams.get('feed') !== 'longpoll') return fetch(input, init);
        // A proxy that does not hold the request: the checkpoint back at once, nothing new.
        longpolls++;
        const seq = url.searchParams.get('since');
        return new Response(`{"seq":${JSON.stringify(seq)},"done":true}\n`, {
          headers: { 'content-type': 'application/x-ndjson' },
        });
      },
    });
    await phone.client.signup(name, PASSWORD);
    phone.client.startLiveSync({ pushDelayMs: 100 });
    t.teardown(() => phone.client.stopLiveSync());
    await until(() => longpolls > 0);
    const from = longpolls;
    await sleep(1500);
    // Two at once, then 1–2 s, then 2–4 s… (backoff.ts): a loop makes hundreds.
    t.ok(longpolls - from <= 3, `${longpolls - from} longpolls in 1.5 s`);
    t.equal(phone.client.state, 'idle', 'nothing failed: the phone is up to date');
  });

  t.test('a longpoll the server refuses backs the loop off instead of spinning', async (t) => {
    const name = unique('subira');
    let longpolls = 0;
    const phone = phoneClient(gw.url, {
      fetch: async (input, init) => {
        if (!String(input).includes('feed=longpoll')) return fetch(input, init);
        longpolls++;
        return new Response('{"error":"bad_request","reason":"test: refused"}', {
          status: 400,
          headers: { 'content-type': 'application/json' },
        });
      },
    });
    await phone.client.signup(name, PASSWORD);
    const states: string[] = [];
    phone.client.on('state', (s) => states.push(s));
    phone.client.startLiveSync({ pushDelayMs: 100 });
    t.teardown(() => phone.client.stopLiveSync());
    await until(() => longpolls > 0);
    await sleep(1500);
    // The first wait after a refused longpoll is 1 to 2 s (backoff.ts), the next longer.
    t.ok(longpolls <= 2, `${longpolls} longpolls in 1.5 s`);
    t.ok(states.includes('offline'), 'the phone said it could not reach the server');
  });
});

t.test('a request whose signal was aborted before it started never goes out', async (t) => {
  // Live sync's wake can abort while a request waits on its token: that signal will not
  // fire again, so the request must leave already cancelled, not wait out its timeout.
  const seen: boolean[] = [];
  const transport = {
    base: 'http://127.0.0.1:9',
    retryBaseMs: 1,
    fetch: (async (_url: string, init: RequestInit) => {
      seen.push(init.signal?.aborted ?? false);
      throw new DOMException('aborted', 'AbortError');
    }) as unknown as typeof fetch,
  };
  const cancelled = AbortSignal.abort();
  await t.rejects(send(transport, '/sync/x/_changes', { signal: cancelled }));
  t.same(seen, [true], 'one attempt, handed a signal already aborted');
});

t.test('a retry wait ends when the platform says the network is back', async (t) => {
  const platform = new EventTarget();
  // 'ended', or 'still waiting' after 5 s (the waits below are ten minutes long).
  const ended = async (wait: Promise<void>) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<string>((resolve) => {
      timer = setTimeout(() => resolve('still waiting'), 5_000);
    });
    try {
      return await Promise.race([wait.then(() => 'ended'), late]);
    } finally {
      clearTimeout(timer);
    }
  };
  // Should a wait not end, the test's end does, so the process does not wait ten minutes.
  const cleanup = new AbortController();
  t.teardown(() => cleanup.abort());
  const waiting = retrySleep(600_000, cleanup.signal, platform);
  platform.dispatchEvent(new Event('online'));
  t.equal(await ended(waiting), 'ended', '`online` ends a ten-minute wait');
  const stop = new AbortController();
  const aborted = retrySleep(600_000, stop.signal, platform);
  stop.abort();
  t.equal(await ended(aborted), 'ended', "the caller's signal still ends it");
});
