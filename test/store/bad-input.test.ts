import t, { type Test } from 'tap';
import { storeOr500, testCouch, couch } from '../helpers/store.js';
import { client, createDb } from '../helpers/fixtures.js';

/** Bad requests get CouchDB-shaped errors with the right status: never a 500, a crash, or half a write. */
const server = await testCouch(t, {
  STORE_MAX_REQUEST_BYTES: String(256 * 1024),
  STORE_MAX_DOCUMENT_BYTES: String(128 * 1024),
});
const admin = client(server, server.adminAuth);
const db = await createDb(server, 'bad');
const json = { 'content-type': 'application/json' };

function couchShaped(
  t: Test,
  res: { status: number; body: any },
  status: number | number[],
  what: string,
) {
  const wanted = Array.isArray(status) ? status : [status];
  t.ok(wanted.includes(res.status), `${what}: status ${res.status} (${JSON.stringify(res.body)})`);
  t.type(res.body?.error, 'string', `${what}: error`);
  t.type(res.body?.reason, 'string', `${what}: reason`);
}

t.test('malformed JSON is a 400 everywhere', async (t) => {
  const broken = ['{', '{"a":', 'nul', '{"a":1}}', '\u0000', '{"a":"\\x"}'];
  const targets: Array<[string, string]> = [
    ['PUT', `/${db}/doc`],
    ['POST', `/${db}`],
    ['POST', `/${db}/_bulk_docs`],
    ['POST', `/${db}/_bulk_get`],
    ['POST', `/${db}/_revs_diff`],
    ['POST', `/${db}/_all_docs`],
    ['POST', `/${db}/_find`],
    ['POST', `/${db}/_index`],
    ['POST', `/${db}/_purge`],
    ['POST', `/${db}/_changes`],
    ['PUT', `/${db}/_security`],
    ['POST', '/_session'],
  ];
  for (const [method, path] of targets) {
    for (const body of broken) {
      const res = await admin(method, path, { body, headers: json });
      couchShaped(t, res, 400, `${method} ${path} ${JSON.stringify(body)}`);
    }
  }
  const invalidUtf8 = await fetch(`${server.url}/${db}/doc`, {
    method: 'PUT',
    headers: { authorization: server.adminAuth, ...json },
    body: new Uint8Array([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]),
  });
  t.equal(invalidUtf8.status, 400, 'bytes that are not UTF-8');
  t.equal((await admin('GET', `/${db}/doc`)).status, 404, 'nothing was written');
});

t.test('bodies of the wrong JSON type', async (t) => {
  for (const body of ['[]', '"text"', '42', 'null', 'true']) {
    couchShaped(
      t,
      await admin('PUT', `/${db}/doc`, { body, headers: json }),
      400,
      `PUT doc ${body}`,
    );
    couchShaped(
      t,
      await admin('POST', `/${db}/_bulk_docs`, { body, headers: json }),
      400,
      `_bulk_docs ${body}`,
    );
    couchShaped(
      t,
      await admin('POST', `/${db}/_find`, { body, headers: json }),
      400,
      `_find ${body}`,
    );
  }
  couchShaped(t, await admin('PUT', `/${db}/doc`, { body: '', headers: json }), 400, 'empty body');
});

t.test('the wrong content type is a 415 on JSON endpoints', async (t) => {
  for (const path of [
    `/${db}`,
    `/${db}/_bulk_docs`,
    `/${db}/_bulk_get`,
    `/${db}/_revs_diff`,
    `/${db}/_find`,
    `/${db}/_all_docs`,
    `/${db}/_compact`,
  ]) {
    for (const type of [
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
    ]) {
      const res = await admin('POST', path, { body: '{}', headers: { 'content-type': type } });
      couchShaped(t, res, 415, `POST ${path} as ${type}`);
      t.equal(res.body.error, 'bad_content_type');
    }
  }
  const charset = await admin('POST', `/${db}`, {
    body: '{"ok":1}',
    headers: { 'content-type': 'application/json; charset=utf-8' },
  });
  t.equal(charset.status, 201, 'a charset parameter is fine');
});

