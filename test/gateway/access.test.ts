import t, { type Test } from 'tap';
import { unique } from '../helpers/fixtures.js';
import { createHmac } from 'node:crypto';
import { phone } from '../helpers/phones.js';
import { couch } from '../helpers/store.js';
import { userDbName } from '../../server/provisioning/names.js';
import { farmer, gateway, PASSWORD, Session } from './helper.js';
import { raw, type RawAnswer } from './raw.js';

// User A can never see or write user B's data, whatever the path. One service for the file;
// every refusal is checked for its status and its CouchDB shape.

// Unique names: a real CouchDB under test is shared by every test file.
const [aminaName, barakaName, sefuName, msaidiziName, kilosa, zuhuraName] = [
  'amina',
  'baraka',
  'sefu',
  'msaidizi',
  'kilosa',
  'zuhura',
].map(unique) as [string, string, string, string, string, string];
const gw = await gateway(t);
const amina = await gw.signup(aminaName);
const baraka = await gw.signup(barakaName);
const writer = await gw.member(sefuName, ['supervisor'], [{ team: kilosa, mode: 'write' }]);
const reader = await gw.member(msaidiziName, ['agent'], [{ team: kilosa, mode: 'read' }]);
const TEAM = `team-${kilosa}`;
const A = amina.dbs.user;
const B = baraka.dbs.user;
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const asAmina = bearer(amina.access_token);

// Something of baraka's to protect.
const barakaPhone = phone();
await barakaPhone.put(farmer(barakaName, 'farmer-b'));
await barakaPhone.replicate.to(new Session(gw.url, baraka).db(B));
const barakaBefore = await couch(gw.store.url, 'GET', `/${B}`, { auth: gw.store.adminAuth });

function refusal(t: Test, res: RawAnswer, status: number, what: string) {
  t.equal(res.status, status, `${what} → ${status}`);
  t.ok(
    res.json && typeof res.json.error === 'string' && typeof res.json.reason === 'string',
    `${what}: CouchDB-shaped`,
  );
}

t.test("another user's database, by every endpoint", async (t) => {
  const body = JSON.stringify({ docs: [farmer(aminaName, 'sneaky')] });
  const json = { ...asAmina, 'content-type': 'application/json' };
  const attempts: [string, string, string?][] = [
    ['GET', `/sync/${B}/`],
    ['HEAD', `/sync/${B}`],
    ['GET', `/sync/${B}/_changes?since=0&include_docs=true`],
    ['POST', `/sync/${B}/_changes`, '{}'],
    ['POST', `/sync/${B}/_revs_diff`, '{"farmer-b":["1-x"]}'],
    ['POST', `/sync/${B}/_bulk_get`, '{"docs":[{"id":"farmer-b"}]}'],
    ['GET', `/sync/${B}/_all_docs?include_docs=true`],
    ['POST', `/sync/${B}/_all_docs`, '{"keys":["farmer-b"]}'],
    ['POST', `/sync/${B}/_bulk_docs`, body],
    ['GET', `/sync/${B}/_local/x`],
    ['PUT', `/sync/${B}/_local/x`, '{"a":1}'],
    ['GET', `/sync/${B}/farmer-b`],
    ['PUT', `/sync/${B}/farmer-x`, JSON.stringify(farmer(aminaName, 'farmer-x'))],
    ['DELETE', `/sync/${B}/farmer-b?rev=1-x`],
    ['GET', `/sync/${B}/farmer-b/photo.jpg`],
  ];
  for (const [method, path, payload] of attempts) {
    const res = await raw(gw.url, method, path, payload ? json : asAmina, payload);
    t.equal(res.status, 403, `${method} ${path}`);
    if (method !== 'HEAD')
      t.same(res.json, { error: 'forbidden', reason: 'You are not allowed to access this db.' });
  }
});

t.test('names in other cases, encoded slashes, dot segments, double slashes', async (t) => {
  const upper = A.replace('userdb-', 'USERDB-');
  refusal(t, await raw(gw.url, 'GET', `/sync/${upper}/`, asAmina), 403, 'USERDB- in upper case');
  refusal(
    t,
    await raw(gw.url, 'GET', `/sync/${A.toUpperCase()}/_changes`, asAmina),
    403,
    'upper-case hex',
  );
  refusal(
    t,
    await raw(gw.url, 'GET', `/sync/${A}%2F..%2F${B}/_changes`, asAmina),
    403,
    'encoded slashes',
  );
  refusal(t, await raw(gw.url, 'GET', `/sync/${A}%2f${B}/`, asAmina), 403, 'lower-case %2f');
  refusal(t, await raw(gw.url, 'GET', `/sync/${A}/../${B}/_changes`, asAmina), 400, '..');
  refusal(t, await raw(gw.url, 'GET', `/sync/${A}/%2e%2e/${B}/_changes`, asAmina), 400, '%2e%2e');
  refusal(t, await raw(gw.url, 'GET', `/sync//${B}/`, asAmina), 400, 'double slash before the db');
  refusal(
    t,
    await raw(gw.url, 'GET', `/sync/${A}//${B}`, asAmina),
    400,
    'double slash after the db',
  );
  refusal(t, await raw(gw.url, 'GET', '/sync/', asAmina), 404, '/sync/ alone');
  refusal(t, await raw(gw.url, 'GET', '/sync', asAmina), 404, '/sync alone');
  // Fastify's router refuses a malformed escape before any route runs (its own 400 shape).
  t.equal((await raw(gw.url, 'GET', `/sync/${A}/%zz`, asAmina)).status, 400, 'malformed escape');
  // Paths that decode to another user's doc id inside one's own database stay there.
  for (const id of [`..%2F${B}%2Ffarmer-b`, `%2E%2E%2F${B}%2Ffarmer-b`]) {
    const own = await raw(gw.url, 'GET', `/sync/${A}/${id}`, asAmina);
    t.equal(own.status, 404, `${id}: just a missing document in one's own database`);
  }
});

