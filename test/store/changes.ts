import t from 'tap';
import { storeOr500, testCouch } from '../helpers/store.js';
import { client, readAll, unique } from '../helpers/fixtures.js';

const server = await testCouch(t);
const admin = client(server, server.adminAuth);
const q = (v: unknown) => encodeURIComponent(JSON.stringify(v));
const H = (n: number) => n.toString(16).padStart(32, '0');
const ids = (res: { body: { results: Array<{ id: string }> } }) =>
  res.body.results.map((r) => r.id);
const auth = { authorization: server.adminAuth };

/** A database with a known history: a, b, c written; b deleted; a conflicted; a _local doc; a design doc with a filter and a view. */
async function seeded() {
  // One shard on a CouchDB (q=1; the store has one anyway): the order of rows from several
  // shards, and what a `since` taken from the middle of a feed leaves out, are CouchDB's to
  // choose, and these tests are about since, limit and order.
  const db = unique('changes');
  const created = await admin('PUT', `/${db}?q=1`);
  if (created.status !== 201) throw new Error(`creating ${db}: ${created.status}`);
  await admin('POST', `/${db}/_bulk_docs`, {
    body: {
      docs: [
        { _id: 'a', type: 'farmer', n: 1 },
        { _id: 'b', type: 'visit', n: 2 },
        { _id: 'c', type: 'farmer', n: 3 },
      ],
    },
  });
  const b = await admin('GET', `/${db}/b`);
  await admin('DELETE', `/${db}/b?rev=${b.body._rev}`);
  await admin('POST', `/${db}/_bulk_docs`, {
    body: { new_edits: false, docs: [{ _id: 'a', _rev: `1-${H(1)}`, type: 'farmer', n: 9 }] },
  });
  await admin('PUT', `/${db}/_local/cp`, { body: { seq: 1 } });
  await admin('PUT', `/${db}/_design/app`, {
    body: {
      filters: {
        farmers: 'function (doc, req) { return doc.type === (req.query.type || "farmer"); }',
      },
      views: { big: { map: 'function (doc) { if (doc.n > 2) emit(doc._id, null); }' } },
    },
  });
  return db;
}

t.test('normal feed: one row per document, last_seq, pending, no _local docs', async (t) => {
  const db = await seeded();
  const res = await admin('GET', `/${db}/_changes`);
  t.equal(res.status, 200);
  t.same(ids(res), ['c', 'b', 'a', '_design/app']);
  for (const row of res.body.results) {
    t.type(row.seq, 'string');
    t.ok(Array.isArray(row.changes) && row.changes.length >= 1);
  }
  t.equal(res.body.results.find((r: { id: string }) => r.id === 'b').deleted, true);
  t.type(res.body.last_seq, 'string');
  t.equal(res.body.last_seq, res.body.results[3].seq);
  t.equal(res.body.pending, 0);
  const all = await admin('GET', `/${db}/_changes?style=all_docs`);
  const a = all.body.results.find((r: { id: string }) => r.id === 'a');
  t.equal(a.changes.length, 2, 'style=all_docs lists every leaf');
  const winnerOnly = res.body.results.find((r: { id: string }) => r.id === 'a');
  t.equal(winnerOnly.changes.length, 1);
});

t.test('since, limit, descending, since=now', async (t) => {
  const db = await seeded();
  const all = await admin('GET', `/${db}/_changes`);
  const after = await admin(
    'GET',
    `/${db}/_changes?since=${encodeURIComponent(all.body.results[1].seq)}`,
  );
  t.same(ids(after), ['a', '_design/app']);
  const limited = await admin('GET', `/${db}/_changes?limit=2`);
  t.same(ids(limited), ['c', 'b']);
  t.equal(limited.body.last_seq, limited.body.results[1].seq);
  t.equal(limited.body.pending, 2);
  const desc = await admin('GET', `/${db}/_changes?descending=true`);
  // One node: a strict reverse. CouchDB's shards are reversed one by one (store.md).
  if (server.embedded) t.same(ids(desc), ['_design/app', 'a', 'b', 'c']);
  else t.same(ids(desc).sort(), ['_design/app', 'a', 'b', 'c']);
  const now = await admin('GET', `/${db}/_changes?since=now`);
  t.same(now.body.results, []);
  t.equal(now.body.last_seq, all.body.last_seq);
  const bad = await admin('GET', `/${db}/_changes?since=yesterday`);
  t.equal(bad.status, 400);
  t.equal(bad.body.error, 'bad_request');
  const badLimit = await admin('GET', `/${db}/_changes?limit=many`);
  t.equal(badLimit.status, storeOr500(server, 400));
});

