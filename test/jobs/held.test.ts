import { teamDbName } from '../../server/provisioning/names.js';
import t from 'tap';
import { testCouch } from '../helpers/store.js';
import { readHeld } from '../../server/conflicts/held.js';
import { loadRules } from '../../server/rules/index.js';
import { documentSchema, text, COMMON_IMMUTABLE } from '../../sync-rules/common.js';
import { farmer as farmerRule } from '../../sync-rules/farmer.js';
import { syncRules } from '../../sync-rules/index.js';
import type { SyncRule } from '../../sync-rules/types.js';
import {
  archiveDocs,
  docsWithConflicts,
  farmer,
  jobContext,
  offlineConflict,
  serverDb,
  userDb,
  reconcile,
} from './helpers.js';
import { testFleet } from '../helpers/fleet.js';

const JOBS = testFleet().dbs.jobs;

const server = await testCouch(t);

/** The reference rules with farmer conflicts left to people. */
const manualRules = loadRules(
  syncRules.map((r) =>
    r.type === 'farmer' ? { ...r, conflict: { strategy: 'manual' as const } } : r,
  ),
);

/** A plot is rented or owned, never both: each phone's edit is valid, their merge is not. */
const plot: SyncRule = {
  ...farmerRule,
  type: 'plot',
  description: 'a plot of land a farmer works',
  schema: {
    ...documentSchema('plot', {
      properties: { farmer_id: text(200), rented_from: text(200), title_deed: text(100) },
      required: ['farmer_id'],
    }),
    not: {
      properties: { rented_from: true, title_deed: true },
      required: ['rented_from', 'title_deed'],
    },
  },
  messages: {},
  immutable: [...COMMON_IMMUTABLE],
  personalData: [],
  conflict: { strategy: 'field-merge', field: 'updated_at' },
  retention: { phoneDays: 'forever', serverDays: 'forever', from: 'updated_at' },
};
const plotRules = loadRules([plot]);

t.test('manual: the conflict is left in place, recorded with why and since when', async (t) => {
  const ctx = jobContext(server, { rules: manualRules });
  const { db, user } = await userDb(ctx.nano);
  await offlineConflict(
    server,
    db,
    farmer('farmer-m', user),
    [{ village: 'Kilosa', updated_at: '2024-05-03T10:00:00+03:00' }],
    [{ village: 'Gairo', updated_at: '2024-05-03T11:00:00+03:00' }],
  );
  t.match(await reconcile(ctx), { resolved: 0, held: 1 });
  const [doc] = await docsWithConflicts(ctx.nano, db);
  t.equal(doc?._conflicts?.length, 1, 'both branches are still there');
  const [held] = await readHeld(ctx.nano, JOBS);
  t.match(held, {
    db,
    doc_id: 'farmer-m',
    doc_type: 'farmer',
    strategy: 'manual',
    reason: /manual/,
  });
  t.equal((await archiveDocs(ctx.nano)).length, 0, 'nothing archived: nothing was replaced');
  t.ok(
    ctx.lines.some((l) => l.msg === 'conflict left for a person' && l.doc === 'farmer-m'),
    'logged',
  );

  // A person resolves it by hand: the next run sees one branch and drops the record.
  await serverDb(server, db).bulkDocs([
    { _id: 'farmer-m', _rev: doc?._conflicts?.[0] as string, _deleted: true },
  ] as never);
  t.match(await reconcile(ctx), { clean: 1, held: 0 });
  t.same(await readHeld(ctx.nano, JOBS), [], 'the held record is gone');
});

t.test('a change of rule retries the held conflicts', async (t) => {
  const manual = jobContext(server, { rules: manualRules });
  const { db, user } = await userDb(manual.nano);
  await offlineConflict(
    server,
    db,
    farmer('farmer-r', user),
    [{ village: 'Kilosa', updated_at: '2024-05-03T10:00:00+03:00' }],
    [{ name: 'Asha R.', updated_at: '2024-05-03T11:00:00+03:00' }],
  );
  t.match(await reconcile(manual), { held: 1 });
  t.match(await reconcile(manual), { held: 0, retried: 0 }, 'same rules: not looked at again');
  const merged = await reconcile(jobContext(server));
  t.match(
    merged,
    { resolved: 1, retried: 1 },
    'farmer is field-merge again: the held conflict is merged',
  );
  const [doc] = await docsWithConflicts(manual.nano, db);
  t.match(doc, { village: 'Kilosa', name: 'Asha R.' });
  t.notOk(doc?._conflicts);
  t.same(await readHeld(manual.nano, JOBS), []);
});

t.test('a merge the schema refuses is not forced: left, recorded, logged', async (t) => {
  const ctx = jobContext(server, { rules: plotRules });
  const { db, user } = await userDb(ctx.nano, plotRules);
  const base = {
    _id: 'plot-1',
    type: 'plot',
    owner: user,
    created_at: '2024-05-01T08:00:00Z',
    updated_at: '2024-05-01T08:00:00Z',
    farmer_id: 'farmer-1',
  };
  await offlineConflict(
    server,
    db,
    base,
    [{ rented_from: 'Mzee Juma', updated_at: '2024-05-02T08:00:00Z' }],
    [{ title_deed: 'TD-2291', updated_at: '2024-05-02T09:00:00Z' }],
  );
  const before = await docsWithConflicts(ctx.nano, db);
  t.match(await reconcile(ctx), { resolved: 0, held: 1 });
  const after = await docsWithConflicts(ctx.nano, db);
  t.same(after, before, 'the database is as it was');
  const [held] = await readHeld(ctx.nano, JOBS);
  t.match(held, {
    doc_id: 'plot-1',
    strategy: 'field-merge',
    reason: /the rules would refuse the outcome of field-merge/,
  });
  // Judged before anything is archived or written: CouchDB is never asked to refuse it.
  const archived = (await archiveDocs(ctx.nano)).filter((d) => d.db === db);
  t.same(archived, [], 'nothing archived, nothing attempted');
  const warned = ctx.lines.find((l) => l.msg === 'conflict left for a person');
  t.match(warned, { level: 40, db, doc: 'plot-1', reason: /would refuse/ });
  t.match(await reconcile(ctx), { held: 0, resolved: 0 }, 'not retried while nothing changes');
});

t.test('a type no rule names is held', async (t) => {
  const ctx = jobContext(server, { rules: plotRules });
  const db = teamDbName(testFleet().team('plots'));
  await ctx.nano.db.create(db);
  await offlineConflict(server, db, { _id: 'x', type: 'cow', n: 1 }, [{ n: 2 }], [{ n: 3 }]);
  t.match(await reconcile(ctx), { held: 1 });
  const held = (await readHeld(ctx.nano, JOBS)).find((h) => h.db === db);
  t.match(held, { doc_type: 'cow', strategy: null, reason: /no sync rule names the type "cow"/ });
});
