import t from 'tap';
import type Nano from 'nano';
import { testCouch } from '../helpers/store.js';
import { readHeld } from '../../server/conflicts/held.js';
import {
  archiveDocs,
  docsWithConflicts,
  doubleCreate,
  farmer,
  jobContext,
  offlineConflict,
  serverDb,
  userDb,
  reconcile,
} from './helpers.js';

const server = await testCouch(t);

/** Revisions written as a replicator writes them, straight to CouchDB (no gateway). */
const replicated = (nano: Nano.ServerScope, db: string, docs: object[]) =>
  nano.request({ db, method: 'POST', path: '_bulk_docs', body: { new_edits: false, docs } });

const paymentStatus = (owner: string, status: string) => ({
  _id: 'payment_status-1',
  type: 'payment_status',
  owner,
  created_at: '2024-05-01T08:00:00Z',
  updated_at: '2024-05-01T08:00:00Z',
  request_id: 'payment_request-1',
  provider: 'mpesa',
  status,
});

t.test('field-merge: each phone keeps its own edits; phones get the merge', async (t) => {
  const ctx = jobContext(server);
  const { db, user } = await userDb(ctx.nano);
  const { a, b } = await offlineConflict(
    server,
    db,
    farmer('farmer-1', user, { phone: '+255712000001', land_acres: 2 }),
    [{ village: 'Kilosa', updated_at: '2024-05-03T10:00:00+03:00' }],
    [
      { name: 'Asha M. Mwakyusa', updated_at: '2024-05-02T09:00:00+03:00' },
      { land_acres: 3, updated_at: '2024-05-04T09:00:00+03:00' },
    ],
  );
  const before = await serverDb(server, db).get('farmer-1', { conflicts: true });
  t.equal(before._conflicts?.length, 1, 'the server holds two branches');
  const leaves = (await serverDb(server, db).get('farmer-1', {
    open_revs: 'all',
  })) as unknown as Array<{ ok: { _rev: string } }>;

  const first = await reconcile(ctx);
  t.match(first, { resolved: 1, held: 0, failed_databases: 0 });

  const [doc, ...others] = await docsWithConflicts(ctx.nano, db);
  t.equal(others.length, 0);
  t.notOk(doc?._conflicts, 'no conflict left on the server');
  t.match(doc, {
    name: 'Asha M. Mwakyusa', // only phone B changed it
    village: 'Kilosa', // only phone A changed it
    land_acres: 3, // only phone B changed it (twice)
    phone: '+255712000001',
    updated_at: '2024-05-04T09:00:00+03:00', // changed on both: the newest wins
  });

  const archived = await archiveDocs(ctx.nano);
  const revisions = archived.filter((d) => d.kind === 'revision');
  t.same(
    revisions.map((d) => d.rev).sort(),
    leaves.map((l) => l.ok._rev).sort(),
    'both replaced leaves are archived whole (the merge was written over one of them)',
  );
  for (const r of revisions) {
    const leaf = leaves.find((l) => l.ok._rev === r.rev)?.ok;
    t.same(r.doc, leaf, `archived ${r.rev} is the revision exactly`);
    t.match(r, { db, user, doc_id: 'farmer-1', doc_type: 'farmer', strategy: 'field-merge' });
    t.equal(r._id, `rev:${db}:farmer-1:${r.rev}`);
  }
  const [resolution] = archived.filter((d) => d.kind === 'resolution' && d.db === db);
  t.match(resolution, { status: 'resolved', strategy: 'field-merge', written_rev: doc?._rev });
  t.same(
    resolution?.contested,
    { updated_at: resolution?.kept },
    'only updated_at was changed on both',
  );

  for (const p of [a, b]) {
    await p.replicate.from(serverDb(server, db));
    const got = await p.get('farmer-1', { conflicts: true });
    t.notOk(got._conflicts, 'the phone has no conflict after pulling');
    t.equal(got._rev, doc?._rev, 'the phone shows the merged revision');
    t.equal(got.village, 'Kilosa');
    t.equal(got.name, 'Asha M. Mwakyusa');
  }

  const second = await reconcile(ctx);
  t.match(second, { resolved: 0, held: 0, superseded: 0 }, 'a second run resolves nothing');
  t.equal(
    (await docsWithConflicts(ctx.nano, db))[0]?._rev,
    doc?._rev,
    'and writes nothing to the database',
  );
  t.equal((await archiveDocs(ctx.nano)).length, archived.length, 'nor to the archive');
  const third = await reconcile(ctx);
  t.match(
    third,
    { databases: 0 },
    'once its own writes are seen, an unchanged database is not read at all',
  );
});

