import t from 'tap';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { basicAuth, couch } from '../helpers/store.js';
import { spawnStore, type StoreProcess } from '../helpers/store-process.js';
import { phone, remote } from '../helpers/phones.js';

/**
 * `kill -9` in the middle of work, then a restart on the same DATA_DIR:
 * nothing acknowledged is lost, nothing is corrupt, and clients carry on.
 */
if (process.env.COUCHDB_URL) {
  const skip = 'needs the embedded store: crash tests kill it and restart it on its data dir';
  t.test('crash tests', { skip }, () => {});
} else {
  const dataDir = await mkdtemp(join(tmpdir(), 'sawa-crash-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  const env = { DATA_DIR: dataDir, COUCHDB_USER: 'admin', COUCHDB_PASSWORD: 'crash-admin' };
  const auth = basicAuth('admin', 'crash-admin');
  let store: StoreProcess = await spawnStore(env);
  t.teardown(() => store.stop());
  const restart = async () => {
    store = await spawnStore(env);
  };
  const info = async (db: string) => (await couch(store.url, 'GET', `/${db}`, { auth })).body;
  const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

  const COUNT = 3000;
  const db = 'field-office';
  const a = phone();
  const docs = Array.from({ length: COUNT }, (_, i) => ({
    _id: `farmer-${String(i).padStart(5, '0')}`,
    name: `Mkulima ${i}`,
    phone: `+2557${String(10_000_000 + i)}`,
    plots: [{ crop: i % 2 ? 'maize' : 'beans', acres: (i % 7) + 1 }],
  }));

  t.test(
    'kill -9 in the middle of a push: a second push completes, every document intact',
    async (t) => {
      t.equal((await couch(store.url, 'PUT', `/${db}`, { auth })).status, 201);
      await a.bulkDocs(docs);
      const push = a.replicate
        .to(
          remote(`${store.url}/${db}`, () => ({ authorization: auth })),
          { batch_size: 100 },
        )
        .catch((err: unknown) => err);
      let seen = 0;
      while (seen === 0) {
        await pause(20);
        seen = (await info(db).catch(() => ({ doc_count: 0 }))).doc_count ?? 0;
      }
      await store.stop('SIGKILL');
      t.ok(seen < COUNT, `killed with ${seen} of ${COUNT} documents written`);
      await push;

      await restart();
      const partial = await info(db);
      t.ok(
        partial.doc_count >= seen,
        `after the crash ${partial.doc_count} documents, at least the ${seen} acknowledged`,
      );
      const again = await a.replicate.to(
        remote(`${store.url}/${db}`, () => ({ authorization: auth })),
        { batch_size: 100 },
      );
      t.equal(again.ok, true);
      t.equal(again.doc_write_failures, 0);
      t.same(again.errors, []);
      const done = await info(db);
      t.equal(done.doc_count, COUNT, 'doc_count exact');
      t.equal(done.doc_del_count, 0);
      const all = await couch(store.url, 'GET', `/${db}/_all_docs?include_docs=true`, { auth });
      t.equal(all.body.rows.length, COUNT);
      const local = await a.allDocs({ include_docs: true });
      let equal = 0;
      all.body.rows.forEach((row: { id: string; doc: Record<string, unknown> }, i: number) => {
        const mine = local.rows[i]?.doc as Record<string, unknown> | undefined;
        if (mine && row.id === mine._id && JSON.stringify(row.doc) === JSON.stringify(mine))
          equal++;
      });
      t.equal(equal, COUNT, 'every document body and revision equal to the phone’s');
      const b = phone();
      const pull = await b.replicate.from(
        remote(`${store.url}/${db}`, () => ({ authorization: auth })),
      );
      t.equal(pull.docs_written, COUNT, 'a fresh phone pulls them all');
    },
  );

  t.test(
    'kill -9 in the middle of a purge rebuild: the old database is intact and the copy swept',
    async (t) => {
      const victim = await couch(store.url, 'GET', `/${db}/farmer-00007`, { auth });
      const dbsDir = join(dataDir, 'dbs');
      const dirsOf = async () => (await readdir(dbsDir)).filter((d) => d.startsWith(`${db}.`));
      t.equal((await dirsOf()).length, 1);
      const purge = couch(store.url, 'POST', `/${db}/_purge`, {
        auth,
        body: { 'farmer-00007': [victim.body._rev] },
      }).catch((err: unknown) => err);
      while ((await dirsOf()).length < 2) await pause(5);
      await store.stop('SIGKILL');
      await purge;

      await restart();
      const after = await info(db);
      const doc = await couch(store.url, 'GET', `/${db}/farmer-00007`, { auth });
      if (doc.status === 200) {
        t.equal(after.doc_count, COUNT, 'the purge never switched over: the old database, whole');
        t.equal(doc.body._rev, victim.body._rev);
      } else {
        t.comment('the copy had finished before the kill: the purge took effect');
        t.equal(after.doc_count, COUNT - 1);
      }
      t.same(
        await dirsOf(),
        [(await dirsOf())[0]],
        'one directory: the partial copy was swept at start-up',
      );
      const sample = await couch(store.url, 'GET', `/${db}/farmer-02999`, { auth });
      t.equal(sample.body.name, 'Mkulima 2999');
      const write = await couch(store.url, 'PUT', `/${db}/after-crash`, {
        auth,
        body: { ok: true },
      });
      t.equal(write.status, 201, 'the database takes writes');
      const current = await couch(store.url, 'GET', `/${db}/farmer-00007`, { auth });
      if (current.status === 200) {
        const res = await couch(store.url, 'POST', `/${db}/_purge`, {
          auth,
          body: { 'farmer-00007': [current.body._rev] },
        });
        t.same(res.body.purged, { 'farmer-00007': [current.body._rev] }, 'purging again completes');
      }
      t.equal((await info(db)).doc_count, COUNT, `${COUNT - 1} farmers and the new document`);
      t.equal((await dirsOf()).length, 1);
    },
  );

  t.test('a clean stop and restart keeps everything and the same server uuid', async (t) => {
    const uuid = (await couch(store.url, 'GET', '/')).body.uuid;
    await store.stop('SIGTERM');
    t.equal(await store.exited, 0, 'SIGTERM is a clean exit');
    await restart();
    t.equal((await couch(store.url, 'GET', '/')).body.uuid, uuid);
    t.equal((await info(db)).doc_count, COUNT);
  });
}
