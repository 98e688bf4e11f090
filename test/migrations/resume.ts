import t from 'tap';
import { newFleet } from '../helpers/fleet.js';
import { readRollout, ROLLOUT_ID } from '../../server/migrations/checkpoint.js';
import { deployDesignDocs } from '../../server/migrations/design-docs.js';
import { rollOutDesignDocs } from '../../server/migrations/rollout.js';
import { testCouch } from '../helpers/store.js';
import { adminNano, designDocBuilds, seed, snapshots, userDbs } from './helpers.js';

t.test('an interrupted deploy is finished by running it again', async (t) => {
  const store = await testCouch(t);
  const fleet = newFleet();
  const nano = adminNano(store);
  const { old, current } = designDocBuilds();
  const dbs = userDbs(fleet.prefix + 'cut', 30);
  await seed(nano, dbs, old.private);

  const stop = new AbortController();
  const first = await deployDesignDocs(nano, current, {
    fleet: fleet.dbs,
    concurrency: 3,
    signal: stop.signal,
    onProgress: (e) => e.done === 10 && stop.abort(),
  });
  t.equal(first.aborted, true);
  t.ok(first.scanned >= 10 && first.scanned < 30, `stopped part-way (${first.scanned})`);
  t.equal(first.updated, first.scanned, 'what it took in hand, it finished');

  const second = await deployDesignDocs(nano, current, { fleet: fleet.dbs });
  t.match(second, { scanned: 30, aborted: false, failed: [] });
  t.equal(second.updated, 30 - first.updated, 'the second run did the rest, and only the rest');
  const after = await snapshots(nano, dbs);
  for (const db of dbs)
    t.equal(after[db]?.ddocs['_design/sawa']?.version, current.private[0]?.version);
});

t.test(
  'the rollout record resumes after the last database done, and skips at start-up',
  async (t) => {
    const store = await testCouch(t);
    const fleet = newFleet();
    const nano = adminNano(store);
    const { old, current } = designDocBuilds();
    const dbs = userDbs(fleet.prefix + 'rec', 30);
    await seed(nano, dbs, old.private);

    const stop = new AbortController();
    const first = await rollOutDesignDocs(nano, current, {
      fleet: fleet.dbs,
      from: 'resume',
      concurrency: 2,
      checkpointEvery: 1,
      signal: stop.signal,
      onProgress: (e) => e.done === 12 && stop.abort(),
    });
    t.equal(first.aborted, true);
    const saved = await readRollout(nano, fleet.dbs.jobs);
    t.match(saved, { state: 'running', target: first.target, done_through: first.doneThrough });
    const doneIndex = dbs.indexOf(first.doneThrough as string);
    t.ok(doneIndex >= 9, `a checkpoint after ${doneIndex + 1} databases`);
    for (const db of dbs.slice(0, doneIndex + 1)) {
      const doc = (await nano.use(db).get('_design/sawa')) as { version?: string };
      t.equal(doc.version, current.private[0]?.version, `${db}, before the checkpoint, is done`);
    }

    const second = await rollOutDesignDocs(nano, current, { fleet: fleet.dbs, from: 'resume' });
    t.equal(second.resumedAfter, first.doneThrough);
    t.equal(second.scanned, 30 - (doneIndex + 1), 'only the databases after the checkpoint');
    t.equal(second.updated, 30 - first.updated, 'and those it had not reached were updated');
    t.match(await readRollout(nano, fleet.dbs.jobs), {
      state: 'complete',
      done_through: dbs.at(-1),
    });
    const after = await snapshots(nano, dbs);
    for (const db of dbs)
      t.equal(after[db]?.ddocs['_design/sawa']?.version, current.private[0]?.version);

    const startUp = await rollOutDesignDocs(nano, current, { fleet: fleet.dbs, from: 'start-up' });
    t.match(
      startUp,
      { skipped: true, scanned: 0 },
      'start-up after a complete rollout: nothing to scan',
    );
    const full = await rollOutDesignDocs(nano, current, { fleet: fleet.dbs, from: 'resume' });
    t.match(
      full,
      { skipped: false, scanned: 30, updated: 0 },
      'the command always checks a complete rollout',
    );

    const otherBuild = await rollOutDesignDocs(nano, old, { fleet: fleet.dbs, from: 'start-up' });
    t.match(
      otherBuild,
      { skipped: false, resumedAfter: null, scanned: 30, updated: 30 },
      'another build starts over',
    );

    const dry = await rollOutDesignDocs(nano, current, {
      fleet: fleet.dbs,
      from: 'resume',
      dryRun: true,
    });
    t.match(dry, { scanned: 30, updated: 30, record: null });
    t.match(
      await readRollout(nano, fleet.dbs.jobs),
      { target: otherBuild.target },
      'a dry run leaves the record alone',
    );

    const security = (await nano.request({ db: fleet.dbs.jobs, path: '_security' })) as object;
    t.match(security, { members: { roles: ['_admin'] } }, 'the jobs database is closed to users');
    t.ok(await nano.use(fleet.dbs.jobs).get(ROLLOUT_ID));
  },
);
