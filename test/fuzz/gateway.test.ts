import t from 'tap';
import fc from 'fast-check';
import { randomBytes } from 'node:crypto';
import { couch } from '../helpers/store.js';
import { gateway, paymentRequest } from '../gateway/helper.js';
import { createWriteChecker, loadSyncRules } from '../../server/rules/index.js';
import * as arb from './arbitraries.js';

// Issue 8, closing the class: generated requests from a signed-in phone at the gateway. After
// every request: no 5xx, the service and its store still answer, every branch stored under
// the ids it named is one the sync rules accept, and the immutable payment seeded first is
// exactly as it was.

// Callback secrets set, so generated callbacks reach their bodies' handling (no provider is
// configured: nothing is paid or sent).
const SECRET = 'fuzz-callback-secret-0123456789';
const gw = await gateway(t, {
  env: {
    AZAMPAY_CALLBACK_SECRET: SECRET,
    MPESA_CALLBACK_SECRET: SECRET,
    AFRICASTALKING_DLR_SECRET: SECRET,
    BEEM_DLR_SECRET: SECRET,
  },
});
const name = `fuzz${randomBytes(3).toString('hex')}`;
const me = await gw.signup(name);
const A = me.dbs.user;
const checker = createWriteChecker(loadSyncRules());
const userCtx = { name, roles: me.user.roles, db: A };
const auth = { authorization: `Bearer ${me.access_token}` };
// JSON only: `open_revs` answers multipart/mixed to a client that accepts it (fetch sends */*).
const store = (path: string) =>
  couch(gw.store.url, 'GET', path, {
    auth: gw.store.adminAuth,
    headers: { accept: 'application/json' },
  });

const payment = paymentRequest(name, 'pay-0');
const seeded = await couch(gw.url, 'PUT', `/sync/${A}/pay-0`, { body: payment, headers: auth });
if (seeded.status !== 201) throw new Error(`seed: ${seeded.status}`);
const payRev = seeded.body.rev as string;

async function invariants(ids: unknown[]): Promise<void> {
  const health = await couch(gw.url, 'GET', '/health');
  if (health.status !== 200) throw new Error(`service down: ${health.status}`);
  const pay = await store(`/${A}/pay-0?conflicts=true`);
  if (pay.body._rev !== payRev || pay.body.amount !== 1000 || pay.body._conflicts) {
    throw new Error(`the immutable payment changed: ${JSON.stringify(pay.body)}`);
  }
  for (const id of ids) {
    if (typeof id !== 'string' || id === '' || id.startsWith('_')) continue;
    // `.` and `..` (even as %2E) are dot segments to every URL parser: no path reaches them.
    if (id === '.' || id === '..') continue;
    const leaves = await store(`/${A}/${encodeURIComponent(id)}?open_revs=all`);
    if (leaves.status === 404) continue;
    if (!Array.isArray(leaves.body)) throw new Error(`open_revs ${id}: ${leaves.status}`);
    for (const leaf of leaves.body as { ok?: Record<string, unknown> }[]) {
      if (!leaf.ok || leaf.ok._deleted) continue;
      const verdict = checker.checkWrite(leaf.ok, null, userCtx, 'private');
      if (verdict) throw new Error(`stored against the rules: ${id}: ${verdict.reason}`);
    }
  }
}

const no5xx = (what: string, status: number) => {
  if (status >= 500 || status === 0) throw new Error(`${what}: ${status}`);
};

t.test('generated writes: no 5xx, nothing stored that the rules refuse', async (t) => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(arb.document(name), { minLength: 1, maxLength: 3 }),
      arb.newEdits,
      arb.docId,
      arb.query,
      arb.headers,
      fc.boolean(),
      async (docs, newEdits, id, query, headers, bulk) => {
        const h = { ...arb.sendable(headers), ...auth, 'content-type': 'application/json' };
        const res = bulk
          ? await couch(gw.url, 'POST', `/sync/${A}/_bulk_docs`, {
              body: { docs, new_edits: newEdits },
              headers: h,
            })
          : await couch(gw.url, 'PUT', `/sync/${A}/${encodeURIComponent(id)}?${query}`, {
              body: docs[0],
              headers: h,
            });
        no5xx('write', res.status);
        await invariants(bulk ? docs.map((d) => d._id) : [id]);
      },
    ),
    arb.fuzzOptions,
  );
  t.pass(`${arb.RUNS} generated writes`);
});

