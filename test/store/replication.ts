import t from 'tap';
import { randomBytes } from 'node:crypto';
import { testCouch, couch } from '../helpers/store.js';
import { phone, remote } from '../helpers/phones.js';

const server = await testCouch(t);
const admin = { authorization: server.adminAuth };
let n = 0;
async function freshDb(extra: { validate?: string } = {}) {
  const name = `repl-${++n}-${Date.now()}`;
  t.equal((await couch(server.url, 'PUT', `/${name}`, { auth: server.adminAuth })).status, 201);
  if (extra.validate) {
    const res = await couch(server.url, 'PUT', `/${name}/_design/rules`, {
      auth: server.adminAuth,
      body: { validate_doc_update: extra.validate },
    });
    t.equal(res.status, 201, 'validation design doc stored');
  }
  return { name, db: remote(`${server.url}/${name}`, () => admin) };
}

t.test('push then pull: every document arrives intact on a second phone', async (t) => {
  const { db } = await freshDb();
  const a = phone();
  const docs = Array.from({ length: 300 }, (_, i) => ({
    _id: `farmer-${String(i).padStart(4, '0')}`,
    name: `Farmer ${i}`,
    village: 'Kilosa',
    n: i,
  }));
  await a.bulkDocs(docs);
  const push = await a.replicate.to(db);
  t.equal(push.docs_written, 300);
  t.equal(push.doc_write_failures, 0);
  const b = phone();
  const pull = await b.replicate.from(db);
  t.equal(pull.docs_written, 300);
  const got = await b.allDocs({ include_docs: true });
  t.same(
    got.rows.map((r) => (r.doc as { n: number }).n),
    docs.map((d) => d.n),
  );
});

t.test('a replication resumes from its checkpoint', async (t) => {
  const { db } = await freshDb();
  const a = phone();
  await a.bulkDocs(Array.from({ length: 120 }, (_, i) => ({ _id: `v-${i}`, i })));
  t.equal((await a.replicate.to(db)).docs_read, 120);
  await a.bulkDocs(Array.from({ length: 30 }, (_, i) => ({ _id: `w-${i}`, i })));
  const second = await a.replicate.to(db);
  t.equal(second.docs_read, 30, 'only the new documents are read again');
  const third = await a.replicate.to(db);
  t.equal(third.docs_read, 0, 'nothing new: nothing read');
});

t.test('offline edits on two phones become a conflict everywhere', async (t) => {
  const { db } = await freshDb();
  const a = phone();
  const b = phone();
  await a.put({ _id: 'farmer-1', name: 'Asha', village: 'Mvomero' });
  await a.replicate.to(db);
  await b.replicate.from(db);
  const docA = await a.get('farmer-1');
  const docB = await b.get('farmer-1');
  await a.put({ ...docA, village: 'Kilosa' });
  await b.put({ ...docB, village: 'Gairo' });
  await a.replicate.to(db);
  await b.replicate.to(db);
  const server1 = await db.get('farmer-1', { conflicts: true });
  t.equal(server1._conflicts?.length, 1, 'the server holds both branches');
  await a.replicate.from(db);
  await b.replicate.from(db);
  const onA = await a.get('farmer-1', { conflicts: true });
  const onB = await b.get('farmer-1', { conflicts: true });
  t.equal(onA._rev, onB._rev, 'both phones pick the same winner');
  t.equal(onA._conflicts?.length, 1);
  t.equal(onB._conflicts?.length, 1);
});

t.test('deletions replicate both ways', async (t) => {
  const { db } = await freshDb();
  const a = phone();
  const b = phone();
  await a.bulkDocs([{ _id: 'x' }, { _id: 'y' }]);
  await a.replicate.to(db);
  await b.replicate.from(db);
  const x = await b.get('x');
  await b.remove(x._id, x._rev);
  await b.replicate.to(db);
  await a.replicate.from(db);
  await t.rejects(a.get('x'), { name: 'not_found' });
  t.ok(await a.get('y'));
  const info = await couch(
    server.url,
    'GET',
    `/${(db as unknown as { name: string }).name.split('/').pop()}`,
    { auth: server.adminAuth },
  );
  t.equal(info.body.doc_count, 1);
  t.equal(info.body.doc_del_count, 1);
});