t.test('system databases and server endpoints', async (t) => {
  for (const path of [
    '/sync/_all_dbs',
    '/sync/_users/',
    `/sync/_users/org.couchdb.user:${barakaName}`,
    '/sync/_users/_all_docs',
    '/sync/_replicator/_all_docs',
    '/sync/_global_changes/_changes',
    '/sync/_session',
    '/sync/_config',
    '/sync/_node/_local/_config',
  ]) {
    refusal(t, await raw(gw.url, 'GET', path, asAmina), 403, path);
  }
});

t.test('what an agent does not need, on their own database', async (t) => {
  const json = { ...asAmina, 'content-type': 'application/json' };
  refusal(t, await raw(gw.url, 'PUT', `/sync/${A}`, asAmina), 403, 'create database');
  refusal(t, await raw(gw.url, 'DELETE', `/sync/${A}`, asAmina), 403, 'delete database');
  refusal(t, await raw(gw.url, 'GET', `/sync/${A}/_security`, asAmina), 403, 'read _security');
  refusal(
    t,
    await raw(gw.url, 'PUT', `/sync/${A}/_security`, json, '{"members":{"names":[]}}'),
    403,
    'open _security',
  );
  refusal(t, await raw(gw.url, 'POST', `/sync/${A}/_purge`, json, '{"x":["1-a"]}'), 403, '_purge');
  refusal(t, await raw(gw.url, 'POST', `/sync/${A}/_compact`, json, '{}'), 403, '_compact');
  refusal(t, await raw(gw.url, 'POST', `/sync/${A}/_find`, json, '{"selector":{}}'), 404, '_find');
  refusal(
    t,
    await raw(gw.url, 'GET', `/sync/${A}/_design/sawa/_view/conflicts`, asAmina),
    404,
    'a view',
  );
  refusal(
    t,
    await raw(gw.url, 'PUT', `/sync/${A}/_design/mine`, json, '{"views":{}}'),
    403,
    'design doc write',
  );
  refusal(t, await raw(gw.url, 'PATCH', `/sync/${A}/farmer-1`, json, '{}'), 405, 'PATCH');
  refusal(t, await raw(gw.url, 'GET', `/sync/${A}/_bulk_docs`, asAmina), 405, 'GET _bulk_docs');
  const ddoc = await raw(
    gw.url,
    'POST',
    `/sync/${A}/_bulk_docs`,
    json,
    '{"docs":[{"_id":"_design/mine","views":{}}]}',
  );
  t.equal(ddoc.status, 201, 'a design doc in _bulk_docs is refused per document');
  t.match(ddoc.json, [
    {
      id: '_design/mine',
      error: 'forbidden',
      reason: 'only server admins may change design documents',
    },
  ]);
  t.equal(
    (await raw(gw.url, 'GET', `/sync/${A}/_design/sawa`, asAmina)).status,
    200,
    'reading a design doc is fine',
  );
});

t.test('made-up proxy headers from a client change nothing', async (t) => {
  const forged = {
    ...asAmina,
    'x-auth-couchdb-username': barakaName,
    'x-auth-couchdb-roles': '_admin',
    'x-auth-couchdb-token': createHmac('sha256', 'guess').update(barakaName).digest('hex'),
  };
  refusal(t, await raw(gw.url, 'GET', `/sync/${B}/_all_docs`, forged), 403, "baraka's database");
  const put = await raw(
    gw.url,
    'PUT',
    `/sync/${A}/farmer-9`,
    { ...forged, 'content-type': 'application/json' },
    JSON.stringify(farmer(barakaName, 'farmer-9')),
  );
  t.equal(put.status, 403, 'still amina to the rules');
  t.match(put.json.reason, `must be the writing user (${aminaName})`);
});

