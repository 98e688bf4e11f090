import t from 'tap';
import { testCouch } from '../helpers/store.js';
import { client, createDb } from '../helpers/fixtures.js';

const server = await testCouch(t);
const admin = client(server, server.adminAuth);
const db = await createDb(server, 'docs');
const q = (v: unknown) => encodeURIComponent(JSON.stringify(v));
// CouchDB answers open_revs and attachments=true as multipart unless JSON is all the client takes.
const asJson = { accept: 'application/json' };

t.test('PUT creates with 201, ETag and Location; a stale or missing rev is a 409', async (t) => {
  const res = await admin('PUT', `/${db}/farmer-1`, { body: { name: 'Asha' } });
  t.equal(res.status, 201);
  t.match(res.body, { ok: true, id: 'farmer-1', rev: /^1-[0-9a-f]{32}$/ });
  t.equal(res.headers.get('etag'), `"${res.body.rev}"`);
  t.match(res.headers.get('location'), new RegExp(`/${db}/farmer-1$`));
  const noRev = await admin('PUT', `/${db}/farmer-1`, { body: { name: 'Asha B' } });
  t.equal(noRev.status, 409);
  t.same(noRev.body, { error: 'conflict', reason: 'Document update conflict.' });
  const updated = await admin('PUT', `/${db}/farmer-1`, {
    body: { _rev: res.body.rev, name: 'Asha B' },
  });
  t.equal(updated.status, 201);
  t.match(updated.body.rev, /^2-/);
  const stale = await admin('PUT', `/${db}/farmer-1`, {
    body: { _rev: res.body.rev, name: 'late' },
  });
  t.equal(stale.status, 409);
  t.equal(stale.body.error, 'conflict');
  const viaQuery = await admin('PUT', `/${db}/farmer-1?rev=${updated.body.rev}`, {
    body: { name: 'Asha C' },
  });
  t.equal(viaQuery.status, 201, '?rev= works like _rev');
  const viaIfMatch = await admin('PUT', `/${db}/farmer-1`, {
    body: { name: 'Asha D' },
    headers: { 'if-match': `"${viaQuery.body.rev}"` },
  });
  t.equal(viaIfMatch.status, 201, 'If-Match works like _rev');
  const mismatch = await admin('PUT', `/${db}/farmer-1?rev=1-00000000000000000000000000000000`, {
    body: { _rev: viaIfMatch.body.rev, name: 'x' },
  });
  t.equal(mismatch.status, 400, 'body and query revisions must agree');
  t.equal(mismatch.body.error, 'bad_request');
});

t.test('GET: body, ETag, If-None-Match, rev, revs, revs_info', async (t) => {
  const r1 = await admin('PUT', `/${db}/visit-1`, { body: { step: 1 } });
  const r2 = await admin('PUT', `/${db}/visit-1`, { body: { _rev: r1.body.rev, step: 2 } });
  const r3 = await admin('PUT', `/${db}/visit-1`, { body: { _rev: r2.body.rev, step: 3 } });
  const got = await admin('GET', `/${db}/visit-1`);
  t.equal(got.status, 200);
  t.same(got.body, { _id: 'visit-1', _rev: r3.body.rev, step: 3 });
  t.equal(got.headers.get('etag'), `"${r3.body.rev}"`);
  const cached = await admin('GET', `/${db}/visit-1`, {
    headers: { 'if-none-match': `"${r3.body.rev}"` },
  });
  t.equal(cached.status, 304);
  const old = await admin('GET', `/${db}/visit-1?rev=${r1.body.rev}`);
  t.equal(old.body.step, 1, 'an older revision by ?rev=');
  const revs = await admin('GET', `/${db}/visit-1?revs=true`);
  t.equal(revs.body._revisions.start, 3);
  t.same(
    revs.body._revisions.ids,
    [r3.body.rev, r2.body.rev, r1.body.rev].map((r: string) => r.split('-')[1]),
  );
  const info = await admin('GET', `/${db}/visit-1?revs_info=true`);
  t.same(
    info.body._revs_info.map((r: { rev: string }) => r.rev),
    [r3.body.rev, r2.body.rev, r1.body.rev],
  );
  t.equal(info.body._revs_info[0].status, 'available');
  const missingRev = await admin('GET', `/${db}/visit-1?rev=9-${'0'.repeat(32)}`);
  t.equal(missingRev.status, 404);
  t.equal(missingRev.body.error, 'not_found');
  const badRev = await admin('GET', `/${db}/visit-1?rev=nonsense`);
  t.equal(badRev.status, 400);
  t.same(badRev.body, { error: 'bad_request', reason: 'Invalid rev format' });
  const missing = await admin('GET', `/${db}/never-written`);
  t.equal(missing.status, 404);
  t.same(missing.body, { error: 'not_found', reason: 'missing' });
});

