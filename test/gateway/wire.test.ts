import t from 'tap';
import zlib from 'node:zlib';
import PouchDB from 'pouchdb';
import { unique } from '../helpers/fixtures.js';
import { phone } from '../helpers/phones.js';
import { farmer, gateway, Session } from './helper.js';
import { raw } from './raw.js';

// What crosses the wire: compressed answers, gzip request bodies, size limits, bad input.

const LIMIT = 64 * 1024;
const gw = await gateway(t, { env: { SYNC_MAX_REQUEST_BYTES: String(LIMIT) } });
const amina = unique('amina');
const auth = await gw.signup(amina);
const DB = auth.dbs.user;
const H = { authorization: `Bearer ${auth.access_token}` };
const JSONH = { ...H, 'content-type': 'application/json' };
const docs = Array.from({ length: 60 }, (_, i) =>
  farmer(amina, `farmer-${i}`, { notes: undefined }),
);
await raw(gw.url, 'POST', `/sync/${DB}/_bulk_docs`, JSONH, JSON.stringify({ docs }));

t.test('answers are compressed by Accept-Encoding: br, gzip, or not at all', async (t) => {
  const path = `/sync/${DB}/_all_docs?include_docs=true`;
  const plain = await raw(gw.url, 'GET', path, H);
  t.equal(plain.status, 200);
  t.notOk(plain.headers['content-encoding'], 'no Accept-Encoding: identity');
  t.equal(plain.json.rows.length, docs.length + 1);
  for (const [accept, encoding, decode] of [
    ['gzip, deflate', 'gzip', zlib.gunzipSync],
    ['gzip, deflate, br', 'br', zlib.brotliDecompressSync],
  ] as const) {
    const res = await raw(gw.url, 'GET', path, { ...H, 'accept-encoding': accept });
    t.equal(res.headers['content-encoding'], encoding, `${accept} → ${encoding}`);
    t.notOk(res.headers['content-length'], 'streamed, so no length');
    const body = decode(res.body);
    t.same(JSON.parse(body.toString()), plain.json, 'the same answer');
    t.ok(
      res.body.length < plain.body.length / 3,
      `${encoding}: ${res.body.length} bytes for ${plain.body.length}`,
    );
  }
  const tiny = await raw(gw.url, 'GET', `/sync/${DB}/_local/none`, {
    ...H,
    'accept-encoding': 'gzip',
  });
  t.equal(tiny.status, 404);
  t.notOk(tiny.headers['content-encoding'], 'a tiny answer is not worth compressing');
});

t.test("the answer leaves CouchDB's internal headers behind", async (t) => {
  const res = await raw(
    gw.url,
    'PUT',
    `/sync/${DB}/farmer-new`,
    JSONH,
    JSON.stringify(farmer(amina, 'farmer-new')),
  );
  t.equal(res.status, 201);
  for (const h of [
    'server',
    'x-couch-request-id',
    'x-couchdb-body-time',
    'location',
    'cache-control',
  ]) {
    t.notOk(res.headers[h], `no ${h}`);
  }
  t.ok(res.headers.etag, 'ETag kept');
});

t.test('gzip request bodies are accepted', async (t) => {
  const more = Array.from({ length: 20 }, (_, i) => farmer(amina, `gz-${i}`));
  const body = zlib.gzipSync(JSON.stringify({ docs: more }));
  const res = await raw(
    gw.url,
    'POST',
    `/sync/${DB}/_bulk_docs`,
    { ...JSONH, 'content-encoding': 'gzip' },
    body,
  );
  t.equal(res.status, 201);
  t.equal(res.json.filter((r: { ok?: boolean }) => r.ok).length, 20);
  const diff = await raw(
    gw.url,
    'POST',
    `/sync/${DB}/_revs_diff`,
    { ...JSONH, 'content-encoding': 'gzip' },
    zlib.gzipSync(JSON.stringify({ 'gz-0': ['1-x'] })),
  );
  t.equal(diff.status, 200);
  t.same(diff.json, { 'gz-0': { missing: ['1-x'] } });

  // A phone whose fetch wrapper gzips what it sends replicates as any other.
  const session = new Session(gw.url, auth);
  const gzipFetch = async (url: string | Request, opts: RequestInit = {}) => {
    if (typeof opts.body === 'string' && opts.body.length > 512) {
      const h = new Headers(opts.headers);
      h.set('content-encoding', 'gzip');
      opts = { ...opts, headers: h, body: zlib.gzipSync(opts.body) };
    }
    return session.fetch(url, opts);
  };
  const p = phone();
  await p.bulkDocs(Array.from({ length: 80 }, (_, i) => farmer(amina, `pushed-${i}`)));
  const remote = new PouchDB(`${gw.url}/sync/${DB}`, {
    skip_setup: true,
    fetch: gzipFetch as never,
  });
  const push = await p.replicate.to(remote);
  t.equal(push.docs_written, 80);
  t.equal(push.doc_write_failures, 0);
});

