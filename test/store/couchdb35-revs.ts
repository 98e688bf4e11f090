import t, { type Test } from 'tap';
import { testCouch } from '../helpers/store.js';
import { client, createDb, unique } from '../helpers/fixtures.js';
import { phone, remote } from '../helpers/phones.js';

/**
 * Revisions, attachments, views and `_changes` as Apache CouchDB 3.5 answers
 * them (issue 9); each case here was answered differently by the embedded store before.
 */
const server = await testCouch(t);
const admin = client(server, server.adminAuth);
const db = await createDb(server, 'cdb35r');
const q = (v: unknown) => encodeURIComponent(JSON.stringify(v));
const json = { accept: 'application/json' };

/** Writes replicated revisions as a phone's replicator would (new_edits=false). */
async function replicate(docs: Record<string, unknown>[]) {
  const res = await admin('POST', `/${db}/_bulk_docs`, { body: { new_edits: false, docs } });
  if (res.status !== 201) throw new Error(`_bulk_docs: ${res.status} ${JSON.stringify(res.body)}`);
}

t.test('latest=true: the winner for rev, the newest leaves under it for open_revs', async (t) => {
  const id = unique('latest');
  await replicate([
    { _id: id, _rev: '3-c', _revisions: { start: 3, ids: ['c', 'b', 'a'] }, v: 'c' },
    { _id: id, _rev: '2-z', _revisions: { start: 2, ids: ['z', 'a'] }, v: 'z' },
    { _id: id, _rev: '2-y', _revisions: { start: 2, ids: ['y', 'x'] }, v: 'y' },
  ]);
  // CouchDB 3.5.0 (checked on a real one): `rev` with `latest` gives the winner, even for a
  // revision on another branch or one the document never had.
  for (const rev of ['2-b', '2-z', '1-x', '9-nope']) {
    const res = await admin('GET', `/${db}/${id}?rev=${rev}&latest=true&revs=true`);
    t.equal(res.status, 200, rev);
    t.equal(res.body._rev, '3-c', `${rev}: the winner`);
    t.same(res.body._revisions, { start: 3, ids: ['c', 'b', 'a'] }, `${rev}: its history`);
  }
  const exact = await admin('GET', `/${db}/${id}?rev=2-z`);
  t.equal(exact.body.v, 'z', 'without latest, the revision named');
  t.equal((await admin('GET', `/${db}/${id}?rev=9-nope`)).status, 404);
  const fromX = await admin('GET', `/${db}/${id}?open_revs=${q(['1-x'])}&latest=true`, {
    headers: json,
  });
  t.same(
    fromX.body.map((l: { ok: { _rev: string } }) => l.ok._rev),
    ['2-y'],
    'open_revs with latest: another root, another branch',
  );
  const all = await admin('GET', `/${db}/${id}?open_revs=${q(['1-a'])}&latest=true`, {
    headers: json,
  });
  t.same(
    all.body.map((l: { ok: { _rev: string } }) => l.ok._rev).sort(),
    ['2-z', '3-c'],
    'open_revs with latest: every leaf under 1-a',
  );
});

t.test('a revision hash reused at a later generation keeps its ancestry', async (t) => {
  const id = unique('reuse');
  await replicate([{ _id: id, _rev: '1-a', v: 1 }]);
  await replicate([{ _id: id, _rev: '2-a', _revisions: { start: 2, ids: ['a', 'a'] }, v: 2 }]);
  const doc = await admin('GET', `/${db}/${id}?revs=true&revs_info=true`);
  t.equal(doc.body._rev, '2-a');
  t.same(doc.body._revisions, { start: 2, ids: ['a', 'a'] });
  t.same(
    doc.body._revs_info.map((r: { rev: string }) => r.rev),
    ['2-a', '1-a'],
  );
  const latest = await admin('GET', `/${db}/${id}?rev=1-a&latest=true&revs=true`);
  t.equal(latest.body._rev, '2-a');
  t.same(latest.body._revisions, { start: 2, ids: ['a', 'a'] });
  const bulk = await admin('POST', `/${db}/_bulk_get?latest=true&revs=true`, {
    body: { docs: [{ id, rev: '1-a' }] },
  });
  t.same(bulk.body.results[0].docs.length, 1);
  t.match(bulk.body.results[0].docs[0], { ok: { _rev: '2-a', v: 2 } });
  // PouchDB's replicator asks exactly that; it used to abort on not_found.
  const local = phone();
  t.teardown(() => local.destroy());
  const source = remote(`${server.url}/${db}`, () => ({ authorization: server.adminAuth }));
  const result = await local.replicate.from(source, { doc_ids: [id] });
  t.equal(result.ok, true);
  t.equal(result.docs_written, 1);
  const pulled = (await local.get(id)) as unknown as Record<string, unknown>;
  t.match(pulled, { _rev: '2-a', v: 2 });
});