t.test('attachments arrive byte for byte', async (t) => {
  const { db } = await freshDb();
  const a = phone();
  const bytes = randomBytes(70_000);
  await a.put({
    _id: 'photo',
    _attachments: { 'farm.jpg': { content_type: 'image/jpeg', data: bytes.toString('base64') } },
  });
  await a.replicate.to(db);
  const b = phone();
  await b.replicate.from(db);
  const got = (await b.getAttachment('photo', 'farm.jpg')) as Buffer;
  t.ok(Buffer.compare(got, bytes) === 0, 'same bytes');
  const raw = await fetch(`${server.url}/${dbNameOf(db)}/photo/farm.jpg`, { headers: admin });
  t.equal(raw.headers.get('content-type'), 'image/jpeg');
  t.ok(
    Buffer.compare(Buffer.from(await raw.arrayBuffer()), bytes) === 0,
    'standalone GET serves the same bytes',
  );
});

t.test('filtered replication by doc_ids and by selector', async (t) => {
  const { db } = await freshDb();
  await db.bulkDocs([
    { _id: 'f1', type: 'farmer', district: 'Kilosa' },
    { _id: 'f2', type: 'farmer', district: 'Gairo' },
    { _id: 'v1', type: 'visit', district: 'Kilosa' },
  ]);
  const byIds = phone();
  await byIds.replicate.from(db, { doc_ids: ['f2', 'v1'] });
  t.same(
    (await byIds.allDocs()).rows.map((r) => r.id),
    ['f2', 'v1'],
  );
  const bySelector = phone();
  await bySelector.replicate.from(db, { selector: { type: 'farmer', district: 'Kilosa' } });
  t.same(
    (await bySelector.allDocs()).rows.map((r) => r.id),
    ['f1'],
  );
});

const ownerOnly = `function (newDoc, oldDoc, userCtx) {
  if (newDoc._deleted) return;
  if (typeof newDoc.name !== 'string') throw({ forbidden: 'name is required' });
}`;

t.test(
  'validated database: replicated edits from two phones keep both branches (pouchdb-server issue 419)',
  async (t) => {
    const { db } = await freshDb({ validate: ownerOnly });
    const a = phone();
    const b = phone();
    await a.put({ _id: 'farmer-9', name: 'Neema' });
    await a.replicate.to(db);
    await b.replicate.from(db);
    await a.put({ ...(await a.get('farmer-9')), name: 'Neema A' });
    await b.put({ ...(await b.get('farmer-9')), name: 'Neema B' });
    const pa = await a.replicate.to(db);
    const pb = await b.replicate.to(db);
    t.equal(pa.doc_write_failures + pb.doc_write_failures, 0);
    t.equal(pa.docs_written + pb.docs_written, 2, 'both replicated updates were written');
    const onServer = await db.get('farmer-9', { conflicts: true });
    t.equal(onServer._conflicts?.length, 1, 'both branches on the server');
    const names = new Set<string>();
    for (const rev of [onServer._rev, ...(onServer._conflicts ?? [])])
      names.add((await db.get('farmer-9', { rev })).name as string);
    t.same([...names].sort(), ['Neema A', 'Neema B']);
    const c = phone();
    await c.replicate.from(db);
    t.equal(
      (await c.get('farmer-9', { conflicts: true }))._conflicts?.length,
      1,
      'and the conflict replicates down',
    );
  },
);

t.test('a write refused by validate_doc_update is reported by the replicator', async (t) => {
  const { db } = await freshDb({ validate: ownerOnly });
  const a = phone();
  await a.bulkDocs([
    { _id: 'ok', name: 'Juma' },
    { _id: 'bad', village: 'no name' },
  ]);
  const res = await a.replicate.to(db);
  t.equal(res.docs_written, 1);
  t.equal(res.doc_write_failures, 1);
  const err = (
    res.errors as Array<{ name?: string; error?: string; message?: string; reason?: string }>
  )[0];
  t.equal(err?.name ?? err?.error, 'forbidden');
  t.match(err?.message ?? err?.reason, /name is required/);
  await t.rejects(db.get('bad'), { name: 'not_found' });
});

t.test('live two-way sync carries a change within the session', async (t) => {
  const { db } = await freshDb();
  const a = phone();
  const sync = a.sync(db, { live: true, retry: false });
  t.teardown(() => sync.cancel());
  const seen = new Promise<void>((resolve) => {
    const feed = db.changes({ live: true, since: 'now' }).on('change', (c) => {
      if (c.id === 'live-1') {
        feed.cancel();
        resolve();
      }
    });
  });
  await a.put({ _id: 'live-1', name: 'live' });
  await seen;
  await db.put({ _id: 'from-server', name: 'x' });
  for (let i = 0; i < 100; i++) {
    if (await a.get('from-server').catch(() => null)) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  t.ok(await a.get('from-server'), 'server change reached the phone');
});

function dbNameOf(db: { name: string }): string {
  return db.name.split('/').pop() as string;
}
