import t, { type Test } from 'tap';
import { createHmac, randomBytes } from 'node:crypto';
import { phone } from '../helpers/phones.js';
import { couch } from '../helpers/store.js';
import { farmer, gateway, Session } from './helper.js';

// Issue 8: what a signed-in user with an ordinary account sends to break, forge or stall the
// service. Every answer is checked for its status and that the service is still up after it.

const gw = await gateway(t);
const suffix = randomBytes(3).toString('hex');
const amina = await gw.signup(`amina${suffix}`);
const A = amina.dbs.user;
const json = (token: string) => ({
  authorization: `Bearer ${token}`,
  'content-type': 'application/json',
});
const asAmina = json(amina.access_token);
const call = (method: string, path: string, body?: unknown, headers = asAmina) =>
  couch(gw.url, method, path, { body: body as never, headers });
const admin = (method: string, path: string, body?: unknown) =>
  couch(gw.store.url, method, path, { auth: gw.store.adminAuth, body: body as never });

async function alive(t: Test) {
  t.equal((await couch(gw.url, 'GET', '/health')).status, 200, 'the service still answers');
  t.equal((await admin('GET', '/_up')).status, 200, 'and so does the store');
}
t.test(
  'attachment entries CouchDB cannot read: 400 naming the attachment, never a crash',
  async (t) => {
    const entries: unknown[] = [
      { data: 12345, content_type: 'text/plain' },
      { data: true, content_type: 'text/plain' },
      { data: {}, content_type: 'text/plain' },
      { data: [], content_type: 'text/plain' },
      { data: null, content_type: 'text/plain' },
      { follows: true },
      { follows: true, content_type: 'text/plain', length: 3 },
      'str',
      null,
      { data: 'aGk=', content_type: 5 },
      { data: 'not base64!', content_type: 'text/plain' },
    ];
    for (const [i, entry] of entries.entries()) {
      const name = `photo-${i}.jpg`;
      const doc = { ...farmer(amina.user.name, `att-${i}`), _attachments: { [name]: entry } };
      const what = JSON.stringify(entry);
      const put = await call('PUT', `/sync/${A}/att-${i}`, doc);
      t.equal(put.status, 400, `PUT ${what}`);
      t.equal(put.body.error, 'bad_request');
      t.match(put.body.reason, name, 'the reason names the attachment');
      for (const newEdits of [true, false]) {
        const docs = [
          newEdits ? doc : { ...doc, _rev: '1-abc', _revisions: { start: 1, ids: ['abc'] } },
        ];
        const bulk = await call('POST', `/sync/${A}/_bulk_docs`, { docs, new_edits: newEdits });
        t.equal(bulk.status, 400, `_bulk_docs new_edits=${newEdits} ${what}`);
        t.match(bulk.body.reason, name);
      }
      // Straight to the store too, as the gateway's user and anonymously on _users. CouchDB
      // 3.5 stores some of these and answers others with a 500: the gateway is the guard.
      const direct = await admin('PUT', `/${A}/direct-att-${i}`, {
        ...doc,
        _id: `direct-att-${i}`,
      });
      if (gw.store.embedded) t.equal(direct.status, 400, `store PUT ${what}`);
      const users = await couch(gw.store.url, 'PUT', '/_users/org.couchdb.user:x', {
        body: {
          name: 'x',
          type: 'user',
          roles: [],
          password: 'p',
          _attachments: { a: entry },
        } as never,
      });
      t.ok(users.status === 400 || users.status === 401, `store _users ${what}: ${users.status}`);
    }
    await alive(t);
    const all = await admin('GET', `/${A}/_all_docs?startkey="att-"&endkey="att-~"`);
    t.same(all.body.rows, [], 'nothing was stored');
  },
);