t.test('team databases: members by mode, nobody else', async (t) => {
  refusal(t, await raw(gw.url, 'GET', `/sync/${TEAM}/`, asAmina), 403, 'not a member');
  refusal(
    t,
    await raw(gw.url, 'GET', '/sync/team-gairo/', bearer(writer.access_token)),
    403,
    'another team',
  );
  const r = new Session(gw.url, reader);
  const w = new Session(gw.url, writer);
  const writerPhone = phone();
  await writerPhone.put(farmer(sefuName, 'farmer-t'));
  t.equal((await writerPhone.replicate.to(w.db(TEAM))).docs_written, 1, 'a writer pushes');
  const readerPhone = phone();
  const pulled = await readerPhone.replicate.from(r.db(TEAM));
  t.ok(pulled.ok, 'a read-only member pulls (checkpoints written on the team database)');
  t.ok(await readerPhone.get('farmer-t'));
  await readerPhone.put(farmer(msaidiziName, 'farmer-r'));
  const push = await readerPhone.replicate.to(r.db(TEAM)).catch((err: { status: number }) => err);
  t.equal((push as { status: number }).status, 403, 'a read-only member cannot push');
  const readOnly = bearer(reader.access_token);
  const json = { ...readOnly, 'content-type': 'application/json' };
  refusal(
    t,
    await raw(gw.url, 'POST', `/sync/${TEAM}/_bulk_docs`, json, '{"docs":[]}'),
    403,
    'reader _bulk_docs',
  );
  refusal(
    t,
    await raw(
      gw.url,
      'PUT',
      `/sync/${TEAM}/farmer-r`,
      json,
      JSON.stringify(farmer(msaidiziName, 'farmer-r')),
    ),
    403,
    'reader PUT',
  );
  refusal(
    t,
    await raw(gw.url, 'DELETE', `/sync/${TEAM}/farmer-t?rev=1-x`, readOnly),
    403,
    'reader DELETE',
  );
  refusal(
    t,
    await raw(
      gw.url,
      'PUT',
      `/sync/${TEAM}/farmer-t/a.txt?rev=1-x`,
      { ...readOnly, 'content-type': 'text/plain' },
      'hi',
    ),
    403,
    'reader attachment',
  );
  t.equal(
    (await raw(gw.url, 'POST', `/sync/${TEAM}/_revs_diff`, json, '{"farmer-t":["9-x"]}')).status,
    200,
    'reader _revs_diff',
  );
  t.equal(
    (await raw(gw.url, 'POST', `/sync/${TEAM}/_bulk_get`, json, '{"docs":[{"id":"farmer-t"}]}'))
      .status,
    200,
    'reader _bulk_get',
  );
  t.equal(
    (await raw(gw.url, 'PUT', `/sync/${TEAM}/_local/reader-cp`, json, '{"last_seq":"1"}')).status,
    201,
    'reader checkpoint',
  );
});

t.test('tokens: missing, junk, forged, unsigned, alg none, expired, revoked → 401', async (t) => {
  const path = `/sync/${A}/_changes`;
  const [header, payload] = amina.access_token.split('.') as [string, string];
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
  const sign = (h: string, p: string, key: string) =>
    createHmac('sha256', key).update(`${h}.${p}`).digest('base64url');
  const other = b64({ ...claims, sub: barakaName });
  const cases: [string, Record<string, string>][] = [
    ['no token', {}],
    [
      'not bearer',
      { authorization: `Basic ${Buffer.from(`amina:${PASSWORD}`).toString('base64')}` },
    ],
    ['junk', bearer('not-a-jwt')],
    [
      'forged signature',
      bearer(`${header}.${other}.${sign(header, other, 'wrong-secret-wrong-secret-wrong-secret')}`),
    ],
    [
      'claims swapped under the old signature',
      bearer(`${header}.${other}.${amina.access_token.split('.')[2]}`),
    ],
    ['unsigned', bearer(`${header}.${other}.`)],
    ['alg none', bearer(`${b64({ alg: 'none', typ: 'JWT' })}.${other}.`)],
  ];
  for (const [what, headers] of cases)
    refusal(t, await raw(gw.url, 'GET', path, headers), 401, what);

  const realNow = Date.now;
  Date.now = () => realNow() + (amina.expires_in + 5) * 1000;
  try {
    const expired = await raw(gw.url, 'GET', path, asAmina);
    refusal(t, expired, 401, 'expired');
    t.match(expired.headers['www-authenticate'], /invalid_token/);
  } finally {
    Date.now = realNow;
  }

  const victim = await gw.signup(zuhuraName);
  const before = await raw(gw.url, 'GET', `/sync/${victim.dbs.user}/`, bearer(victim.access_token));
  t.equal(before.status, 200);
  const ops = await gw.login(gw.ops);
  const off = await gw.call('POST', `/admin/users/${zuhuraName}/disable`, {
    auth: `Bearer ${ops.access_token}`,
  });
  t.equal(off.status, 200, 'an admin disables zuhura');
  refusal(
    t,
    await raw(gw.url, 'GET', `/sync/${victim.dbs.user}/`, bearer(victim.access_token)),
    401,
    'revoked (disabled user)',
  );
});

t.test("after all that, baraka's database is untouched", async (t) => {
  const after = await couch(gw.store.url, 'GET', `/${B}`, { auth: gw.store.adminAuth });
  t.equal(after.body.update_seq, barakaBefore.body.update_seq);
  t.equal(after.body.doc_count, barakaBefore.body.doc_count);
  t.equal(userDbName(barakaName), B);
});
