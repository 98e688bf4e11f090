import t from 'tap';
import type { Accounts } from '../../server/accounts/service.js';
import { UserCache } from '../../server/accounts/user-cache.js';
import { userDocId, type UserDoc } from '../../server/accounts/records.js';
import type { Stored } from '../../server/couch/upsert.js';
import { unique } from '../helpers/fixtures.js';
import { couch } from '../helpers/store.js';
import { gateway } from './helper.js';
import { raw } from './raw.js';

const gw = await gateway(t);
const accounts = gw.svc.app.accounts as Accounts;
const cache = accounts.ctx.users.cache;
const accountsDb = gw.svc.app.config.ACCOUNTS_DB;
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

async function until(what: string, ok: () => Promise<boolean> | boolean, ms = 3000) {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

t.test('a record changed elsewhere (another instance) is dropped from the cache', async (t) => {
  const name = unique('kesi');
  const me = await gw.signup(name);
  const path = `/sync/${me.dbs.user}/`;
  // The follower is live once the service is ready; the first request fills the entry.
  await until('the record is cached', async () => {
    t.equal((await raw(gw.url, 'GET', path, bearer(me.access_token))).status, 200);
    return cache.cached > 0;
  });
  const cachedBefore = cache.cached;
  t.equal((await raw(gw.url, 'GET', path, bearer(me.access_token))).status, 200, 'served');
  t.equal(cache.cached, cachedBefore, 'a second request reuses the entry');

  // Disabled by a write straight to the accounts database, as another instance (or an
  // operator with Fauxton) would: only the changes feed can tell this process.
  const id = encodeURIComponent(userDocId(name));
  const doc = await couch(gw.store.url, 'GET', `/${accountsDb}/${id}`, {
    auth: gw.store.adminAuth,
  });
  const put = await couch(gw.store.url, 'PUT', `/${accountsDb}/${id}`, {
    auth: gw.store.adminAuth,
    body: { ...(doc.body as UserDoc), disabled: true },
  });
  t.equal(put.status, 201);
  const t0 = Date.now();
  await until(
    'the disabled user is refused',
    async () => (await raw(gw.url, 'GET', path, bearer(me.access_token))).status === 401,
    2000,
  );
  t.ok(Date.now() - t0 < 2000, `refused ${Date.now() - t0} ms after the write`);
});

t.test('disabled through the admin route: the very next request is refused', async (t) => {
  const name = unique('imani');
  const me = await gw.signup(name);
  const path = `/sync/${me.dbs.user}/`;
  t.equal((await raw(gw.url, 'GET', path, bearer(me.access_token))).status, 200);
  t.equal((await raw(gw.url, 'GET', path, bearer(me.access_token))).status, 200);
  t.ok(cache.has(name), 'kept');
  await accounts.ctx.users.update(name, (d) => ({ ...d, full_name: 'Imani Juma' }));
  t.ok(cache.has(name), 'a write of nothing the token check reads keeps the entry');
  await gw.member(unique('m'), ['agent'], []); // makes the admin
  const ops = await gw.login(gw.ops);
  const off = await gw.call('POST', `/admin/users/${name}/disable`, {
    auth: `Bearer ${ops.access_token}`,
  });
  t.equal(off.status, 200);
  t.equal((await raw(gw.url, 'GET', path, bearer(me.access_token))).status, 401);
});

t.test('the cache itself: bounded, not filled by a read overtaken by a change', async (t) => {
  const doc = (name: string) => ({ name }) as unknown as Stored<UserDoc>;
  let release: (() => void) | undefined;
  let reads = 0;
  let block = true;
  const c = new UserCache(2, async (name) => {
    reads++;
    if (name === 'slow' && block) await new Promise<void>((r) => (release = r));
    return doc(name);
  });
  // Live without CouchDB: a follower that never answers stays live after its first step.
  (c as unknown as { follower: { live: boolean; stop(): void } }).follower = {
    live: true,
    stop() {},
  };
  await c.get('a');
  await c.get('b');
  await c.get('a');
  t.equal(reads, 2, 'a hit reads nothing');
  await c.get('c');
  t.equal(c.cached, 2, 'bounded');
  await c.get('a');
  t.equal(reads, 3, 'a stayed (recently used), c read once');
  await c.get('b');
  t.equal(reads, 4, 'b, the least recently used, was dropped');

  const slow = c.get('slow');
  await until('the slow read started', () => release !== undefined);
  c.invalidate('slow');
  block = false;
  release!();
  await slow;
  await c.get('slow');
  t.equal(reads, 6, 'the read overtaken by an invalidation was not kept');
});