t.test('include_docs and conflicts', async (t) => {
  const db = await seeded();
  const res = await admin('GET', `/${db}/_changes?include_docs=true&conflicts=true`);
  const a = res.body.results.find((r: { id: string }) => r.id === 'a');
  t.equal(a.doc._id, 'a');
  t.equal(a.doc._conflicts.length, 1);
  const b = res.body.results.find((r: { id: string }) => r.id === 'b');
  t.equal(b.doc._deleted, true);
  const plain = await admin('GET', `/${db}/_changes`);
  t.notOk(plain.body.results[0].doc);
});

t.test('filters: _doc_ids, _selector, _design, design functions, _view', async (t) => {
  const db = await seeded();
  const byIds = await admin(
    'GET',
    `/${db}/_changes?filter=_doc_ids&doc_ids=${q(['c', 'a', 'zzz'])}`,
  );
  t.same(ids(byIds).sort(), ['a', 'c']);
  const byIdsPost = await admin('POST', `/${db}/_changes?filter=_doc_ids`, {
    body: { doc_ids: ['b'] },
  });
  t.same(ids(byIdsPost), ['b']);
  const noIds = await admin('GET', `/${db}/_changes?filter=_doc_ids`);
  t.equal(noIds.status, 400);
  const bySelector = await admin('POST', `/${db}/_changes?filter=_selector`, {
    body: { selector: { type: 'farmer' } },
  });
  t.same(ids(bySelector).sort(), ['a', 'c']);
  const noSelector = await admin('POST', `/${db}/_changes?filter=_selector`, { body: {} });
  t.equal(noSelector.status, 400);
  const design = await admin('GET', `/${db}/_changes?filter=_design`);
  t.same(ids(design), ['_design/app']);
  const fn = await admin('GET', `/${db}/_changes?filter=app/farmers`);
  t.same(ids(fn).sort(), ['a', 'c']);
  const fnQuery = await admin('GET', `/${db}/_changes?filter=app/farmers&type=visit`);
  t.same(ids(fnQuery), [], 'the filter reads req.query (b is deleted: its tombstone has no type)');
  const view = await admin('GET', `/${db}/_changes?filter=_view&view=app/big`);
  t.same(ids(view), ['c'], 'the winning revision of a (n: 1) emits nothing');
  const missingDdoc = await admin('GET', `/${db}/_changes?filter=nope/farmers`);
  t.equal(missingDdoc.status, 404);
  const missingFn = await admin('GET', `/${db}/_changes?filter=app/nope`);
  t.equal(missingFn.status, 404);
  const malformed = await admin('GET', `/${db}/_changes?filter=justaname`);
  t.equal(malformed.status, 400);
});

t.test('longpoll: waits for the next change, or answers empty at the timeout', async (t) => {
  const db = await seeded();
  const now = await admin('GET', `/${db}/_changes?since=now`);
  const waiting = admin(
    'GET',
    `/${db}/_changes?feed=longpoll&since=${encodeURIComponent(now.body.last_seq)}&timeout=10000`,
  );
  await new Promise((r) => setTimeout(r, 100));
  await admin('PUT', `/${db}/late`, { body: { n: 4 } });
  const res = await waiting;
  t.equal(res.status, 200);
  t.same(ids(res), ['late']);
  t.type(res.body.last_seq, 'string');
  const quiet = await admin('GET', `/${db}/_changes?feed=longpoll&since=now&timeout=100`);
  t.equal(quiet.status, 200);
  t.same(quiet.body.results, []);
  t.type(quiet.body.last_seq, 'string');
  const immediate = await admin('GET', `/${db}/_changes?feed=longpoll&since=0`);
  t.equal(immediate.body.results.length, 5, 'changes already there: answered at once');
  const filtered = admin(
    'GET',
    `/${db}/_changes?feed=longpoll&since=now&filter=_doc_ids&doc_ids=${q(['wanted'])}&timeout=10000`,
  );
  await new Promise((r) => setTimeout(r, 100));
  await admin('PUT', `/${db}/unwanted`, { body: {} });
  await admin('PUT', `/${db}/wanted`, { body: {} });
  t.same(ids(await filtered), ['wanted'], 'a filtered longpoll ignores other changes');
});