t.test('HEAD answers the ETag without a body', async (t) => {
  const put = await admin('PUT', `/${db}/head-1`, { body: { a: 1 } });
  const res = await fetch(`${server.url}/${db}/head-1`, {
    method: 'HEAD',
    headers: { authorization: server.adminAuth },
  });
  t.equal(res.status, 200);
  t.equal(res.headers.get('etag'), `"${put.body.rev}"`);
  t.equal(await res.text(), '');
  const missing = await fetch(`${server.url}/${db}/head-none`, {
    method: 'HEAD',
    headers: { authorization: server.adminAuth },
  });
  t.equal(missing.status, 404);
});

t.test('POST /db: generated ids, Location, batch=ok', async (t) => {
  const res = await admin('POST', `/${db}`, { body: { kind: 'generated' } });
  t.equal(res.status, 201);
  t.match(res.body, { ok: true, id: /^[0-9a-f]{32}$/, rev: /^1-/ });
  t.match(res.headers.get('location'), new RegExp(`/${db}/${res.body.id}$`));
  const withId = await admin('POST', `/${db}`, { body: { _id: 'posted-1', kind: 'named' } });
  t.equal(withId.body.id, 'posted-1');
  const dup = await admin('POST', `/${db}`, { body: { _id: 'posted-1' } });
  t.equal(dup.status, 409);
  const batch = await admin('POST', `/${db}?batch=ok`, {
    body: { _id: 'batched-1', kind: 'batch' },
  });
  t.equal(batch.status, 202);
  t.equal(batch.body.ok, true);
  t.equal(batch.body.id, 'batched-1');
  for (let i = 0; i < 50 && (await admin('GET', `/${db}/batched-1`)).status !== 200; i++) {
    await new Promise((r) => setTimeout(r, 20));
  }
  t.equal((await admin('GET', `/${db}/batched-1`)).body.kind, 'batch', 'the batched write lands');
  const notObject = await admin('POST', `/${db}`, { body: [1, 2] });
  t.equal(notObject.status, 400);
});

t.test('DELETE: 200, tombstone, 404 "deleted", re-creation', async (t) => {
  const put = await admin('PUT', `/${db}/del-1`, { body: { a: 1 } });
  const noRev = await admin('DELETE', `/${db}/del-1`);
  t.equal(noRev.status, 409, 'a delete needs the current revision');
  const res = await admin('DELETE', `/${db}/del-1?rev=${put.body.rev}`);
  t.equal(res.status, 200);
  t.match(res.body, { ok: true, id: 'del-1', rev: /^2-/ });
  t.equal(res.headers.get('etag'), `"${res.body.rev}"`);
  const gone = await admin('GET', `/${db}/del-1`);
  t.equal(gone.status, 404);
  t.same(gone.body, { error: 'not_found', reason: 'deleted' });
  const tomb = await admin('GET', `/${db}/del-1?rev=${res.body.rev}`);
  t.equal(tomb.status, 200);
  t.same(tomb.body, { _id: 'del-1', _rev: res.body.rev, _deleted: true });
  const recreated = await admin('PUT', `/${db}/del-1`, { body: { a: 2 } });
  t.equal(recreated.status, 201, 'a deleted document is re-created without a rev');
  t.match(recreated.body.rev, /^3-/);
  const missing = await admin('DELETE', `/${db}/no-such-doc?rev=1-${'a'.repeat(32)}`);
  t.equal(missing.status, 404);
  const missingNoRev = await admin('DELETE', `/${db}/no-such-doc`);
  t.equal(missingNoRev.status, 404);
  const viaBody = await admin('PUT', `/${db}/del-2`, { body: { a: 1 } });
  const delBody = await admin('PUT', `/${db}/del-2`, {
    body: { _rev: viaBody.body.rev, _deleted: true },
  });
  t.equal(delBody.status, 200, 'PUT with _deleted deletes too, answered as a DELETE');
  t.equal((await admin('GET', `/${db}/del-2`)).status, 404);
});

