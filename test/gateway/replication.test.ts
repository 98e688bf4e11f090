import t from 'tap';
import { unique } from '../helpers/fixtures.js';
import { phone } from '../helpers/phones.js';
import { farmer, gateway, Session } from './helper.js';

// Stock PouchDB phones replicating through the gateway, signed up and logged in through the
// real /auth routes, with the fetch wrapper DESIGN.md gives the mobile teams.

// One gateway for the file's tests, on the file's store: each signs up its own agents.
let service: ReturnType<typeof gateway> | undefined;
const shared = () => (service ??= gateway(t));

t.test('signup, first sync, offline edits on two phones: the conflict is everywhere', async (t) => {
  const amina = unique('amina');
  const gw = await shared();
  const signup = await gw.signup(amina);
  const db = signup.dbs.user;
  // Phone A signed up; phone B is the same agent logging in on a second device.
  const a = new Session(gw.url, signup, { 'X-Sawa-Device': 'phone-a' });
  const b = new Session(gw.url, await gw.login(amina), { 'X-Sawa-Device': 'phone-b' });
  const phoneA = phone();
  const phoneB = phone();

  const first = await phoneA.replicate.from(a.db(db));
  t.ok(first.ok, 'first sync of a fresh database');
  t.equal(first.doc_write_failures, 0);

  await phoneA.bulkDocs([
    farmer(amina, 'farmer-1'),
    farmer(amina, 'farmer-2', { village: 'Gairo' }),
  ]);
  const push = await phoneA.replicate.to(a.db(db));
  t.equal(push.docs_written, 2);
  t.equal(push.doc_write_failures, 0);
  const pull = await phoneB.replicate.from(b.db(db));
  // CouchDB semantics: design documents replicate to whoever may read the database.
  t.equal(pull.docs_written, 3, 'phone B pulls both farmers and the sawa design document');

  // Both phones go offline and edit the same farmer.
  const onA = await phoneA.get('farmer-1');
  const onB = await phoneB.get('farmer-1');
  await phoneA.put({ ...onA, village: 'Kilosa', updated_at: '2024-05-02T08:00:00+03:00' });
  await phoneB.put({ ...onB, village: 'Ifakara', updated_at: '2024-05-02T09:00:00+03:00' });

  t.equal((await phoneA.replicate.to(a.db(db))).docs_written, 1);
  t.equal((await phoneB.replicate.to(b.db(db))).docs_written, 1);
  const server = await a.db(db).get('farmer-1', { conflicts: true });
  t.equal(server._conflicts?.length, 1, 'the server keeps both branches');

  await phoneA.replicate.from(a.db(db));
  await phoneB.replicate.from(b.db(db));
  const docA = await phoneA.get('farmer-1', { conflicts: true });
  const docB = await phoneB.get('farmer-1', { conflicts: true });
  t.equal(docA._conflicts?.length, 1, 'phone A sees the conflict');
  t.equal(docB._conflicts?.length, 1, 'phone B sees the conflict');
  t.equal(docA._rev, docB._rev, 'both phones pick the same winner');
  t.equal(docA._rev, server._rev, '…the one the server picked');
  // 404s are the replicator's first look for its checkpoints; nothing else may fail.
  t.same(
    a.statuses.filter((s) => s >= 400 && s !== 404),
    [],
    'phone A saw no other error',
  );
});

t.test(
  'a write the sync rules refuse is reported by the replicator, the rest goes through',
  async (t) => {
    const baraka = unique('baraka');
    const gw = await shared();
    const auth = await gw.signup(baraka);
    const session = new Session(gw.url, auth);
    const p = phone();
    await p.bulkDocs([
      farmer(baraka, 'farmer-ok'),
      farmer(baraka, 'farmer-bad-phone', { phone: '0712345678' }),
      farmer('somebody-else', 'farmer-not-mine'),
      { _id: 'cow-1', type: 'cow', owner: baraka },
    ]);
    const denied: { id: string; reason: string }[] = [];
    const rep = p.replicate.to(session.db(auth.dbs.user));
    rep.on('denied', (err: unknown) => denied.push(err as { id: string; reason: string }));
    const result = await rep;
    t.equal(result.docs_written, 1);
    t.equal(result.doc_write_failures, 3);
    t.same(
      denied.map((d) => d.id).sort(),
      ['cow-1', 'farmer-bad-phone', 'farmer-not-mine'],
      'a denied event for each refused document',
    );
    const reasons = Object.fromEntries(denied.map((d) => [d.id, d.reason]));
    t.match(reasons['farmer-bad-phone'], /farmer\.phone must be an E\.164 number/);
    t.match(reasons['farmer-not-mine'], `farmer.owner must be the writing user (${baraka})`);
    t.match(reasons['cow-1'], /unknown document type "cow"/);
    const remote = session.db(auth.dbs.user);
    t.ok(await remote.get('farmer-ok'), 'the good document is on the server');
    const missing = await remote.get('farmer-bad-phone').catch((err: { status: number }) => err);
    t.equal(missing.status, 404, 'the refused one is not');
  },
);