t.test('continuous: one JSON line per change, then last_seq at the timeout', async (t) => {
  const db = await seeded();
  const res = await readAll(`${server.url}/${db}/_changes?feed=continuous&timeout=200`, {
    headers: auth,
  });
  t.equal(res.status, 200);
  const lines = res.text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l));
  t.same(
    lines.slice(0, -1).map((l: { id: string }) => l.id),
    ['c', 'b', 'a', '_design/app'],
  );
  t.type(lines[lines.length - 1].last_seq, 'string');
  const live = readAll(`${server.url}/${db}/_changes?feed=live&since=now&timeout=10000&limit=1`, {
    headers: auth,
  });
  await new Promise((r) => setTimeout(r, 100));
  await admin('PUT', `/${db}/streamed`, { body: {} });
  const got = await live;
  // CouchDB may send heartbeat newlines before the first row.
  const first = JSON.parse(got.text.trimStart().split('\n')[0] as string);
  t.equal(first.id, 'streamed', 'feed=live is continuous; limit ends the feed');
});

t.test('eventsource: data and JSON id lines', async (t) => {
  const db = await seeded();
  const res = await readAll(`${server.url}/${db}/_changes?feed=eventsource&timeout=200&limit=2`, {
    headers: auth,
  });
  t.equal(res.status, 200);
  t.match(res.headers.get('content-type'), /^text\/event-stream/);
  t.equal(res.headers.get('cache-control'), 'no-cache', 'as CouchDB 3.5 answers it');
  const events = res.text.split('\n\n').filter((e) => e.startsWith('data: '));
  t.equal(events.length, 2);
  const [data, id] = (events[0] as string).split('\n');
  const change = JSON.parse((data as string).slice('data: '.length));
  t.equal(change.id, 'c');
  t.equal(id, `id: ${JSON.stringify(change.seq)}`, 'the id is the JSON-encoded seq');
  const resumed = await readAll(`${server.url}/${db}/_changes?feed=eventsource&timeout=200`, {
    headers: { ...auth, 'last-event-id': change.seq },
  });
  const resumedIds = resumed.text
    .split('\n\n')
    .filter((e) => e.startsWith('data: '))
    .map((e) => JSON.parse((e.split('\n')[0] as string).slice(6)).id);
  t.same(resumedIds, ['b', 'a', '_design/app'], 'Last-Event-ID resumes after that change');
});

t.test('heartbeat keeps a quiet feed alive with newlines', async (t) => {
  const db = await seeded();
  const ctl = new AbortController();
  const res = await fetch(`${server.url}/${db}/_changes?feed=continuous&since=now&heartbeat=50`, {
    headers: auth,
    signal: ctl.signal,
  });
  const reader = res.body!.getReader();
  let text = '';
  while (!text.includes('\n')) {
    const { value, done } = await reader.read();
    if (done) break;
    text += Buffer.from(value).toString();
  }
  ctl.abort();
  t.ok(text.includes('\n'), 'a heartbeat newline arrived');
  t.equal(text.trim(), '', 'and nothing else');
  const bad = await admin('GET', `/${db}/_changes?feed=continuous&heartbeat=-5`);
  t.equal(bad.status, 400);
});

t.test('POST _changes: JSON only, an empty body is fine; unknown feeds are refused', async (t) => {
  const db = await seeded();
  const empty = await admin('POST', `/${db}/_changes`, {
    body: '',
    headers: { 'content-type': 'application/json' },
  });
  t.equal(empty.status, 200);
  t.equal(empty.body.results.length, 4);
  const text = await admin('POST', `/${db}/_changes`, {
    body: '{}',
    headers: { 'content-type': 'text/plain' },
  });
  t.equal(text.status, 415);
  const feed = await admin('GET', `/${db}/_changes?feed=carrier-pigeon`);
  t.equal(feed.status, 400);
  t.equal(feed.body.error, 'bad_request');
});

t.test('seq_interval leaves most seqs out but keeps last_seq', async (t) => {
  const db = await seeded();
  const res = await admin('GET', `/${db}/_changes?seq_interval=2`);
  t.equal(res.status, 200);
  t.equal(res.body.results.length, 4);
  t.type(res.body.last_seq, 'string');
  t.ok(
    res.body.results.some((r: { seq: unknown }) => r.seq === null),
    'some rows carry no seq',
  );
  // CouchDB 3.5 may leave the last row's seq out too (store.md); last_seq is the checkpoint.
  if (server.embedded) t.type(res.body.results[3].seq, 'string', 'the last row does');
  const bad = await admin('GET', `/${db}/_changes?seq_interval=0`);
  t.equal(bad.status, 400);
});

t.test('a deleted database ends its feeds', async (t) => {
  const db = await seeded();
  const waiting = readAll(`${server.url}/${db}/_changes?feed=continuous&since=now&timeout=60000`, {
    headers: auth,
  });
  await new Promise((r) => setTimeout(r, 100));
  await admin('DELETE', `/${db}`);
  const res = await waiting;
  t.equal(res.status, 200, 'the open feed is closed rather than left hanging');
});