t.test('_bulk_get with latest over 200 conflicting revisions: each answered once', async (t) => {
  const id = unique('conflicted');
  const leaves = Array.from({ length: 200 }, (_, i) => `2-${String(i).padStart(4, '0')}`);
  await replicate(
    leaves.map((rev, i) => ({
      _id: id,
      _rev: rev,
      _revisions: { start: 2, ids: [rev.slice(2), 'root'] },
      n: i,
    })),
  );
  const res = await admin('POST', `/${db}/_bulk_get?latest=true&revs=true`, {
    body: { docs: leaves.map((rev) => ({ id, rev })) },
  });
  t.equal(res.status, 200);
  t.equal(res.body.results.length, 200);
  const answered = res.body.results.map((r: { docs: Array<{ ok: { _rev: string } }> }) =>
    r.docs.map((d) => d.ok._rev).join(),
  );
  t.same(answered, leaves, 'each leaf is its own latest, in request order');
  const fromRoot = await admin('POST', `/${db}/_bulk_get?latest=true`, {
    body: { docs: [{ id, rev: '1-root' }] },
  });
  t.equal(fromRoot.body.results[0].docs.length, 200, 'the root: all 200 leaves');
});

/** The parts of a multipart body: headers (lower-case) and body text. */
function parts(t: Test, text: string, type: string): Array<{ headers: string; body: string }> {
  const boundary = /boundary="?([^";]+)"?/.exec(type)?.[1] as string;
  t.ok(text.trimEnd().endsWith(`--${boundary}--`), 'closed by its final boundary');
  return text
    .split(`--${boundary}`)
    .slice(1, -1)
    .map((p) => {
      const at = p.indexOf('\r\n\r\n');
      return { headers: p.slice(0, at).toLowerCase(), body: p.slice(at + 4).replace(/\r\n$/, '') };
    });
}

t.test(
  'attachments=true and open_revs answer multipart unless only JSON is accepted',
  async (t) => {
    const id = unique('multi');
    await admin('PUT', `/${db}/${id}`, {
      body: {
        v: 1,
        _attachments: {
          // Not text: CouchDB sends compressible types gzipped in multipart (store.md).
          'note.bin': {
            content_type: 'application/octet-stream',
            data: Buffer.from('habari').toString('base64'),
          },
        },
      },
    });
    const auth = { authorization: server.adminAuth };
    const related = await fetch(`${server.url}/${db}/${id}?attachments=true`, {
      headers: { ...auth, accept: '*/*' },
    });
    const type = related.headers.get('content-type') ?? '';
    t.match(type, /^multipart\/related; boundary=/);
    const [doc, file] = parts(t, await related.text(), type);
    const body = JSON.parse(doc!.body);
    t.equal(body.v, 1);
    t.match(body._attachments['note.bin'], { follows: true, length: 6 });
    t.notOk(body._attachments['note.bin'].data);
    t.match(file!.headers, /content-disposition: attachment; filename="note.bin"/);
    t.equal(file!.body, 'habari');

    const asJson = await admin('GET', `/${db}/${id}?attachments=true`, { headers: json });
    t.match(asJson.headers.get('content-type'), /^application\/json/);
    t.equal(asJson.body._attachments['note.bin'].data, Buffer.from('habari').toString('base64'));

    const mixed = await fetch(`${server.url}/${db}/${id}?open_revs=all`, {
      headers: { ...auth, accept: '*/*' },
    });
    const mixedType = mixed.headers.get('content-type') ?? '';
    t.match(mixedType, /^multipart\/mixed; boundary=/);
    const leaves = parts(t, await mixed.text(), mixedType);
    t.equal(leaves.length, 1);
    // As multipart, a leaf carries its attachments' bytes even without attachments=true.
    const [leafDoc, leafFile] = parts(t, leaves[0]!.body, leaves[0]!.headers);
    t.match(JSON.parse(leafDoc!.body), { v: 1, _attachments: { 'note.bin': { follows: true } } });
    t.equal(leafFile!.body, 'habari');
    const openJson = await admin('GET', `/${db}/${id}?open_revs=all`, { headers: json });
    t.equal(openJson.body[0].ok.v, 1);

    const plain = await fetch(`${server.url}/${db}/${id}`, { headers: { ...auth, accept: '*/*' } });
    t.match(plain.headers.get('content-type'), /^application\/json/, 'stubs only: JSON');
  },
);

