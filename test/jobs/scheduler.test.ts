import t from 'tap';
import type { Test } from 'tap';
import { testCouch } from '../helpers/store.js';
import { ConfigError, loadConfig } from '../../server/config.js';
import { readLease, takeLease } from '../../server/jobs/lease.js';
import { createScheduler, planJobs, type Scheduler } from '../../server/jobs/scheduler.js';
import { FAILING_AFTER } from '../../server/jobs/job-health.js';
import { manualClock, type ManualClock } from './manual-clock.js';
import { ensureJobsDb } from '../../server/jobs/changed-dbs.js';
import type { Job } from '../../server/jobs/types.js';
import { adminNano, memoryLog, rules } from './helpers.js';
import { testFleet } from '../helpers/fleet.js';

const JOBS = testFleet().dbs.jobs;

const server = await testCouch(t);
const nano = adminNano(server);

const noop = (name: string, schedule = '* * * * *'): Job => ({
  name,
  schedule,
  run: async () => ({}),
});

t.test('configuration: enabled jobs and schedules, every mistake named at start-up', async (t) => {
  const jobs = [noop('reconcile'), noop('aggregate', '*/5 * * * *')];
  const plan = (env: Record<string, string>) =>
    planJobs(loadConfig(env), jobs).map((p) => [p.job.name, p.schedule, p.enabled]);
  t.same(plan({}), [
    ['reconcile', '* * * * *', true],
    ['aggregate', '*/5 * * * *', true],
  ]);
  t.same(
    plan({ NODE_ENV: 'test' }),
    plan({ NODE_ENV: 'production' }),
    'NODE_ENV changes nothing: tests say JOBS_ENABLED=none',
  );
  t.same(plan({ JOBS_ENABLED: 'aggregate', JOB_AGGREGATE_SCHEDULE: '0 2 * * *' }), [
    ['reconcile', '* * * * *', false],
    ['aggregate', '0 2 * * *', true],
  ]);
  t.same(
    plan({ JOBS_ENABLED: 'none' }).map((p) => p[2]),
    [false, false],
  );

  const problems = (env: Record<string, string>, list = jobs) => {
    try {
      planJobs(loadConfig(env), list);
      return [];
    } catch (err) {
      t.type(err, ConfigError);
      return (err as ConfigError).problems;
    }
  };
  t.match(problems({ JOBS_ENABLED: 'reconcile,agregate', JOB_RECONCILE_SCHEDULE: '61 * * * *' }), [
    /JOBS_ENABLED names no job "agregate" .*all, none, or a comma-separated list of reconcile, aggregate/,
    /JOB_RECONCILE_SCHEDULE is not a cron expression \(got "61 \* \* \* \*"\): 61 is a invalid expression for minute/,
  ]);
  t.match(problems({ JOB_AGGREGATE_SCHEDULE: '* * * * *' }, [noop('reconcile')]), [
    /JOB_AGGREGATE_SCHEDULE is set, but there is no job aggregate; jobs: reconcile/,
  ]);
  t.match(problems({}, [noop('reconcile', 'every minute')]), [
    /the reconcile job's own schedule is not a cron expression/,
  ]);
});

/** Two schedulers on one store, as two Sawa instances, on one clock moved by hand. */
function twoInstances(t: Test, job: Job, clock: ManualClock = manualClock()) {
  const config = testFleet().config({ JOBS_ENABLED: job.name, JOBS_LEASE_TTL_SEC: '5' });
  const logs = [memoryLog(), memoryLog()];
  const schedulers = logs.map(({ log }, i) =>
    createScheduler({ nano, config, rules, log, jobs: [job], holder: `instance-${i}`, clock }),
  );
  t.teardown(() => Promise.all(schedulers.map((s) => s.stop())));
  return { schedulers, logs, clock };
}

const SECOND = 1000;
const at = (s: number) => new Date(Date.parse('2026-12-01T08:00:00Z') + s * SECOND);
const uniqueName = (base: string) => `${base}-${Math.random().toString(36).slice(2, 8)}`;

t.test('two instances, a tick every second: each tick runs once, runs never overlap', async (t) => {
  let active = 0;
  let most = 0;
  const ran: string[] = [];
  let release: () => void = () => {};
  let hold = false;
  const job: Job = {
    name: uniqueName('every-second'),
    schedule: '* * * * * *',
    async run() {
      active++;
      most = Math.max(most, active);
      if (hold) await new Promise<void>((r) => (release = r));
      ran.push('run');
      active--;
      return { n: ran.length };
    },
  };
  const { schedulers, logs, clock } = twoInstances(t, job);
  await ensureJobsDb(nano, JOBS);
  for (const s of schedulers) s.start();
  await clock.tick(at(1));
  await clock.tick(at(2));
  // A run longer than a tick: the next tick finds it running here, and held there.
  hold = true;
  const long = clock.tick(at(3));
  while (active === 0) await new Promise((r) => setTimeout(r, 10));
  hold = false;
  await clock.tick(at(4));
  release();
  await long;
  await clock.tick(at(5));

  const runs = (await readLease(nano, JOBS, job.name))?.runs ?? [];
  const ticks = runs.map((r) => r.tick);
  t.equal(new Set(ticks).size, ticks.length, 'no tick ran twice');
  t.equal(runs.length, ran.length, 'every run the job saw is recorded');
  t.equal(runs.length, 4, 'ticks 1, 2, 3 and 5 ran; 4 came while 3 was running');
  t.equal(most, 1, 'never two runs at once, across instances');
  const skipped = logs.flatMap((l) => l.lines).filter((l) => l.msg === 'tick skipped');
  t.ok(skipped.length >= 5, 'the other instance saw the ticks and stood aside');
  t.ok(skipped.every((l) => ['held', 'done', 'running-here'].includes(l.reason as string)));
  t.ok(
    skipped.some((l) => l.reason === 'running-here'),
    'the holder did not start tick 4',
  );
});