t.test('attachments stream through both ways', async (t) => {
  const photo = Buffer.alloc(LIMIT - 1024);
  for (let i = 0; i < photo.length; i++) photo[i] = (i * 7919) % 251;
  const doc = await raw(gw.url, 'GET', `/sync/${DB}/farmer-1`, H);
  const put = await raw(
    gw.url,
    'PUT',
    `/sync/${DB}/farmer-1/photo.jpg?rev=${doc.json._rev}`,
    { ...H, 'content-type': 'image/jpeg' },
    photo,
  );
  t.equal(put.status, 201, 'uploaded (CouchDB judged the write as the user)');
  const got = await raw(gw.url, 'GET', `/sync/${DB}/farmer-1/photo.jpg`, {
    ...H,
    'accept-encoding': 'gzip, br',
  });
  t.equal(got.status, 200);
  t.notOk(got.headers['content-encoding'], 'a JPEG is not compressed again');
  t.ok(got.body.equals(photo), 'the same bytes come back');
  const gz = await raw(
    gw.url,
    'PUT',
    `/sync/${DB}/farmer-1/notes.txt?rev=${put.json.rev}`,
    { ...H, 'content-type': 'text/plain', 'content-encoding': 'gzip' },
    zlib.gzipSync('habari za shamba'),
  );
  t.equal(gz.status, 201, 'a gzip-encoded upload is decoded on the way');
  const text = await raw(gw.url, 'GET', `/sync/${DB}/farmer-1/notes.txt`, H);
  t.equal(text.body.toString(), 'habari za shamba');
});

t.test('413 for bodies over SYNC_MAX_REQUEST_BYTES, declared, chunked or inflated', async (t) => {
  const big = JSON.stringify({ docs: [farmer(amina, 'big', { notes: 'x'.repeat(LIMIT) })] });
  const declared = await raw(gw.url, 'POST', `/sync/${DB}/_bulk_docs`, JSONH, big);
  t.equal(declared.status, 413);
  t.same(declared.json, {
    error: 'too_large',
    reason: `the request body is larger than ${LIMIT} bytes (after decoding)`,
  });

  const chunked = await raw(
    gw.url,
    'POST',
    `/sync/${DB}/_bulk_docs`,
    { ...JSONH, 'transfer-encoding': 'chunked' },
    big,
  );
  t.equal(chunked.status, 413, 'no Content-Length: counted as it comes');

  // 50 MB of zeros in ~50 KB of gzip: refused once the inflated size passes the limit.
  const bomb = zlib.gzipSync(Buffer.alloc(50 * 1024 * 1024), { level: 9 });
  t.ok(bomb.length < LIMIT, `the bomb itself (${bomb.length} bytes) is under the limit`);
  const res = await raw(
    gw.url,
    'POST',
    `/sync/${DB}/_bulk_docs`,
    { ...JSONH, 'content-encoding': 'gzip' },
    bomb,
  );
  t.equal(res.status, 413, 'gzip bomb');
  t.equal(res.json?.error, 'too_large');

  const upload = await raw(
    gw.url,
    'PUT',
    `/sync/${DB}/farmer-0/big.bin?rev=1-x`,
    { ...H, 'content-type': 'application/octet-stream' },
    Buffer.alloc(LIMIT + 1),
  );
  t.equal(upload.status, 413, 'an attachment upload too');
  const streamed = await raw(
    gw.url,
    'PUT',
    `/sync/${DB}/farmer-0/big.bin?rev=1-x`,
    { ...H, 'content-type': 'application/octet-stream', 'transfer-encoding': 'chunked' },
    Buffer.alloc(LIMIT * 2),
  );
  t.equal(streamed.status, 413, 'a chunked upload is cut at the limit while it streams');
});