t.test('keys on a reduce view without group: one key reduces, several are refused', async (t) => {
  const v = await createDb(server, 'reduce-keys');
  const put = (id: string, doc: Record<string, unknown>) =>
    admin('PUT', `/${v}/${id}`, { body: doc });
  await put('_design/s', {
    views: {
      total: { map: 'function (doc) { emit(doc.town, doc.kg); }', reduce: '_sum' },
      js: {
        map: 'function (doc) { emit(doc.town, doc.kg); }',
        reduce: 'function (k, values) { return values.length; }',
      },
    },
  });
  await put('a', { town: 'Kilosa', kg: 5 });
  await put('b', { town: 'Kilosa', kg: 7 });
  await put('c', { town: 'Gairo', kg: 11 });
  await put('d', { town: 'Mvomero', kg: 100 });
  const sum = await admin('POST', `/${v}/_design/s/_view/total`, { body: { keys: ['Kilosa'] } });
  t.equal(sum.status, 200);
  t.same(sum.body.rows, [{ key: null, value: 12 }]);
  const js = await admin('POST', `/${v}/_design/s/_view/js`, { body: { keys: ['Kilosa'] } });
  t.same(js.body.rows, [{ key: null, value: 2 }]);
  const none = await admin('POST', `/${v}/_design/s/_view/total`, { body: { keys: ['Moshi'] } });
  t.same(none.body.rows, [], 'no rows, no reduced row');
  // CouchDB 3.5.0 (checked on a real one) refuses several keys unless group=true.
  for (const query of ['', '?group_level=1']) {
    const several = await admin('POST', `/${v}/_design/s/_view/total${query}`, {
      body: { keys: ['Kilosa', 'Gairo'] },
    });
    t.equal(several.status, 400, `several keys${query}`);
    t.same(several.body, {
      error: 'query_parse_error',
      reason: 'Multi-key fetches for reduce views must use `group=true`',
    });
  }
  const grouped = await admin('POST', `/${v}/_design/s/_view/total?group=true`, {
    body: { keys: ['Kilosa', 'Gairo'] },
  });
  t.same(grouped.body.rows, [
    { key: 'Kilosa', value: 12 },
    { key: 'Gairo', value: 11 },
  ]);
});

t.test('a _changes filter that throws fails the request', async (t) => {
  const f = await createDb(server, 'filter-throws');
  await admin('PUT', `/${f}/_design/f`, {
    body: {
      filters: {
        boom: 'function (doc) { if (doc.bad) throw new Error("kaboom"); return true; }',
      },
    },
  });
  await admin('PUT', `/${f}/good`, { body: { v: 1 } });
  await admin('PUT', `/${f}/bad`, { body: { bad: true } });
  const normal = await admin('GET', `/${f}/_changes?filter=f/boom`);
  t.equal(normal.status, 500);
  t.type(normal.body.error, 'string');
  if (server.embedded) t.same(normal.body, { error: 'Error', reason: 'kaboom' });
  const since = (await admin('GET', `/${f}`)).body.update_seq;
  const live = admin('GET', `/${f}/_changes?feed=longpoll&filter=f/boom&since=${since}`, {
    raw: true,
  });
  await new Promise((r) => setTimeout(r, 300));
  await admin('PUT', `/${f}/bad-too`, { body: { bad: true } });
  // CouchDB 3.5 writes a second HTTP response into the started chunked one: the client
  // sees a broken stream. The store ends the feed with the error.
  const res = await live.catch((err: Error) => ({ body: String(err.cause ?? err) }));
  if (server.embedded) t.match(res.body, /kaboom/, 'a longpoll ends with the error');
  t.throws(() => JSON.parse(res.body), 'and is no complete result');
});

t.test('_selector without a JSON object: CouchDB 3.5 error text', async (t) => {
  const res = await admin('POST', `/${db}/_changes?filter=_selector`, { body: { selector: 3 } });
  t.equal(res.status, 400);
  t.same(res.body, { error: 'bad_request', reason: 'Selector error: expected a JSON object' });
});

t.test('longpoll with heartbeat: {"results":[ first, then newlines', async (t) => {
  const l = await createDb(server, 'longpoll');
  // A heartbeat overrides the timeout (CouchDB 3.5.0 keeps such a longpoll open until a change).
  const started = Date.now();
  const res = await fetch(
    `${server.url}/${l}/_changes?feed=longpoll&heartbeat=100&timeout=200&since=now`,
    { headers: { authorization: server.adminAuth } },
  );
  const reader = res.body!.getReader();
  let text = '';
  while (Date.now() - started < 600) {
    const { value, done } = await reader.read();
    t.notOk(done, 'still open past its timeout');
    if (done) return;
    text += Buffer.from(value!).toString();
  }
  t.match(text, /^\{"results":\[\n\n+/, 'the array opens at once, heartbeats follow');
  await admin('PUT', `/${l}/wake`, { body: {} });
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    text += Buffer.from(value!).toString();
  }
  const body = JSON.parse(text);
  t.equal(body.results.length, 1);
  t.equal(body.results[0].id, 'wake');
  t.type(body.last_seq, 'string');
});
