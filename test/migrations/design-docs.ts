import t from 'tap';
import { newFleet } from '../helpers/fleet.js';
import { listFleet } from '../../server/migrations/databases.js';
import { deployDesignDocs, type DeployProgress } from '../../server/migrations/design-docs.js';
import { teamWriteGuard } from '../../server/provisioning/team-write-guard.js';
import { designDocVersion } from '../../server/rules/index.js';
import { testCouch } from '../helpers/store.js';
import { adminNano, designDocBuilds, seed, snapshots, userDbs } from './helpers.js';

/**
 * The rollout of a rule change: 50 user databases and 3 team databases at the old version, 5
 * user databases already current (one also holding a design document Sawa no longer builds),
 * and databases that are not Sawa's to touch.
 */
t.test('a rule change rolls out to every database, once', async (t) => {
  const store = await testCouch(t);
  const fleet = newFleet();
  const nano = adminNano(store);
  const { old, current } = designDocBuilds();
  const guard = teamWriteGuard();

  const stale = userDbs(fleet.prefix + 'stale', 50);
  const fresh = userDbs(fleet.prefix + 'fresh', 5);
  const teams = [
    `team-${fleet.prefix}north`,
    `team-${fleet.prefix}south`,
    `team-${fleet.prefix}west`,
  ];
  const legacyDb = fresh[0] as string;
  await seed(nano, stale, old.private);
  await seed(nano, fresh, current.private);
  await seed(nano, teams, [...old.team, guard]);
  // Not Sawa's databases: listed by _all_dbs, never touched. Named apart from every other
  // file's on a shared CouchDB (never the real accounts database).
  const tag = fleet.prefix.slice(0, -1);
  const others = [`sawa-accounts-${tag}`, `userdb-nothex-${tag}`, `reports-${tag}`];
  await seed(nano, others, old.private);

  // Design documents in the Sawa namespace: one an older build installed (removed), one
  // without a build version (someone's own: kept); and one outside the namespace (kept).
  const legacyContent = { _id: '_design/sawa-legacy', language: 'javascript', views: {} };
  const legacy = { ...legacyContent, version: designDocVersion(legacyContent) };
  await nano.use(legacyDb).insert(legacy);
  await nano.use(legacyDb).insert({ _id: '_design/sawa-mine', views: {} });
  await nano.use(legacyDb).insert({ _id: '_design/reports', views: {} });

  const all = [...stale, ...fresh, ...teams];
  const untouchable = [...others, ...fresh.slice(1)];
  const before = await snapshots(nano, [...all, ...untouchable]);
  const events: DeployProgress[] = [];

  t.test('a dry run reports what it would do and changes nothing', async (t) => {
    const res = await deployDesignDocs(nano, current, {
      fleet: fleet.dbs,
      dryRun: true,
      onProgress: (e) => events.push(e),
    });
    t.match(res, { scanned: 58, total: 58, updated: 54, unchanged: 4, failed: [], aborted: false });
    t.equal(res.doneThrough, null, 'a dry run finishes nothing');
    const changes = events.flatMap((e) => e.changes);
    t.equal(changes.filter((c) => c.startsWith('would install')).length, 53);
    t.same(
      changes.filter((c) => c.startsWith('would remove')),
      [`would remove ${legacyDb}/_design/sawa-legacy`],
    );
    t.same(await snapshots(nano, [...all, ...untouchable]), before, 'nothing written');
  });

  t.test('deploy brings every database to the new version', async (t) => {
    events.length = 0;
    const res = await deployDesignDocs(nano, current, {
      fleet: fleet.dbs,
      onProgress: (e) => events.push(e),
    });
    t.match(res, { scanned: 58, updated: 54, unchanged: 4, failed: [], aborted: false });
    t.equal(res.doneThrough, [...all].sort().at(-1), 'done through the last database');
    t.equal(events.length, 58, 'one progress event per database');
    t.same(
      events.map((e) => e.done),
      Array.from({ length: 58 }, (_, i) => i + 1),
    );

    const after = await snapshots(nano, [...all, ...untouchable]);
    const want = current.private[0]?.version;
    for (const db of [...stale, ...fresh]) {
      t.equal(after[db]?.ddocs['_design/sawa']?.version, want, `${db} current`);
    }
    for (const db of teams) {
      t.equal(after[db]?.ddocs['_design/sawa']?.version, current.team[0]?.version, `${db} current`);
      t.same(
        after[db]?.ddocs[guard._id],
        before[db]?.ddocs[guard._id],
        `${db} write guard untouched`,
      );
    }
    for (const db of untouchable) t.same(after[db], before[db], `${db} untouched`);
    t.notOk(after[legacyDb]?.ddocs['_design/sawa-legacy'], 'the obsolete Sawa design doc is gone');
    t.ok(after[legacyDb]?.ddocs['_design/sawa-mine'], 'a sawa- doc without a version is kept');
    t.ok(after[legacyDb]?.ddocs['_design/reports'], 'a design doc outside the namespace is kept');
    t.same(
      after[legacyDb]?.ddocs['_design/sawa'],
      before[legacyDb]?.ddocs['_design/sawa'],
      'its current design doc was not rewritten',
    );
  });

  t.test('a second run does nothing', async (t) => {
    const before2 = await snapshots(nano, all);
    const res = await deployDesignDocs(nano, current, { fleet: fleet.dbs, concurrency: 8 });
    t.match(res, { scanned: 58, updated: 0, unchanged: 58, failed: [] });
    t.same(await snapshots(nano, all), before2, 'no database written');
  });

  t.test('a design doc edited by hand (same version, other code) is put back', async (t) => {
    const db = stale[7] as string;
    const doc = (await nano.use(db).get('_design/sawa')) as object;
    await nano.use(db).insert({ ...doc, validate_doc_update: 'function () {}' } as object);
    const res = await deployDesignDocs(nano, current, { fleet: fleet.dbs });
    t.match(res, { updated: 1, unchanged: 57 });
    const fixed = (await nano.use(db).get('_design/sawa')) as object;
    t.equal(designDocVersion(fixed), current.private[0]?.version);
  });

  t.test('--keep-obsolete (prune: false) leaves old Sawa design docs', async (t) => {
    const db = stale[3] as string;
    await nano.use(db).insert(legacy);
    const kept = await deployDesignDocs(nano, current, { fleet: fleet.dbs, prune: false });
    t.match(kept, { updated: 0 });
    t.ok(await nano.use(db).get(legacy._id));
    const pruned = await deployDesignDocs(nano, current, { fleet: fleet.dbs });
    t.match(pruned, { updated: 1 });
  });
});

t.test('a fleet listed over many _all_dbs pages', async (t) => {
  const store = await testCouch(t);
  const fleet = newFleet();
  const nano = adminNano(store);
  const { old, current } = designDocBuilds();
  const dbs = userDbs(fleet.prefix + 'paged', 25);
  await seed(nano, dbs, old.private);
  t.same(
    await listFleet(nano, fleet.dbs.scope, { pageSize: 4 }),
    [...dbs].sort(),
    'every name, once, in order',
  );
  t.same(
    await listFleet(nano, fleet.dbs.scope, { pageSize: 4, startAfter: dbs[9] }),
    dbs.slice(10),
  );
  t.same(await listFleet(nano, fleet.dbs.scope, { startAfter: 'userdb-zz' }), []);
  const res = await deployDesignDocs(nano, current, { fleet: fleet.dbs });
  t.match(res, { scanned: 25, updated: 25 });
});
