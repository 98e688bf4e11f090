import t from 'tap';
import fc from 'fast-check';
import { couch, testCouch } from '../helpers/store.js';
import { createDb } from '../helpers/fixtures.js';
import * as arb from './arbitraries.js';
import { couchInputCrash } from '../../server/couch/input-crash.js';

// Issue 8, closing the class: generated requests straight at the store (as its admin, whom no
// validate_doc_update restrains, and anonymously at `_users`). After every request: no 5xx,
// and the store still answers.

const server = await testCouch(t);
const db = await createDb(server, 'fuzz');

/** No 5xx, except CouchDB's own 500 for a request it cannot read (the gateway makes it a 400). */
async function alive(what: string, status: number, answer?: unknown): Promise<void> {
  const couchOwn = !server.embedded && status === 500 && couchInputCrash(answer) !== null;
  if ((status >= 500 && !couchOwn) || status === 0) throw new Error(`${what}: ${status}`);
  const up = await couch(server.url, 'GET', '/_up');
  if (up.status !== 200) throw new Error(`the store stopped answering after ${what}`);
}

t.test('generated writes as admin and at _users', async (t) => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(arb.document('admin'), { minLength: 1, maxLength: 3 }),
      arb.newEdits,
      arb.docId,
      arb.query,
      fc.constantFrom('put', 'bulk', 'users'),
      async (docs, newEdits, id, query, how) => {
        const path = `/${db}/${encodeURIComponent(id || 'x')}?${query}`;
        const res =
          how === 'put'
            ? await couch(server.url, 'PUT', path, { body: docs[0], auth: server.adminAuth })
            : how === 'bulk'
              ? await couch(server.url, 'POST', `/${db}/_bulk_docs`, {
                  body: { docs, new_edits: newEdits },
                  auth: server.adminAuth,
                })
              : await couch(
                  server.url,
                  'PUT',
                  `/_users/org.couchdb.user:${encodeURIComponent(id)}`,
                  {
                    body: { ...docs[0], name: id, type: 'user', roles: [], password: 'p' },
                  },
                );
        await alive(`${how} ${path}`, res.status, res.body);
      },
    ),
    arb.fuzzOptions,
  );
  t.pass(`${arb.RUNS} generated writes`);
});

t.test('generated query strings and headers on document and database endpoints', async (t) => {
  const paths = ['', '/pay-0', '/_all_docs', '/_bulk_get', '/_revs_diff', '/_local/x', '/toString'];
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'HEAD'),
      fc.constantFrom(...paths),
      arb.query,
      arb.headers,
      fc.jsonValue({ maxDepth: 3 }),
      async (method, path, query, headers, body) => {
        if (path === '' && (method === 'PUT' || method === 'DELETE')) return;
        const res = await couch(server.url, method, `/${db}${path}?${query}`, {
          headers: arb.sendable(headers),
          auth: server.adminAuth,
          ...(method === 'GET' || method === 'HEAD' ? {} : { body: JSON.stringify(body) }),
        });
        await alive(`${method} ${path}?${query}`, res.status, res.body);
      },
    ),
    arb.fuzzOptions,
  );
  t.pass(`${arb.RUNS} generated requests`);
});
