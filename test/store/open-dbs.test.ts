import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import t from 'tap';
import { Registry } from '../../server/store/registry.js';

// The registry alone (no HTTP, no CouchDB): STORE_MAX_DBS_OPEN is the embedded store's own.
const dir = await mkdtemp(join(tmpdir(), 'sawa-open-dbs-'));
const reg = await Registry.open(dir, { maxOpen: 2 });
t.teardown(async () => {
  await reg.close();
  await rm(dir, { recursive: true, force: true });
});
const openCount = () => reg.openCount();
const names = ['db-a', 'db-b', 'db-c', 'db-d'];
for (const name of names) await reg.create(name);

t.test('no more than the bound stay open, and every database still answers', async (t) => {
  for (const name of names) {
    await reg.use(name, (h) => h.db.put({ _id: 'x', n: name }));
    t.ok(openCount() <= 2, `${openCount()} open after ${name}`);
  }
  for (const name of names) {
    const doc = (await reg.use(name, (h) => h.db.get('x'))) as unknown as { n: string };
    t.equal(doc.n, name, `${name} reopened with its data`);
  }
});

t.test('past the bound, the least recently used database is the one closed', async (t) => {
  const handle = (name: string) => reg.use(name, async (h) => h.db);
  const a = await handle('db-a');
  await handle('db-b');
  t.equal(await handle('db-a'), a, 'db-a still open, and now the most recently used');
  await handle('db-c'); // the bound is 2: one of db-a and db-b goes
  t.equal(await handle('db-a'), a, 'db-a was kept (db-b had waited longer)');
  t.equal(openCount(), 2);
});

t.test('a database held by a request or a feed is never closed under it', async (t) => {
  const held = await reg.acquire('db-a');
  const feed = held.db.changes({ since: 'now', live: true });
  const seen: string[] = [];
  feed.on('change', (c) => seen.push(c.id));
  let closed = false;
  held.onClose(() => (closed = true));
  for (const name of ['db-b', 'db-c', 'db-d', 'db-b', 'db-c']) {
    await reg.use(name, (h) => h.db.info());
  }
  t.notOk(closed, 'not told to close');
  await held.db.put({ _id: 'while-held' });
  await new Promise((r) => setTimeout(r, 50));
  t.same(seen, ['while-held'], 'its live feed still hears writes');
  feed.cancel();
  held.release();
  // Released, it is the least recently used: the next two databases push it out.
  await reg.use('db-b', (h) => h.db.info());
  await reg.use('db-c', (h) => h.db.info());
  t.ok(openCount() <= 2);
});

t.test('many requests at once over more databases than the bound', async (t) => {
  const work = [];
  for (let i = 0; i < 40; i++) {
    const name = names[i % names.length] as string;
    work.push(reg.use(name, (h) => h.db.put({ _id: `many-${i}` })));
  }
  const results = await Promise.allSettled(work);
  t.same(
    results.filter((r) => r.status === 'rejected').map((r) => String(r.reason)),
    [],
    'no LevelDB lock errors, no closed-database errors',
  );
  for (const name of names) {
    const info = await reg.use(name, (h) => h.db.info());
    t.equal(info.doc_count, 1 + 10 + (name === 'db-a' ? 1 : 0), `${name} has all its writes`);
  }
});

t.test('a feed that registers its closer late does not hold a rebuild (purge)', async (t) => {
  await reg.create('db-late');
  // A longpoll acquires the database, reads, and only then registers its closer: a purge
  // that began in between must still end it, not wait out its timeout.
  const feed = await reg.acquire('db-late');
  let rebuilt = false;
  const rebuild = reg
    .rebuild('db-late', async () => ({ seqOffset: 0 }))
    .then(() => (rebuilt = true));
  await new Promise((resolve) => setTimeout(resolve, 50));
  t.notOk(rebuilt, 'the rebuild waits for the request holding the database');
  let ended = false;
  feed.onClose(() => {
    ended = true;
    feed.release();
  });
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    rebuild.then(() => 'rebuilt'),
    new Promise((resolve) => (timer = setTimeout(() => resolve('still waiting'), 10_000))),
  ]);
  clearTimeout(timer);
  t.ok(ended, 'the late feed was told to end');
  t.equal(outcome, 'rebuilt');
  if (!ended) feed.release();
  await rebuild;
});

t.test('a database whose LevelDB failed to open is opened again by the next request', async (t) => {
  await reg.create('db-refused');
  // Another LevelDB handle on its directory makes the store's open fail (the lock is held),
  // as running out of file descriptors did under a fleet of phones.
  type Level = { open(cb: (err?: Error) => void): void; close(cb: (err?: Error) => void): void };
  const leveldown = createRequire(import.meta.url)('leveldown') as (path: string) => Level;
  const rogue = leveldown(reg.path(reg.record('db-refused').dir));
  await new Promise<void>((resolve, reject) => rogue.open((e) => (e ? reject(e) : resolve())));
  const failed = await reg.use('db-refused', (h) => h.db.info()).catch((e: Error) => e);
  t.ok(failed instanceof Error, 'refused while the files are held elsewhere');
  await new Promise<void>((resolve, reject) => rogue.close((e) => (e ? reject(e) : resolve())));
  const info = await reg.use('db-refused', (h) => h.db.info());
  t.equal(info.doc_count, 0, 'answers once LevelDB can open it');
});
