import t from 'tap';
import { randomBytes } from 'node:crypto';
import { phone } from '../helpers/phones.js';
import { couch } from '../helpers/store.js';
import { farmer, gateway, paymentRequest, Session } from './helper.js';

// Issue 8 item 2: a replicated write whose `_revisions` never meet the server's tree was judged
// as a create, so a phone could replace immutable data or another member's document.

const gw = await gateway(t);
const suffix = randomBytes(3).toString('hex');
const amina = await gw.signup(`amina${suffix}`);
const A = amina.dbs.user;
const headers = (token: string) => ({
  authorization: `Bearer ${token}`,
  'content-type': 'application/json',
});
const call = (token: string, method: string, path: string, body?: unknown) =>
  couch(gw.url, method, path, { body: body as never, headers: headers(token) });
const asAdmin = (path: string) => couch(gw.store.url, 'GET', path, { auth: gw.store.adminAuth });

const payment = paymentRequest(amina.user.name, 'pay-1');

t.test('a forged history cannot replace an immutable document', async (t) => {
  const put = await call(amina.access_token, 'PUT', `/sync/${A}/pay-1`, payment);
  t.equal(put.status, 201);
  const forged = {
    ...payment,
    amount: 5_000_000,
    msisdn: '+255799999999',
    created_at: '2024-04-01T09:30:00+03:00',
    _rev: '3-cccc',
    _revisions: { start: 3, ids: ['cccc', 'c2', 'c1'] },
  };
  const res = await call(amina.access_token, 'POST', `/sync/${A}/_bulk_docs`, {
    docs: [forged],
    new_edits: false,
  });
  t.equal(res.status, 201);
  t.match(res.body, [
    { id: 'pay-1', rev: '3-cccc', error: 'forbidden', reason: /cannot be changed once written/ },
  ]);
  // Through a revision id the server really has, but on a branch of its own.
  const real = (put.body.rev as string).split('-')[1];
  const grafted = { ...forged, _rev: '2-dddd', _revisions: { start: 2, ids: ['dddd', real] } };
  const graft = await call(amina.access_token, 'POST', `/sync/${A}/_bulk_docs`, {
    docs: [grafted],
    new_edits: false,
  });
  t.match(graft.body, [{ id: 'pay-1', error: 'forbidden' }], 'a graft onto a real revision too');
  const stored = await asAdmin(`/${A}/pay-1?conflicts=true`);
  t.equal(stored.body.amount, 1000);
  t.notOk(stored.body._conflicts, 'no second branch');

  // A phone re-sending the revision the server already has is no new branch: accepted, no-op.
  const mine = await call(amina.access_token, 'GET', `/sync/${A}/pay-1?revs=true`);
  const again = await call(amina.access_token, 'POST', `/sync/${A}/_bulk_docs`, {
    docs: [mine.body],
    new_edits: false,
  });
  t.same(again.body, [], 'the server revision, re-sent');
  t.notOk((await asAdmin(`/${A}/pay-1?conflicts=true`)).body._conflicts);
});

t.test("a team member cannot replace another member's farmer with a forged history", async (t) => {
  const team = `kilosa${suffix}`;
  const sefu = await gw.member(`sefu${suffix}`, ['agent'], [{ team, mode: 'write' }]);
  const juma = await gw.member(`juma${suffix}`, ['agent'], [{ team, mode: 'write' }]);
  const T = sefu.dbs.shared[0] as string;
  t.ok(T, 'a team database');
  const mine = farmer(sefu.user.name, `farmer-${suffix}`);
  t.equal((await call(sefu.access_token, 'PUT', `/sync/${T}/${mine._id}`, mine)).status, 201);
  const takeover = {
    ...mine,
    owner: juma.user.name,
    name: 'Not Asha',
    updated_at: '2030-01-01T00:00:00+03:00',
    _rev: '3-eeee',
    _revisions: { start: 3, ids: ['eeee', 'e2', 'e1'] },
  };
  const res = await call(juma.access_token, 'POST', `/sync/${T}/_bulk_docs`, {
    docs: [takeover],
    new_edits: false,
  });
  t.match(res.body, [{ id: mine._id, error: 'forbidden' }]);
  // Keeping the owner does not help: only the owner (or a supervisor) updates it.
  const kept = { ...takeover, owner: sefu.user.name };
  const again = await call(juma.access_token, 'POST', `/sync/${T}/_bulk_docs`, {
    docs: [kept],
    new_edits: false,
  });
  t.match(again.body, [{ id: mine._id, error: 'forbidden', reason: /only its owner/ }]);
  const stored = await asAdmin(`/${T}/${mine._id}?conflicts=true`);
  t.equal(stored.body.owner, sefu.user.name);
  t.notOk(stored.body._conflicts);
});

t.test('the same id created by its owner on two phones is an ordinary conflict', async (t) => {
  const id = `farmer-twice-${suffix}`;
  const a = phone();
  const b = phone();
  await a.put(farmer(amina.user.name, id, { created_at: '2024-05-01T08:00:00+03:00' }));
  await b.put(
    farmer(amina.user.name, id, {
      created_at: '2024-05-02T08:00:00+03:00',
      updated_at: '2024-05-02T08:00:00+03:00',
      name: 'Asha M.',
    }),
  );
  const remote = () => new Session(gw.url, amina).db(A);
  const first = await a.replicate.to(remote());
  const second = await b.replicate.to(remote());
  t.equal(first.doc_write_failures, 0);
  t.equal(second.doc_write_failures, 0, 'the second phone is not refused');
  const stored = await asAdmin(`/${A}/${id}?conflicts=true`);
  t.equal(stored.body._conflicts?.length, 1, 'two branches for the reconciler');
});