t.test('document ids: reserved prefixes, slashes, unicode', async (t) => {
  const bad = await admin('PUT', `/${db}/_notreserved`, { body: {} });
  t.equal(bad.status, 400);
  t.match(bad.body.error, /illegal_docid|bad_request/);
  t.match(bad.body.reason, /Only reserved document ids may start with underscore/);
  const postBad = await admin('POST', `/${db}`, { body: { _id: '_alsobad' } });
  t.equal(postBad.status, 400);
  const slashed = await admin('PUT', `/${db}/${encodeURIComponent('farm/plot 7')}`, {
    body: { plot: 7 },
  });
  t.equal(slashed.status, 201);
  t.equal(slashed.body.id, 'farm/plot 7');
  t.equal((await admin('GET', `/${db}/${encodeURIComponent('farm/plot 7')}`)).body.plot, 7);
  const swahili = 'mkulima-Zawadi-Mwangâ-✓';
  t.equal(
    (await admin('PUT', `/${db}/${encodeURIComponent(swahili)}`, { body: { ok: 1 } })).status,
    201,
  );
  t.equal((await admin('GET', `/${db}/${encodeURIComponent(swahili)}`)).body._id, swahili);
  const idMismatch = await admin('PUT', `/${db}/one`, { body: { _id: 'two' } });
  t.equal(idMismatch.status, 201, 'the URL id wins');
  t.equal(idMismatch.body.id, 'one');
  const special = await admin('PUT', `/${db}/special`, { body: { _foo: 1 } });
  t.equal(special.status, 400);
  t.equal(special.body.error, 'doc_validation');
  t.match(special.body.reason, /_foo/);
  const badRev = await admin('PUT', `/${db}/badrev`, { body: { _rev: 'nonsense' } });
  t.equal(badRev.status, 400);
});

t.test('conflicts, deleted_conflicts, open_revs and latest', async (t) => {
  const base = await admin('PUT', `/${db}/conf-1`, { body: { v: 0 } });
  const gen = base.body.rev.split('-')[1];
  // Two branches and a deleted third, as replication from three phones would leave them.
  const bulk = await admin('POST', `/${db}/_bulk_docs`, {
    body: {
      new_edits: false,
      docs: [
        { _id: 'conf-1', _rev: '2-aaaa', v: 'a', _revisions: { start: 2, ids: ['aaaa', gen] } },
        { _id: 'conf-1', _rev: '2-bbbb', v: 'b', _revisions: { start: 2, ids: ['bbbb', gen] } },
        {
          _id: 'conf-1',
          _rev: '2-0000',
          _deleted: true,
          _revisions: { start: 2, ids: ['0000', gen] },
        },
      ],
    },
  });
  t.equal(bulk.status, 201);
  const doc = await admin('GET', `/${db}/conf-1?conflicts=true&deleted_conflicts=true`);
  t.equal(doc.body._rev, '2-bbbb', 'the highest revision id wins');
  t.same(doc.body._conflicts, ['2-aaaa']);
  t.same(doc.body._deleted_conflicts, ['2-0000']);
  const meta = await admin('GET', `/${db}/conf-1?meta=true`);
  t.ok(
    meta.body._revs_info && meta.body._conflicts && meta.body._deleted_conflicts,
    'meta=true is all three',
  );
  const all = await admin('GET', `/${db}/conf-1?open_revs=all`, { headers: asJson });
  t.equal(all.status, 200);
  t.same(all.body.map((r: { ok: { _rev: string } }) => r.ok._rev).sort(), [
    '2-0000',
    '2-aaaa',
    '2-bbbb',
  ]);
  const some = await admin('GET', `/${db}/conf-1?open_revs=${q(['2-aaaa', '3-zzzz'])}&revs=true`, {
    headers: asJson,
  });
  t.same(some.body[0].ok._revisions, { start: 2, ids: ['aaaa', gen] });
  t.same(some.body[1], { missing: '3-zzzz' });
  const latest = await admin('GET', `/${db}/conf-1?open_revs=${q([base.body.rev])}&latest=true`, {
    headers: asJson,
  });
  t.same(
    latest.body.map((r: { ok: { _rev: string } }) => r.ok._rev).sort(),
    ['2-0000', '2-aaaa', '2-bbbb'],
    'latest follows every branch to its leaf',
  );
  const bad = await admin('GET', `/${db}/conf-1?open_revs=notjson`);
  t.equal(bad.status, 400);
  const none = await admin('GET', `/${db}/never-there?open_revs=all`);
  t.equal(none.status, 404);
});

t.test('open_revs as multipart/mixed when the client asks for it', async (t) => {
  await admin('PUT', `/${db}/mp-1`, { body: { v: 1 } });
  const res = await fetch(`${server.url}/${db}/mp-1?open_revs=all`, {
    headers: { authorization: server.adminAuth, accept: 'multipart/mixed' },
  });
  t.equal(res.status, 200);
  const type = res.headers.get('content-type') ?? '';
  t.match(type, /^multipart\/mixed; boundary=/);
  const boundary = /boundary="?([^";]+)"?/.exec(type)?.[1] as string;
  const text = await res.text();
  t.ok(text.includes(`--${boundary}`));
  t.ok(text.trimEnd().endsWith(`--${boundary}--`), 'closed by the final boundary');
  const json = text
    .split(`--${boundary}`)
    .map((p) => p.split('\r\n\r\n')[1]?.trim())
    .filter((b): b is string => !!b && b.startsWith('{'));
  t.equal(json.length, 1);
  t.equal(JSON.parse(json[0] as string).v, 1);
  const asJson = await fetch(`${server.url}/${db}/mp-1?open_revs=all`, {
    headers: { authorization: server.adminAuth, accept: 'application/json' },
  });
  t.match(asJson.headers.get('content-type'), /application\/json/);
});