t.test('generated query strings and headers on every endpoint', async (t) => {
  const endpoints = [
    ['GET', ''],
    ['GET', 'pay-0'],
    ['GET', '_all_docs'],
    ['POST', '_all_docs'],
    ['POST', '_bulk_get'],
    ['POST', '_revs_diff'],
    ['GET', '_local/x'],
    ['PUT', '_local/x'],
    ['DELETE', 'pay-0'],
    ['GET', 'pay-0/photo.jpg'],
    ['GET', '_changes'],
  ] as const;
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(...endpoints),
      arb.query,
      arb.headers,
      fc.jsonValue({ maxDepth: 3 }),
      async ([method, path], query, headers, body) => {
        const res = await couch(gw.url, method, `/sync/${A}/${path}?${query}`, {
          headers: { ...arb.sendable(headers), ...auth },
          ...(method === 'GET' || method === 'DELETE' ? {} : { body: JSON.stringify(body) }),
        });
        no5xx(`${method} ${path}?${query}`, res.status);
        await invariants([]);
      },
    ),
    arb.fuzzOptions,
  );
  t.pass(`${arb.RUNS} generated requests`);
});

t.test('generated bodies for sign-in by SMS and the provider callbacks: never a 5xx', async (t) => {
  const routes = [
    ['otp-request', '/auth/otp/request'],
    ['otp-verify', '/auth/otp/verify'],
    ['africastalking', `/integrations/africastalking/delivery/${SECRET}`],
    ['beem', `/integrations/beem/delivery/${SECRET}`],
    ['mpesa', `/integrations/mpesa/callback/${SECRET}`],
    ['azampay', `/integrations/azampay/callback/${SECRET}`],
  ] as const;
  await fc.assert(
    fc.asyncProperty(
      fc
        .constantFrom(...routes)
        .chain(([kind, path]) => fc.tuple(fc.constant(path), arb.publicBody(kind), arb.encoding)),
      async ([path, body, how]) => {
        const form = () =>
          new URLSearchParams(
            Object.entries(body && typeof body === 'object' ? body : { v: body }).map(([k, v]) => [
              k,
              typeof v === 'string' ? v : JSON.stringify(v),
            ]),
          ).toString();
        const res = await fetch(`${gw.url}${path}`, {
          method: 'POST',
          headers: {
            'content-type':
              how === 'form' ? 'application/x-www-form-urlencoded' : 'application/json',
          },
          body: how === 'json' ? JSON.stringify(body) : how === 'form' ? form() : '{"a":',
        });
        no5xx(`POST ${path} (${how}) ${JSON.stringify(body)}`, res.status);
        await invariants([]);
      },
    ),
    arb.fuzzOptions,
  );
  t.pass(`${arb.RUNS} generated bodies`);
});

t.test('staff and privacy routes: generated params, queries and bodies', async (t) => {
  const staff = await gw.member(`fuzzadmin${randomBytes(3).toString('hex')}`, ['admin'], []);
  const boss = { authorization: `Bearer ${staff.access_token}` };
  const routes = [
    ['GET', () => '/admin/sync-health', 'staff'],
    ['GET', () => '/admin/operations', 'staff'],
    ['GET', () => '/admin/audit', 'staff'],
    ['GET', () => '/me/export', 'agent'],
    ['GET', (id: string) => `/admin/subjects/${id}/export`, 'staff'],
    ['POST', (id: string) => `/admin/subjects/${id}/erase`, 'staff'],
    ['GET', (id: string) => `/admin/subjects/${id}/restriction`, 'staff'],
    ['PUT', (id: string) => `/admin/subjects/${id}/restriction`, 'staff'],
    ['DELETE', (id: string) => `/admin/subjects/${id}/restriction`, 'staff'],
  ] as const;
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(...routes),
      arb.docId,
      arb.staffQuery,
      arb.reasonBody,
      fc.boolean(),
      async ([method, path, who], id, query, body, asAgent) => {
        // Never the fuzzing phone's own name: its payment is the invariant.
        if (id === name) return;
        const headers = who === 'agent' || asAgent ? auth : boss;
        const res = await couch(gw.url, method, `${path(encodeURIComponent(id))}?${query}`, {
          headers,
          ...(method === 'GET' || method === 'DELETE' ? {} : { body: JSON.stringify(body) }),
        });
        no5xx(`${method} ${path(id)}?${query}`, res.status);
        if (res.status === 200 && method === 'GET' && path(id).endsWith('/export')) {
          if (typeof res.body !== 'object' || !('audit' in res.body)) {
            throw new Error(
              `an export that is not whole: ${JSON.stringify(res.body).slice(0, 200)}`,
            );
          }
        }
        await invariants([]);
      },
    ),
    arb.fuzzOptions,
  );
  t.pass(`${arb.RUNS} generated staff requests`);
});