t.test(
  'oversized requests are 413 too_large; oversized documents 413 document_too_large',
  async (t) => {
    if (!server.embedded) {
      t.comment('limits are configuration of the embedded store');
      return;
    }
    const big = await admin('PUT', `/${db}/huge`, { body: { blob: 'x'.repeat(300 * 1024) } });
    couchShaped(t, big, 413, 'request over the limit');
    t.equal(big.body.error, 'too_large');
    const doc = await admin('PUT', `/${db}/bigdoc`, { body: { blob: 'x'.repeat(150 * 1024) } });
    couchShaped(t, doc, 413, 'document over the limit');
    t.equal(doc.body.error, 'document_too_large');
    const att = await fetch(`${server.url}/${db}/att-doc/big.bin`, {
      method: 'PUT',
      headers: { authorization: server.adminAuth, 'content-type': 'application/octet-stream' },
      body: new Uint8Array(300 * 1024),
    });
    t.equal(att.status, 413, 'an oversized attachment');
    const bulk = await admin('POST', `/${db}/_bulk_docs`, {
      body: { docs: [{ _id: 'small' }, { _id: 'large', blob: 'y'.repeat(150 * 1024) }] },
    });
    t.equal(bulk.status, 201);
    t.match(bulk.body[0], { ok: true });
    t.equal(bulk.body[1].error, 'document_too_large', 'per document in _bulk_docs');
    for (const id of ['huge', 'bigdoc', 'att-doc', 'large'])
      t.equal((await admin('GET', `/${db}/${id}`)).status, 404, `${id} not written`);
    t.equal((await admin('GET', '/_up')).status, 200, 'still serving');
  },
);

t.test('bad query parameters', async (t) => {
  const cases: Array<[string, number]> = [
    [`/${db}/_all_docs?limit=abc`, 400],
    [`/${db}/_all_docs?limit=-1`, 400],
    [`/${db}/_all_docs?skip=x`, 400],
    [`/${db}/_all_docs?descending=maybe`, 400],
    [`/${db}/_all_docs?startkey=unquoted`, 400],
    [`/${db}/_all_docs?keys=notalist`, 400],
    [`/${db}/_changes?since=abc`, 400],
    [`/${db}/_changes?feed=nope`, 400],
    [`/${db}/_changes?limit=x`, storeOr500(server, 400)],
    [`/${db}/_changes?heartbeat=x`, 400],
    [`/${db}/_changes?style=weird`, storeOr500(server, 400)],
    [`/${db}/doc?rev=notarev`, 400],
    [`/${db}/doc?open_revs=[notjson`, 400],
    ['/_uuids?count=abc', 400],
    ['/_uuids?count=-3', 400],
    ['/_all_dbs?limit=x', 400],
  ];
  for (const [path, status] of cases) couchShaped(t, await admin('GET', path), status, path);
});

t.test('unknown paths and methods', async (t) => {
  couchShaped(
    t,
    await admin('GET', `/${db}/_nonsense_endpoint`),
    [400, 404],
    'unknown database endpoint',
  );
  couchShaped(t, await admin('GET', '/_nonsense_endpoint'), [400, 404], 'unknown server endpoint');
  couchShaped(
    t,
    await admin('GET', `/${db}/a/b/c/d/e`),
    404,
    'deep attachment path on a missing document',
  );
  couchShaped(t, await admin('PATCH', `/${db}`), 405, 'PATCH on a database');
  couchShaped(t, await admin('GET', `/${db}/_bulk_docs`), 405, 'GET on _bulk_docs');
  couchShaped(t, await admin('DELETE', '/_all_dbs'), 405, 'DELETE on _all_dbs');
  couchShaped(t, await admin('POST', '/_uuids'), 405, 'POST on _uuids');
});