t.test('a 10,000-deep field is a 400, not a 500', async (t) => {
  // Written as text: JSON.stringify itself would overflow on the way out.
  const nested = (open: string, close: string) => open.repeat(10_000) + '1' + close.repeat(10_000);
  const base = JSON.stringify(farmer(amina.user.name, 'deep-1')).slice(0, -1);
  const doc = `${base},"notes":${nested('{"d":', '}')}}`;
  const put = await call('PUT', `/sync/${A}/deep-1`, doc);
  t.equal(put.status, 400, 'PUT');
  t.equal(put.body.error, 'bad_request');
  const bulk = await call('POST', `/sync/${A}/_bulk_docs`, `{"docs":[${doc}]}`);
  t.equal(bulk.status, 400, '_bulk_docs');
  const arrays = `{"docs":[{"_id":"x","a":${nested('[', ']')}}]}`;
  t.equal((await call('POST', `/sync/${A}/_bulk_docs`, arrays)).status, 400, 'arrays too');
  // CouchDB 3.5 takes any depth; there the user database's validate function refuses it.
  const alone = (await admin('PUT', `/${A}/deep-1`, doc)).status;
  t.equal(alone, gw.store.embedded ? 400 : 403, 'the store alone');
  const keys = await call(
    'GET',
    `/sync/${A}/_all_docs?keys=${encodeURIComponent(nested('[', ']'))}`,
  );
  t.ok(keys.status < 500, `deep JSON in a query parameter: ${keys.status}`);
  await alive(t);
});

t.test('repeated query parameters are refused, by the gateway and by the store', async (t) => {
  const doc = farmer(amina.user.name, 'dup-1');
  for (const q of ['new_edits=true&new_edits=false', 'new_edits=false&new_edits=true']) {
    const res = await call('PUT', `/sync/${A}/dup-1?${q}`, doc);
    t.equal(res.status, 400, `gateway ${q}`);
    t.match(res.body.reason, /new_edits/);
    // CouchDB 3.5 reads one of the two; only the store refuses.
    if (gw.store.embedded) {
      t.equal((await admin('PUT', `/${A}/dup-1?${q}`, doc)).status, 400, `store ${q}`);
    }
  }
  t.equal(
    (await call('GET', `/sync/${A}/_changes?since=0&since=now`)).status,
    400,
    'any parameter',
  );
  t.equal((await call('PUT', `/sync/${A}/dup-1?new_edits=true`, doc)).status, 201, 'once is fine');
});

t.test('an access token without exp is refused', async (t) => {
  const [head, payload] = amina.access_token.split('.') as [string, string];
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  t.type(claims.exp, 'number', 'real tokens carry exp');
  delete claims.exp;
  const body = `${head}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  const secret = gw.svc.config.JWT_SECRET as string;
  const token = `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`;
  const res = await call('GET', `/sync/${A}/`, undefined, json(token));
  t.equal(res.status, 401);
  t.equal((await call('GET', `/sync/${A}/`)).status, 200, 'the real token works');
});

t.test('more documents than SYNC_MAX_DOCS_PER_REQUEST: 413 naming it', async (t) => {
  const max = gw.svc.config.SYNC_MAX_DOCS_PER_REQUEST;
  t.equal(max, 1000, 'the default keeps batch_size 1000 working');
  const docs = Array.from({ length: max + 1 }, (_, i) => farmer(amina.user.name, `cap-${i}`));
  const res = await call('POST', `/sync/${A}/_bulk_docs`, { docs });
  t.equal(res.status, 413);
  t.equal(res.body.error, 'too_large');
  t.match(res.body.reason, 'SYNC_MAX_DOCS_PER_REQUEST');
  // A stock PouchDB pushing 1,000 at a time still syncs.
  const p = phone();
  await p.bulkDocs(docs.slice(0, max));
  const pushed = await p.replicate.to(new Session(gw.url, amina).db(A), { batch_size: max });
  t.equal(pushed.docs_written, max);
  t.equal(pushed.doc_write_failures, 0);
});
