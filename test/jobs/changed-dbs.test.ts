import t from 'tap';
import { randomBytes } from 'node:crypto';
import { testCouch } from '../helpers/store.js';
import { changedDatabases, ensureJobsDb } from '../../server/jobs/changed-dbs.js';
import { teamDbName, userDbName } from '../../server/provisioning/names.js';
import { reconcile } from '../../server/jobs/reconcile/index.js';
import { aggregate } from '../../server/jobs/aggregate/index.js';
import { adminNano, jobContext, memoryLog } from './helpers.js';
import { faultProxy, json, segments } from './fault-proxy.js';
import { testFleet } from '../helpers/fleet.js';
import { dbUpdatesSettled } from '../helpers/db-updates.js';

/**
 * Which databases a job looks at, on a CouchDB with `_global_changes` and on one without
 * (a single node set up with `single_node = true` answers `_db_updates` with 404), through a
 * proxy in front of the test CouchDB that stands in for the second.
 */

// _db_updates lists a write 300 ms after it, as CouchDB's _global_changes does (200-500 ms).
const store = await testCouch(t, { STORE_DB_UPDATES_DELAY_MS: '300' });
const uniq = () => randomBytes(4).toString('hex');
const HOUR = 60 * 60_000;
const fleet = testFleet();

/** A proxy whose `_db_updates` answers as `mode` says. */
async function proxied(mode: () => 'missing' | 'empty' | 'broken' | 'real') {
  return adminNano(
    await faultProxy(t, store, async (req, forward) => {
      if (segments(req.url)[0] !== '_db_updates') return forward();
      const m = mode();
      if (m === 'missing')
        return json(404, { error: 'not_found', reason: 'Database does not exist.' });
      if (m === 'broken') return json(500, { error: 'badmatch', reason: 'timeout' });
      if (m === 'empty') {
        const real = JSON.parse((await forward()).body.toString()) as { last_seq: unknown };
        return json(200, { results: [], last_seq: real.last_seq });
      }
      return forward();
    }),
  );
}

async function people(nano: ReturnType<typeof adminNano>) {
  const user = userDbName(fleet.user('u'));
  const team = teamDbName(fleet.team('t'));
  const other = `other-${uniq()}`;
  // Another deployment's (or test file's) people, under another FLEET_NAME_PREFIX.
  const foreign = [userDbName(`x${uniq()}-u`), teamDbName(`x${uniq()}-t`)];
  for (const db of [user, team, other, ...foreign]) await nano.db.create(db);
  return { user, team, other, foreign };
}

t.test('without _global_changes: a scan of _all_dbs by update_seq, said in the log', async (t) => {
  const nano = await proxied(() => 'missing');
  await ensureJobsDb(nano, fleet.dbs.jobs);
  const { user, team, other, foreign } = await people(nano);
  const job = `scan-${uniq()}`;
  const { log, lines } = memoryLog();
  let now = Date.parse('2026-12-01T00:00:00Z');
  const opts = { fleet: fleet.dbs, log, safetyPassMs: HOUR, now: () => now };

  const first = await changedDatabases(nano, job, opts);
  t.equal(first.source, 'scan');
  t.ok(first.full, 'the first run looks at every database');
  t.ok(first.names.includes(user) && first.names.includes(team), 'user and team databases');
  t.notOk(first.names.includes(other), 'nothing else');
  t.notOk(
    foreign.some((db) => first.names.includes(db)),
    'no user or team database outside FLEET_NAME_PREFIX',
  );
  await first.commit();
  const warning = lines.find((l) => l.level === 40);
  t.match(warning?.msg, /_db_updates answered 404.*_global_changes.*update_seq/);

  now += 60_000;
  const idle = await changedDatabases(nano, job, opts);
  t.notOk(idle.names.includes(user) || idle.names.includes(team), 'unchanged: not listed');
  await idle.commit();

  await nano.use(user).insert({ _id: 'x', type: 'farmer' } as never);
  now += 60_000;
  const next = await changedDatabases(nano, job, opts);
  t.ok(next.names.includes(user), 'a written database is listed');
  t.notOk(next.names.includes(team));
  t.notOk(next.full);
  t.equal(lines.filter((l) => l.level === 40).length, 1, 'said once, not on every run');
  // Not committed (the job failed): listed again.
  const retry = await changedDatabases(nano, job, opts);
  t.ok(retry.names.includes(user), 'until the job commits, the database stays listed');
});

