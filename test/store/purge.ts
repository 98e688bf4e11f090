import t from 'tap';
import { testCouch } from '../helpers/store.js';
import { client, createDb, readAll } from '../helpers/fixtures.js';
import { phone, remote } from '../helpers/phones.js';

const server = await testCouch(t);
const admin = client(server, server.adminAuth);
const H = (n: number) => n.toString(16).padStart(32, '0');
const seqNum = (s: string) => Number(String(s).split('-')[0]);

t.test('purging a document forgets it entirely', async (t) => {
  const db = await createDb(server, 'purge');
  const keep = await admin('PUT', `/${db}/keep`, { body: { v: 1 } });
  const secret = await admin('PUT', `/${db}/secret`, { body: { phone: '+255700000001' } });
  const before = await admin('GET', `/${db}`);
  const res = await admin('POST', `/${db}/_purge`, {
    body: { secret: [secret.body.rev], nothing: [`1-${H(1)}`] },
  });
  t.equal(res.status, 201);
  t.same(res.body, { purge_seq: null, purged: { secret: [secret.body.rev], nothing: [] } });
  const gone = await admin('GET', `/${db}/secret`);
  t.equal(gone.status, 404);
  t.equal(gone.body.reason, 'missing', 'missing, not deleted: no tombstone is left');
  t.equal((await admin('GET', `/${db}/secret?rev=${secret.body.rev}`)).status, 404);
  const info = await admin('GET', `/${db}`);
  t.equal(info.body.doc_count, 1);
  t.equal(info.body.doc_del_count, 0);
  t.ok(
    seqNum(info.body.update_seq) >= seqNum(before.body.update_seq),
    'update_seq never goes backwards',
  );
  t.ok(
    seqNum(info.body.purge_seq) > seqNum(before.body.purge_seq),
    'purge_seq moves, so jobs can notice the erasure',
  );
  const changes = await admin('GET', `/${db}/_changes`);
  t.same(
    changes.body.results.map((r: { id: string }) => r.id),
    ['keep'],
  );
  const all = await admin('GET', `/${db}/_all_docs`);
  t.same(
    all.body.rows.map((r: { id: string }) => r.id),
    ['keep'],
  );
  t.equal(
    (await admin('GET', `/${db}/keep`)).body._rev,
    keep.body.rev,
    'other documents are untouched',
  );
  const next = await admin('PUT', `/${db}/after`, { body: {} });
  t.equal(next.status, 201, 'the database takes writes after a purge');
  const later = await admin(
    'GET',
    `/${db}/_changes?since=${encodeURIComponent(changes.body.last_seq)}`,
  );
  t.same(
    later.body.results.map((r: { id: string }) => r.id),
    ['after'],
  );
});

t.test('purging one conflicting leaf leaves the other as the only revision', async (t) => {
  const db = await createDb(server, 'purge-conflict');
  await admin('POST', `/${db}/_bulk_docs`, {
    body: {
      new_edits: false,
      docs: [
        { _id: 'c', _rev: `2-${H(2)}`, v: 'a', _revisions: { start: 2, ids: [H(2), H(1)] } },
        { _id: 'c', _rev: `2-${H(3)}`, v: 'b', _revisions: { start: 2, ids: [H(3), H(1)] } },
      ],
    },
  });
  t.equal((await admin('GET', `/${db}/c?conflicts=true`)).body._conflicts.length, 1);
  const res = await admin('POST', `/${db}/_purge`, { body: { c: [`2-${H(3)}`] } });
  t.same(res.body.purged, { c: [`2-${H(3)}`] });
  const doc = await admin('GET', `/${db}/c?conflicts=true&revs=true`);
  t.equal(doc.body._rev, `2-${H(2)}`);
  t.notOk(doc.body._conflicts);
  t.same(doc.body._revisions, { start: 2, ids: [H(2), H(1)] }, 'the history survives');
  const nonLeaf = await admin('POST', `/${db}/_purge`, { body: { c: [`1-${H(1)}`] } });
  t.same(nonLeaf.body.purged, { c: [] }, 'only leaves can be purged');
});

t.test('attachments and _local documents survive a purge of something else', async (t) => {
  const db = await createDb(server, 'purge-keep');
  const bytes = Buffer.from('picha ya shamba');
  await admin('PUT', `/${db}/photo`, {
    body: {
      _attachments: { 'a.jpg': { content_type: 'image/jpeg', data: bytes.toString('base64') } },
    },
  });
  await admin('PUT', `/${db}/_local/checkpoint`, { body: { seq: 42 } });
  const victim = await admin('PUT', `/${db}/victim`, { body: {} });
  await admin('POST', `/${db}/_purge`, { body: { victim: [victim.body.rev] } });
  const att = await fetch(`${server.url}/${db}/photo/a.jpg`, {
    headers: { authorization: server.adminAuth },
  });
  t.ok(Buffer.from(await att.arrayBuffer()).equals(bytes));
  const local = await admin('GET', `/${db}/_local/checkpoint`);
  t.equal(local.status, 200);
  t.equal(local.body.seq, 42);
});

t.test('replication after a purge: a second pull does not bring the document back', async (t) => {
  const db = await createDb(server, 'purge-repl');
  const url = `${server.url}/${db}`;
  const server_ = remote(url, () => ({ authorization: server.adminAuth }));
  const a = phone();
  await a.bulkDocs([{ _id: 'x' }, { _id: 'y' }]);
  await a.replicate.to(server_);
  const y = await admin('GET', `/${db}/y`);
  await admin('POST', `/${db}/_purge`, { body: { y: [y.body._rev] } });
  const b = phone();
  const pull = await b.replicate.from(server_);
  t.equal(pull.doc_write_failures, 0);
  t.same(
    (await b.allDocs()).rows.map((r) => r.id),
    ['x'],
  );
  const again = await a.replicate.to(server_);
  t.equal(
    again.doc_write_failures,
    0,
    'a phone that still has it can push it again without errors',
  );
});

t.test(
  'a purge ends open feeds on the database rather than leaving them on the old files',
  async (t) => {
    const db = await createDb(server, 'purge-feed');
    const doc = await admin('PUT', `/${db}/d`, { body: {} });
    const feed = readAll(`${server.url}/${db}/_changes?feed=continuous&since=now&timeout=60000`, {
      headers: { authorization: server.adminAuth },
    });
    await new Promise((r) => setTimeout(r, 100));
    await admin('POST', `/${db}/_purge`, { body: { d: [doc.body.rev] } });
    const res = await feed;
    t.equal(res.status, 200);
  },
);

t.test('purge requests are checked', async (t) => {
  const db = await createDb(server, 'purge-bad');
  t.equal((await admin('POST', `/${db}/_purge`, { body: { x: 'not-a-list' } })).status, 400);
  t.equal((await admin('POST', `/${db}/_purge`, { body: { x: ['nonsense'] } })).status, 400);
  t.equal((await admin('POST', `/${db}/_purge`, { body: [] })).status, 400);
  const tooMany = Object.fromEntries(
    Array.from({ length: 101 }, (_, i) => [`d${i}`, [`1-${H(i)}`]]),
  );
  t.equal((await admin('POST', `/${db}/_purge`, { body: tooMany })).status, 400);
  t.equal(
    (
      await admin('POST', `/${db}/_purge`, {
        body: '{}',
        headers: { 'content-type': 'text/plain' },
      })
    ).status,
    415,
  );
});
