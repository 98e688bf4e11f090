import t from 'tap';
import { testCouch } from '../helpers/store.js';
import { testService } from '../helpers/service.js';
import { readLease } from '../../server/jobs/lease.js';
import {
  adminNano,
  archiveDocs,
  docsWithConflicts,
  farmer,
  offlineConflict,
  userDb,
} from './helpers.js';
import { testFleet } from '../helpers/fleet.js';

const JOBS = testFleet().dbs.jobs;

const server = await testCouch(t);
const nano = adminNano(server);

t.test('two Sawa instances on one store: the reconciler runs once per tick', async (t) => {
  const { db, user } = await userDb(nano);
  await offlineConflict(
    server,
    db,
    farmer('farmer-i', user),
    [{ village: 'Kilosa', updated_at: '2024-05-03T10:00:00+03:00' }],
    [{ name: 'Asha I.', updated_at: '2024-05-03T11:00:00+03:00' }],
  );
  const env = { JOBS_ENABLED: 'reconcile', JOB_RECONCILE_SCHEDULE: '* * * * * *' };
  const instances = [await testService(t, server, env), await testService(t, server, env)];

  const end = Date.now() + 40_000;
  while (((await readLease(nano, JOBS, 'reconcile'))?.runs.length ?? 0) < 4) {
    if (Date.now() > end) throw new Error('the reconciler did not run four times');
    await new Promise((r) => setTimeout(r, 100));
  }
  await Promise.all(instances.map((i) => i.app.close()));

  const runs = (await readLease(nano, JOBS, 'reconcile'))?.runs ?? [];
  const ticks = runs.map((r) => r.tick);
  t.equal(new Set(ticks).size, ticks.length, 'no tick ran twice');
  t.ok(
    runs.every((r) => r.ok),
    'every run succeeded',
  );
  t.equal(
    runs.reduce((n, r) => n + Number(r.result?.resolved ?? 0), 0),
    1,
    'across all runs of both instances, the conflict was resolved once',
  );
  const resolutions = (await archiveDocs(nano)).filter((d) => d.kind === 'resolution');
  t.match(resolutions, [{ db, doc_id: 'farmer-i', status: 'resolved' }]);
  const [doc] = await docsWithConflicts(nano, db);
  t.notOk(doc?._conflicts);
  t.match(doc, { village: 'Kilosa', name: 'Asha I.' });
});