t.test('bad input is a 4xx, never a 500', async (t) => {
  const cases: [string, string, Record<string, string>, (string | Buffer)?][] = [
    ['POST', '_bulk_docs', JSONH, '{not json'],
    ['POST', '_bulk_docs', JSONH, '[]'],
    ['POST', '_bulk_docs', JSONH, '{"docs": {}}'],
    ['POST', '_bulk_docs', JSONH, '{"docs": [1, "two"]}'],
    ['POST', '_bulk_docs', JSONH, ''],
    ['POST', '_bulk_docs', { ...JSONH, 'content-encoding': 'gzip' }, 'plainly not gzip'],
    ['POST', '_bulk_docs', { ...JSONH, 'content-encoding': 'compress' }, 'x'],
    ['POST', '_bulk_docs', { ...H, 'content-type': 'a b c' }, '{}'],
    ['PUT', 'farmer-x', JSONH, 'nope'],
    ['PUT', 'farmer-x', JSONH, '"a string"'],
    ['PUT', 'farmer-x', { ...H, 'content-type': 'multipart/related; boundary=x' }, '--x--'],
    // CouchDB 3.5: 500 {{nocatch,<<"expected more data">>}} for a multipart body cut short.
    ['PUT', 'farmer-x', { ...H, 'content-type': 'multipart/related; boundary=x' }, ''],
    ['PUT', '_local/x', { ...H, 'content-type': 'multipart/related; boundary=x' }, ''],
    ['PUT', '_local/x', { ...H, 'content-type': 'multipart/related; boundary=x' }, '--x'],
    ['DELETE', 'farmer-0', H],
    ['GET', '_changes?since=not-a-seq', H],
    ['GET', '_changes?feed=sideways', H],
    ['GET', '_changes?limit=-5', H],
    ['POST', '_bulk_get', JSONH, '{"docs": 7}'],
    ['POST', '_bulk_get', JSONH, '{oops'],
    ['POST', '_revs_diff', JSONH, '[1,2]'],
    ['POST', '_all_docs', JSONH, '{"keys": "x"}'],
    ['GET', '_all_docs?startkey=%7Bbad', H],
    ['PUT', '_local/x', JSONH, '[]'],
    ['GET', 'farmer-0?rev=junk', H],
    ['GET', 'farmer-0?open_revs=notjson', H],
  ];
  for (const [method, path, headers, body] of cases) {
    const res = await raw(gw.url, method, `/sync/${DB}/${path}`, headers, body);
    t.ok(
      res.status >= 400 && res.status < 500,
      `${method} ${path} ${String(body ?? '').slice(0, 40)} → ${res.status}`,
    );
    t.ok(typeof res.json?.error === 'string', 'CouchDB-shaped');
  }
  // Odd documents inside a good batch are per-document errors, as in CouchDB.
  for (const body of [
    '{"docs": [{"_id": 5}]}',
    '{"docs": [{"_rev": "junk", "_revisions": {"start": "x"}}], "new_edits": false}',
    '{"docs": [{"_id": "a", "_revisions": {"start": 3, "ids": [1, null]}, "_rev": "3-q"}], "new_edits": false}',
  ]) {
    const res = await raw(gw.url, 'POST', `/sync/${DB}/_bulk_docs`, JSONH, body);
    t.equal(res.status, 201, body);
    t.ok(
      Array.isArray(res.json) &&
        res.json.every((r: { error?: string }) => typeof r.error === 'string'),
      'refused per document',
    );
  }
});