t.test('_db_updates that lists nothing old: the first run and a safety pass see all', async (t) => {
  const nano = await proxied(() => 'empty');
  await ensureJobsDb(nano, fleet.dbs.jobs);
  const { user, team, foreign } = await people(nano);
  const job = `pass-${uniq()}`;
  let now = Date.parse('2026-12-01T00:00:00Z');
  const opts = { fleet: fleet.dbs, safetyPassMs: HOUR, now: () => now };

  const first = await changedDatabases(nano, job, opts);
  t.equal(first.source, 'db_updates');
  t.ok(first.full && first.names.includes(user) && first.names.includes(team));
  t.notOk(
    foreign.some((db) => first.names.includes(db)),
    'only the fleet, here too',
  );
  await first.commit();

  // A write _db_updates has not reported (it lags, or lost it): the next runs miss it…
  await nano.use(team).insert({ _id: 'y', type: 'farmer' } as never);
  now += 30 * 60_000;
  const soon = await changedDatabases(nano, job, opts);
  t.notOk(soon.names.includes(team));
  await soon.commit();
  // …until the safety pass is due.
  now += 31 * 60_000;
  const pass = await changedDatabases(nano, job, opts);
  t.ok(pass.full && pass.names.includes(team), 'the safety pass finds it');
  await pass.commit();
  now += 60_000;
  t.notOk((await changedDatabases(nano, job, opts)).full, 'and the next pass is an hour away');
});

t.test('_db_updates failing otherwise: the error names it and _global_changes', async (t) => {
  const nano = await proxied(() => 'broken');
  await ensureJobsDb(nano, fleet.dbs.jobs);
  await t.rejects(
    changedDatabases(nano, `broken-${uniq()}`, { fleet: fleet.dbs, safetyPassMs: HOUR }),
    /_db_updates .*_global_changes.*timeout/,
  );
});

t.test('the jobs run on a CouchDB without _global_changes', async (t) => {
  const via = await faultProxy(t, store, async (req, forward) =>
    segments(req.url)[0] === '_db_updates'
      ? json(404, { error: 'not_found', reason: 'Database does not exist.' })
      : forward(),
  );
  const ctx = jobContext(via);
  const result = await reconcile(ctx);
  t.match(result, { failed_databases: 0, found_by: 'scan' });
  const agg = await aggregate({
    nano: ctx.nano,
    aggregatesDb: `sawa-aggregates-${uniq()}`,
    fleet: fleet.dbs,
    batchSize: 100,
    concurrency: 2,
  });
  t.equal(agg.failed, 0);
});

t.test('_db_updates lists a write late: a run sees it once it is listed', async (t) => {
  const nano = adminNano(store);
  // A single CouchDB node starts without it (deploy/cluster-setup.sh creates it); 412 if there.
  if (!store.embedded)
    await nano.request({ path: '_global_changes', method: 'PUT' }).catch(() => {});
  await ensureJobsDb(nano, fleet.dbs.jobs);
  const { team } = await people(nano);
  const job = `late-${uniq()}`;
  let now = Date.parse('2026-12-01T00:00:00Z');
  const opts = { fleet: fleet.dbs, safetyPassMs: HOUR, now: () => now };
  await dbUpdatesSettled(nano, `${fleet.dbs.jobs}-settle`);
  await (await changedDatabases(nano, job, opts)).commit();

  await nano.use(team).insert({ _id: 'late', type: 'farmer' } as never);
  now += 60_000;
  const early = await changedDatabases(nano, job, opts);
  t.equal(early.source, 'db_updates');
  if (store.embedded) t.notOk(early.names.includes(team), 'not listed at once');
  // Not committed: the next run asks from the same point, so nothing listed late is lost.
  await dbUpdatesSettled(nano, `${fleet.dbs.jobs}-settle`);
  const later = await changedDatabases(nano, job, opts);
  t.ok(later.names.includes(team), 'listed once _db_updates has caught up');
  t.notOk(later.full, 'without a safety pass');
});