t.test(
  'several offline edits push as one replicated write, judged against the server revision',
  async (t) => {
    const chiku = unique('chiku');
    const gw = await shared();
    const auth = await gw.signup(chiku);
    const session = new Session(gw.url, auth);
    const p = phone();
    await p.put(farmer(chiku, 'farmer-1'));
    await p.replicate.to(session.db(auth.dbs.user));
    for (const village of ['Kilosa', 'Gairo', 'Ifakara']) {
      const doc = await p.get('farmer-1');
      await p.put({ ...doc, village });
    }
    const result = await p.replicate.to(session.db(auth.dbs.user));
    t.equal(result.doc_write_failures, 0, 'generation 4 on top of generation 1 is an update');
    t.equal(result.docs_written, 1);
    const server = await session.db(auth.dbs.user).get('farmer-1');
    t.equal(server.village, 'Ifakara');
    t.match(server._rev, /^4-/);
  },
);

// CouchDB validates a replicated write against the nearest ancestor it has on disk
// (couch_db:make_first_doc_on_disk), not the parent the server never saw: the gateway and
// the store must both let the supervisor's offline edits through.
t.test(
  "a supervisor edits an agent's farmer in the team database several times offline",
  async (t) => {
    const asha = unique('asha');
    const sefu = unique('sefu');
    const kilosa = unique('kilosa');
    const gw = await shared();
    const agent = await gw.member(asha, ['agent'], [{ team: kilosa, mode: 'write' }]);
    const sup = await gw.member(sefu, ['supervisor'], [{ team: kilosa, mode: 'write' }]);
    const team = `team-${kilosa}`;
    t.same(sup.dbs.shared, [team]);
    const agentPhone = phone();
    await agentPhone.put(farmer(asha, 'farmer-1'));
    t.equal((await agentPhone.replicate.to(new Session(gw.url, agent).db(team))).docs_written, 1);
    const supSession = new Session(gw.url, sup);
    const supPhone = phone();
    await supPhone.replicate.from(supSession.db(team));
    for (const village of ['Kilosa', 'Gairo']) {
      const doc = await supPhone.get('farmer-1');
      await supPhone.put({ ...doc, village });
    }
    const denied: { reason: string }[] = [];
    const rep = supPhone.replicate.to(supSession.db(team));
    rep.on('denied', (err: unknown) => denied.push(err as { reason: string }));
    const result = await rep;
    t.same(denied, []);
    // With only the parent (generation 2, never on the server) as base, this would be judged
    // a create by sefu of asha's farmer, and refused.
    t.equal(result.doc_write_failures, 0, 'an update by an anyOwner role, not a create');
    t.equal((await supSession.db(team).get('farmer-1')).village, 'Gairo');
  },
);

t.test(
  'an update the rules refuse (owner change) is judged against the revision it builds on',
  async (t) => {
    const chausiku = unique('chausiku');
    const gw = await shared();
    const auth = await gw.signup(chausiku);
    const session = new Session(gw.url, auth);
    const p = phone();
    await p.put(farmer(chausiku, 'farmer-1'));
    await p.replicate.to(session.db(auth.dbs.user));
    const doc = await p.get('farmer-1');
    await p.put({ ...doc, owner: 'someone-else' }); // editing on the phone: PouchDB does not check
    const again = await p.get('farmer-1');
    await p.put({ ...again, name: 'Asha M.' });
    const denied: { reason: string }[] = [];
    const rep = p.replicate.to(session.db(auth.dbs.user));
    rep.on('denied', (err: unknown) => denied.push(err as { reason: string }));
    const result = await rep;
    t.equal(result.doc_write_failures, 1);
    t.match(
      denied[0]?.reason,
      /owner cannot change/,
      'judged against the server revision it builds on',
    );
  },
);

t.test(
  'a token that expires mid-replication is refreshed and the replication resumes',
  async (t) => {
    const dalila = unique('dalila');
    const gw = await shared();
    const auth = await gw.signup(dalila);
    const session = new Session(gw.url, auth);
    const p = phone();
    await p.bulkDocs(Array.from({ length: 250 }, (_, i) => farmer(dalila, `farmer-${i}`)));
    // Move the service's clock past the token's lifetime after a few requests: a real expiry,
    // seen by the real token check, in the middle of the push.
    const realNow = Date.now;
    t.teardown(() => {
      Date.now = realNow;
    });
    session.beforeRequest = (n) => {
      if (n === 4) {
        const skew = (auth.expires_in + 60) * 1000;
        Date.now = () => realNow() + skew;
      }
    };
    const result = await p.replicate.to(session.db(auth.dbs.user), { batch_size: 50 });
    t.equal(result.docs_written, 250, 'every document arrived');
    t.equal(result.doc_write_failures, 0);
    t.ok(session.statuses.includes(401), 'the gateway refused the expired token');
    t.equal(session.refreshes, 1, 'the client refreshed once');
    const info = await session.db(auth.dbs.user).info();
    t.equal(info.doc_count, 251, '250 farmers and the sawa design document');
  },
);