t.test('weird database names are refused, never used as paths', async (t) => {
  // Whole `..` segments never reach a server (clients resolve them), so only encoded forms are sent.
  for (const name of [
    '..%2Fetc',
    '..%2F..%2Fetc',
    'a%2F..%2Fb',
    'a%2F..',
    '%00',
    'a%00b',
    'Ω',
    'db%20name',
    'a.b',
    '-a',
    '$a',
    'a\\b',
    'a'.repeat(300),
  ]) {
    const res = await admin('PUT', `/${name}`);
    couchShaped(t, res, [400, 404], `PUT /${name}`);
  }
  const list = await admin('GET', '/_all_dbs');
  t.notOk(
    list.body.some((n: string) => n.includes('.') || n.includes('\u0000')),
    'none was created',
  );
  couchShaped(t, await admin('GET', '/no-such-db'), 404, 'missing database');
  couchShaped(t, await admin('GET', '/no-such-db/_all_docs'), 404, 'missing database endpoint');
});

t.test('bad credentials and cookies', async (t) => {
  for (const auth of [
    'Basic !!!notbase64',
    'Basic ' + Buffer.from('nocolon').toString('base64'),
    'Bearer abc',
    'Basic',
  ]) {
    const res = await couch(server.url, 'GET', `/${db}`, { auth });
    const refused = auth === 'Basic !!!notbase64' ? [storeOr500(server, 400), 401] : [400, 401];
    t.ok(refused.includes(res.status), `${auth}: ${res.status}`);
    t.type(res.body?.error, 'string');
  }
  const cookie = await couch(server.url, 'GET', '/_session', {
    headers: { cookie: 'AuthSession=%%%not-a-cookie' },
  });
  t.ok([200, 400].includes(cookie.status), `malformed cookie: ${cookie.status}`);
  t.type(cookie.body, 'object');
});

t.test('awkward documents', async (t) => {
  const nested = '['.repeat(100_000) + '"leaf"' + ']'.repeat(100_000);
  const deep = await admin('PUT', `/${db}/deep`, { body: `{"nested":${nested}}`, headers: json });
  // The store's limit is 1000 levels (store.md); CouchDB has none.
  if (server.embedded) couchShaped(t, deep, 400, 'JSON nested 100,000 deep');
  else {
    t.equal(deep.status, 201, 'CouchDB takes any depth');
    // Gone again: whatever reads every database of the shared server (a backup test's
    // JSON.stringify) would overflow its stack on it.
    const rev = encodeURIComponent(deep.body.rev);
    t.equal((await admin('DELETE', `/${db}/deep?rev=${rev}`)).status, 200);
  }
  const fine = '['.repeat(200) + '1' + ']'.repeat(200);
  t.equal(
    (await admin('PUT', `/${db}/nested-ok`, { body: `{"n":${fine}}`, headers: json })).status,
    201,
    '200 deep is fine',
  );
  const unicode = await admin('PUT', `/${db}/unicode`, {
    body: { text: 'Habari 👋🏾 \u2028 \u0000' },
  });
  t.equal(unicode.status, 201);
  const lone = await admin('PUT', `/${db}/lone`, { body: { key: '\ud83d' } });
  couchShaped(t, lone, 400, 'a lone surrogate is invalid UTF-8 JSON, as in CouchDB');
  t.equal((await admin('GET', `/${db}/unicode`)).body.text, 'Habari 👋🏾 \u2028 \u0000');
  const numbers = await admin('PUT', `/${db}/numbers`, {
    body: '{"big": 1e308, "small": -0, "int": 9007199254740993}',
    headers: json,
  });
  t.equal(numbers.status, 201);
  const manyKeys = Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`k${i}`, i]));
  t.equal((await admin('PUT', `/${db}/wide`, { body: manyKeys })).status, 201);
  const longId = await admin('PUT', `/${db}/${'i'.repeat(10000)}`, { body: {} });
  t.ok(longId.status >= 400 && longId.status < 500, `a 10,000-character id: ${longId.status}`);
  t.equal((await admin('GET', '/_up')).status, 200, 'the store still answers');
});