t.test('field-merge: a field edited on both phones goes to the newest edit', async (t) => {
  const ctx = jobContext(server);
  const { db, user } = await userDb(ctx.nano);
  await offlineConflict(
    server,
    db,
    farmer('farmer-2', user),
    [{ village: 'Kilosa', updated_at: '2024-05-03T10:00:00+03:00' }],
    [{ village: 'Gairo', district: 'Gairo', updated_at: '2024-05-03T11:00:00+03:00' }],
  );
  t.match(await reconcile(ctx), { resolved: 1 });
  const [doc] = await docsWithConflicts(ctx.nano, db);
  t.match(doc, { village: 'Gairo', district: 'Gairo' });
  const [resolution] = (await archiveDocs(ctx.nano)).filter(
    (d) => d.kind === 'resolution' && d.db === db,
  );
  t.ok(resolution?.contested.village, 'the overridden change is named in the resolution record');
  const lost = (await archiveDocs(ctx.nano)).find(
    (d) => d.kind === 'revision' && d.db === db && d.doc.village === 'Kilosa',
  );
  t.ok(lost, 'the losing value is in the archive');
});

t.test(
  'last-write-wins: the newest updated_at wins even when CouchDB would pick the other',
  async (t) => {
    const ctx = jobContext(server);
    const { db, user } = await userDb(ctx.nano);
    const base = paymentStatus(user, 'pending');
    // Phone A saves twice (generation 3, CouchDB's winner) but earlier, with a photo of the
    // receipt; B once, later.
    const receipt = Buffer.from('M-Pesa receipt QWE123 TSh 25,000').toString('base64');
    const { a, b } = await offlineConflict(
      server,
      db,
      base,
      [
        { attempts: 1, updated_at: '2024-05-01T09:00:00Z' },
        {
          status: 'failed',
          updated_at: '2024-05-01T09:05:00Z',
          _attachments: { 'receipt.txt': { content_type: 'text/plain', data: receipt } },
        },
      ],
      [{ status: 'succeeded', provider_reference: 'MP123', updated_at: '2024-05-01T10:00:00Z' }],
    );
    const before = await serverDb(server, db).get('payment_status-1');
    t.equal(before.status, 'failed', 'CouchDB alone would show the older edit');
    t.match(await reconcile(ctx), { resolved: 1 });
    const [doc] = await docsWithConflicts(ctx.nano, db);
    t.notOk(doc?._conflicts);
    t.match(doc, { status: 'succeeded', provider_reference: 'MP123' });
    t.equal(doc?._rev.split('-')[0], '2', 'the winner is kept as it was: no new revision');
    const archived = (await archiveDocs(ctx.nano)).filter(
      (d) => d.db === db && d.kind === 'revision',
    );
    t.equal(archived.length, 1);
    t.equal(archived[0]?.doc.status, 'failed', 'the loser is archived');
    const att = await fetch(
      `${server.url}/${ctx.config.CONFLICTS_ARCHIVE_DB}/${encodeURIComponent(archived[0]?._id)}/receipt.txt`,
      { headers: { authorization: server.adminAuth } },
    );
    t.equal(
      Buffer.from(await att.arrayBuffer()).toString('base64'),
      receipt,
      'with its attachment',
    );
    for (const p of [a, b]) {
      await p.replicate.from(serverDb(server, db));
      const got = await p.get('payment_status-1', { conflicts: true });
      t.notOk(got._conflicts, 'the phone has no conflict after pulling');
      t.match(got, { _rev: doc?._rev, status: 'succeeded' }, 'and shows the newest write');
    }
  },
);

