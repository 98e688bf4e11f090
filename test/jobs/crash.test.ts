import t from 'tap';
import { testCouch } from '../helpers/store.js';
import { reconcile } from '../../server/jobs/reconcile/index.js';
import {
  archiveDocs,
  docsWithConflicts,
  farmer,
  jobContext,
  offlineConflict,
  serverDb,
  userDb,
} from './helpers.js';

const server = await testCouch(t);

t.test('a crash between archive and resolution is finished by the next run', async (t) => {
  const ctx = jobContext(server);
  const { db, user } = await userDb(ctx.nano);
  const { a, b } = await offlineConflict(
    server,
    db,
    farmer('farmer-c', user),
    [{ village: 'Kilosa', updated_at: '2024-05-03T10:00:00+03:00' }],
    [{ name: 'Asha C.', updated_at: '2024-05-03T11:00:00+03:00' }],
  );
  const crashed = await reconcile(ctx, {
    afterArchive: () => {
      throw new Error('power cut');
    },
  });
  t.match(crashed, { resolved: 0, failed_databases: 1 });
  const [still] = await docsWithConflicts(ctx.nano, db);
  t.equal(still?._conflicts?.length, 1, 'the conflict is still there');
  const archivedFirst = await archiveDocs(ctx.nano);
  t.equal(
    archivedFirst.filter((d) => d.kind === 'revision').length,
    2,
    'the archive was written first',
  );
  t.match(
    archivedFirst.find((d) => d.kind === 'resolution' && d.db === db),
    { status: 'planned' },
  );

  const next = await reconcile(ctx);
  t.match(next, { resolved: 1, failed_databases: 0 });
  const [doc] = await docsWithConflicts(ctx.nano, db);
  t.notOk(doc?._conflicts);
  t.match(doc, { village: 'Kilosa', name: 'Asha C.' });
  const archived = await archiveDocs(ctx.nano);
  t.same(
    archived.map((d) => d._id).sort(),
    archivedFirst.map((d) => d._id).sort(),
    'the retry archived nothing twice',
  );
  t.match(
    archived.find((d) => d.kind === 'resolution' && d.db === db),
    { status: 'resolved', written_rev: doc?._rev },
  );

  for (const p of [a, b]) {
    await p.replicate.from(serverDb(server, db));
    const got = await p.get('farmer-c', { conflicts: true });
    t.notOk(got._conflicts);
    t.equal(got._rev, doc?._rev);
  }
});

t.test('a stop request ends the run between documents and the next run carries on', async (t) => {
  const stop = new AbortController();
  const ctx = jobContext(server, { signal: stop.signal });
  const { db, user } = await userDb(ctx.nano);
  for (const id of ['farmer-s1', 'farmer-s2']) {
    await offlineConflict(
      server,
      db,
      farmer(id, user),
      [{ village: 'Kilosa', updated_at: '2024-05-03T10:00:00+03:00' }],
      [{ name: 'Asha S.', updated_at: '2024-05-03T11:00:00+03:00' }],
    );
  }
  const first = await reconcile(ctx, { afterArchive: () => stop.abort() });
  t.match(
    first,
    { resolved: 1, stopped: true },
    'the document in hand is finished, then the run stops',
  );
  const second = await reconcile(jobContext(server));
  t.match(second, { resolved: 1 });
  t.notOk((await docsWithConflicts(ctx.nano, db)).some((d) => d._conflicts));
});