t.test('_local documents: plain storage, never listed, never in _changes', async (t) => {
  const local = await createDb(server, 'local');
  const put = await admin('PUT', `/${local}/_local/checkpoint`, { body: { seq: 5 } });
  t.equal(put.status, 201);
  t.same(put.body, { ok: true, id: '_local/checkpoint', rev: '0-1' });
  const next = await admin('PUT', `/${local}/_local/checkpoint`, { body: { _rev: '0-1', seq: 6 } });
  t.equal(next.body.rev, '0-2');
  const got = await admin('GET', `/${local}/_local/checkpoint`);
  t.same(got.body, { _id: '_local/checkpoint', _rev: '0-2', seq: 6 });
  const viaEncoded = await admin('GET', `/${local}/${encodeURIComponent('_local/checkpoint')}`);
  t.equal(viaEncoded.body.seq, 6, '_local%2Fid reaches the same document');
  await admin('PUT', `/${local}/normal`, { body: {} });
  const all = await admin('GET', `/${local}/_all_docs`);
  t.same(
    all.body.rows.map((r: { id: string }) => r.id),
    ['normal'],
  );
  const changes = await admin('GET', `/${local}/_changes`);
  t.same(
    changes.body.results.map((r: { id: string }) => r.id),
    ['normal'],
  );
  t.equal((await admin('GET', `/${local}`)).body.doc_count, 1);
  const del = await admin('DELETE', `/${local}/_local/checkpoint?rev=0-2`);
  t.equal(del.status, 200);
  t.equal((await admin('GET', `/${local}/_local/checkpoint`)).status, 404);
  const bare = await admin('GET', `/${local}/_local`);
  t.equal(bare.status, 400, '/db/_local alone is no document');
  const att = await admin('PUT', `/${local}/_local/x/file.txt`, {
    body: 'hi',
    headers: { 'content-type': 'text/plain' },
  });
  t.equal(att.status, 400, '_local documents take no attachments');
});

t.test('design documents are stored and read like documents', async (t) => {
  const res = await admin('PUT', `/${db}/_design/app`, {
    body: { language: 'javascript', views: { all: { map: 'function (doc) { emit(doc._id) }' } } },
  });
  t.equal(res.status, 201);
  t.equal(res.body.id, '_design/app');
  const got = await admin('GET', `/${db}/_design/app`);
  t.equal(got.body._id, '_design/app');
  const encoded = await admin('GET', `/${db}/_design%2Fapp`);
  t.ok(encoded.status === 200 || encoded.status === 301, `_design%2Fapp answers ${encoded.status}`);
  const del = await admin('DELETE', `/${db}/_design/app?rev=${res.body.rev}`);
  t.equal(del.status, 200);
});

t.test('COPY duplicates a document to the Destination id', async (t) => {
  const src = await admin('PUT', `/${db}/copy-src`, { body: { crop: 'maize' } });
  const res = await admin('COPY', `/${db}/copy-src`, { headers: { destination: 'copy-dst' } });
  t.equal(res.status, 201);
  t.match(res.body, { ok: true, id: 'copy-dst', rev: /^1-/ });
  t.equal((await admin('GET', `/${db}/copy-dst`)).body.crop, 'maize');
  const again = await admin('COPY', `/${db}/copy-src`, { headers: { destination: 'copy-dst' } });
  t.equal(again.status, 409, 'copying over an existing document needs its rev');
  const over = await admin('COPY', `/${db}/copy-src?rev=${src.body.rev}`, {
    headers: { destination: `copy-dst?rev=${res.body.rev}` },
  });
  t.equal(over.status, 201);
  t.match(over.body.rev, /^2-/);
  const noDest = await admin('COPY', `/${db}/copy-src`);
  t.equal(noDest.status, 400);
});

t.test('a document larger than the limit is refused whole', async (t) => {
  if (!server.embedded) {
    t.comment('the limit is configuration of the embedded store');
    return;
  }
  const big = await admin('PUT', `/${db}/big`, { body: { blob: 'x'.repeat(9 * 1024 * 1024) } });
  t.equal(big.status, 413);
  t.match(big.body.error, /too_large/);
  t.equal((await admin('GET', `/${db}/big`)).status, 404, 'nothing written');
});

t.test('unsupported methods answer 405 with Allow', async (t) => {
  const res = await admin('PATCH', `/${db}/farmer-1`, { body: {} });
  t.equal(res.status, 405);
  t.equal(res.body.error, 'method_not_allowed');
  t.ok(res.headers.get('allow'), 'Allow header');
});