t.test('a dead holder blocks the job only until its lease expires', async (t) => {
  const job: Job = {
    name: uniqueName('after-death'),
    schedule: '* * * * * *',
    run: async () => ({ ok: true }),
  };
  const { schedulers, logs, clock } = twoInstances(t, job);
  await ensureJobsDb(nano, JOBS);
  const dead = await takeLease(nano, job.name, 'dead-instance', {
    jobsDb: JOBS,
    ttlMs: 5 * SECOND,
    now: clock.now,
  });
  t.ok(dead.taken);
  schedulers[0]?.start();
  await clock.tick(at(1));
  t.equal((await readLease(nano, JOBS, job.name))?.runs.length, 0, 'held by the dead instance');
  t.ok(logs[0]?.lines.some((l) => l.reason === 'held'));
  await clock.tick(at(6));
  const lease = await readLease(nano, JOBS, job.name);
  t.equal(lease?.runs[0]?.holder, 'instance-0', 'the live instance took over after expiry');
});

t.test('run by hand: the same lease, and not while it is held', async (t) => {
  const job: Job = {
    name: uniqueName('by-hand'),
    schedule: '0 0 1 1 *',
    run: async () => ({ done: 1 }),
  };
  const { schedulers } = twoInstances(t, job);
  const [a, b] = schedulers as [Scheduler, Scheduler];
  t.match(await a.run(job.name), { ran: true, ok: true, result: { done: 1 } });
  await ensureJobsDb(nano, JOBS);
  await takeLease(nano, job.name, b.holder, { jobsDb: JOBS, ttlMs: 60_000 });
  t.match(await a.run(job.name), {
    ran: false,
    reason: 'held',
    detail: /instance-1 holds the by-hand-\w+ lease until/,
  });
  await t.rejects(a.run('nope'), /no job nope; jobs: by-hand/);
});

t.test(
  'a failing job is recorded, reported while it keeps failing, and stays scheduled',
  async (t) => {
    let calls = 0;
    let failing = true;
    const job: Job = {
      name: uniqueName('flaky'),
      schedule: '* * * * * *',
      async run() {
        calls++;
        if (failing) throw new Error('Database does not exist: _db_updates needs _global_changes');
        return { calls };
      },
    };
    const { schedulers, logs, clock } = twoInstances(t, job);
    const s = schedulers[0]!;
    s.start();
    await clock.tick(at(1));
    t.same(s.health.failing(), [], 'one failure is not yet "keeps failing"');
    for (let i = 2; i <= FAILING_AFTER; i++) await clock.tick(at(i));
    t.match(s.health.failing(), [
      { job: job.name, failures: FAILING_AFTER, reason: /_db_updates needs _global_changes/ },
    ]);
    failing = false;
    await clock.tick(at(10));
    t.same(s.health.failing(), [], 'a good run clears it');
    const runs = (await readLease(nano, JOBS, job.name))?.runs ?? [];
    t.match(runs.at(-1), { ok: false, error: /_global_changes/ });
    t.match(runs.at(0), { ok: true });
    t.ok(logs[0]?.lines.some((l) => l.msg?.toString().startsWith('job failed') && l.level === 50));
  },
);

t.test('a run whose lease cannot be renewed before it expires is asked to stop', async (t) => {
  let signal: AbortSignal | undefined;
  let release: () => void = () => {};
  const job: Job = {
    name: uniqueName('renewal'),
    schedule: '* * * * * *',
    async run(ctx) {
      signal = ctx.signal;
      await new Promise<void>((r) => (release = r));
      return {};
    },
  };
  const { schedulers, clock } = twoInstances(t, job);
  const running = schedulers[0]!.run(job.name);
  while (!signal) await new Promise((r) => setTimeout(r, 10));
  // Someone else took the lease over (as after a long pause past its expiry).
  clock.set(clock.now() + 6 * SECOND);
  await takeLease(nano, job.name, 'usurper', { jobsDb: JOBS, ttlMs: 60_000, now: clock.now });
  await clock.advance(2 * SECOND);
  t.ok(signal.aborted, 'the job is told to stop');
  release();
  t.match(await running, { ran: true, ok: true });
});