t.test(
  'immutable and append-only: differing branches are held, never ranked by created_at',
  async (t) => {
    const ctx = jobContext(server);
    const { db, user } = await userDb(ctx.nano);
    const sms = (created_at: string, text: string) => ({
      _id: 'sms_request-1',
      type: 'sms_request',
      owner: user,
      created_at,
      updated_at: created_at,
      to: '+255712000002',
      text,
    });
    // The second branch claims to be earlier: before, that alone made it win.
    await doubleCreate(
      server,
      db,
      sms('2024-05-02T08:00:00Z', 'first on the server'),
      sms('2024-05-01T08:00:00Z', 'forged as earlier'),
    );
    const visit = {
      _id: 'visit-1',
      type: 'visit',
      owner: user,
      created_at: '2024-05-01T07:00:00Z',
      updated_at: '2024-05-01T07:00:00Z',
      farmer_id: 'farmer-1',
      visited_at: '2024-05-01T07:00:00Z',
      activity: 'training',
      notes: 'same on both phones',
    };
    // The same visit under two revision ids (a phone re-sending after a reinstall).
    const same = await replicated(ctx.nano, db, [
      { ...visit, _rev: '1-aaaa', _revisions: { start: 1, ids: ['aaaa'] } },
      { ...visit, _rev: '1-bbbb', _revisions: { start: 1, ids: ['bbbb'] } },
    ]);
    t.same(same, [], 'both branches stored');
    t.match(await reconcile(ctx), { resolved: 1, held: 1 });
    const docs = await docsWithConflicts(ctx.nano, db);
    const byId = Object.fromEntries(docs.map((d) => [d._id, d]));
    t.ok(byId['sms_request-1']?._conflicts?.length, 'the differing sms_request still has both');
    t.notOk(byId['visit-1']?._conflicts, 'identical branches: one stays');
    t.equal(byId['visit-1']?._rev, '1-bbbb', "CouchDB's winner");
    const held = await readHeld(ctx.nano, ctx.config.JOBS_DB, db);
    t.same(
      held.map((h) => h.doc_id),
      ['sms_request-1'],
    );
    t.match(held[0]?.reason, /cannot be told from the phones' timestamps/);
  },
);

t.test(
  'last-write-wins never hands a document to a branch that changes what may not change',
  async (t) => {
    const ctx = jobContext(server);
    const { db, user } = await userDb(ctx.nano);
    const status = paymentStatus(user, 'succeeded');
    await ctx.nano.use(db).insert(status as never);
    // Written straight to CouchDB with a history that meets nothing on the server:
    // validate_doc_update sees oldDoc = null and accepts it as a create.
    const forged = await replicated(ctx.nano, db, [
      {
        ...status,
        request_id: 'payment_request-2',
        updated_at: '2030-01-01T00:00:00Z',
        _rev: '3-cccc',
        _revisions: { start: 3, ids: ['cccc', 'c2', 'c1'] },
      },
    ]);
    t.same(forged, []);
    t.match(await reconcile(ctx), { resolved: 0, held: 1 });
    const [held] = await readHeld(ctx.nano, ctx.config.JOBS_DB, db);
    t.match(held?.reason, /request_id cannot change/);
    const [kept] = await docsWithConflicts(ctx.nano, db);
    t.equal(kept?._conflicts?.length, 1, 'both branches kept for a person');
    t.equal(
      kept?.request_id,
      'payment_request-2',
      'nothing deleted: CouchDB still shows its winner',
    );
  },
);

t.test('two reconcilers racing on one conflict produce one resolution', async (t) => {
  const ctx = jobContext(server);
  const { db, user } = await userDb(ctx.nano);
  await offlineConflict(
    server,
    db,
    farmer('farmer-3', user),
    [{ village: 'Kilosa', updated_at: '2024-05-03T10:00:00+03:00' }],
    [{ name: 'Asha K.', updated_at: '2024-05-03T11:00:00+03:00' }],
  );
  // No lease here: two runs at once, as two instances would be without one.
  const [r1, r2] = await Promise.all([reconcile(ctx), reconcile(jobContext(server))]);
  t.equal(Number(r1.resolved) + Number(r2.resolved), 1, 'one run resolves it');
  const [doc] = await docsWithConflicts(ctx.nano, db);
  t.notOk(doc?._conflicts);
  t.match(doc, { village: 'Kilosa', name: 'Asha K.' });
  t.equal(doc?._rev.split('-')[0], '3', 'one merged revision was written');
});

t.test('a database is read a page at a time', async (t) => {
  const ctx = jobContext(server);
  const { db, user } = await userDb(ctx.nano);
  for (const id of ['farmer-p1', 'farmer-p2', 'farmer-p3', 'farmer-p4', 'farmer-p5']) {
    await offlineConflict(
      server,
      db,
      farmer(id, user),
      [{ village: 'Kilosa', updated_at: '2024-05-03T10:00:00+03:00' }],
      [{ name: 'Asha P.', updated_at: '2024-05-03T11:00:00+03:00' }],
    );
  }
  t.match(await reconcile(ctx, { pageSize: 2 }), { resolved: 5, failed_databases: 0 });
  t.notOk((await docsWithConflicts(ctx.nano, db)).some((d) => d._conflicts));
});
