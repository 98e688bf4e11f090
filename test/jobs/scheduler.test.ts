import t from 'tap';
import type { Test } from 'tap';
import { testCouch } from '../helpers/store.js';
import { ConfigError, loadConfig } from '../../server/config.js';
import { readLease, takeLease } from '../../server/jobs/lease.js';
import { createScheduler, planJobs, type Scheduler } from '../../server/jobs/scheduler.js';
import { ensureJobsDb } from '../../server/jobs/changed-dbs.js';
import type { Job } from '../../server/jobs/types.js';
import { adminNano, memoryLog, rules } from './helpers.js';

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
  t.same(plan({ NODE_ENV: 'production' }), [
    ['reconcile', '* * * * *', true],
    ['aggregate', '*/5 * * * *', true],
  ]);
  t.same(
    plan({ NODE_ENV: 'test' }),
    [
      ['reconcile', '* * * * *', false],
      ['aggregate', '*/5 * * * *', false],
    ],
    'tests schedule nothing unless asked',
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

/** Two schedulers on one store, as two Sawa instances, with a job that records each run. */
async function twoInstances(t: Test, job: Job) {
  const config = loadConfig({ NODE_ENV: 'test', JOBS_ENABLED: job.name, JOBS_LEASE_TTL_SEC: '5' });
  const made: Scheduler[] = [];
  const logs = [memoryLog(), memoryLog()];
  for (const [i, { log }] of logs.entries()) {
    made.push(createScheduler({ nano, config, rules, log, jobs: [job], holder: `instance-${i}` }));
  }
  t.teardown(() => Promise.all(made.map((s) => s.stop())));
  return { schedulers: made, logs };
}

async function until(what: () => Promise<boolean>, ms = 40_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await what())) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 100));
  }
}

t.test('two instances, a job every second: each tick runs once, runs never overlap', async (t) => {
  let active = 0;
  let most = 0;
  const ran: string[] = [];
  const job: Job = {
    name: 'every-second',
    schedule: '* * * * * *',
    async run() {
      active++;
      most = Math.max(most, active);
      // Longer than a tick at times, so the next ticks find it running.
      await new Promise((r) => setTimeout(r, ran.length % 3 === 0 ? 1300 : 50));
      ran.push(new Date().toISOString());
      active--;
      return { n: ran.length };
    },
  };
  const { schedulers, logs } = await twoInstances(t, job);
  await ensureJobsDb(nano);
  for (const s of schedulers) s.start();
  await until(async () => ((await readLease(nano, job.name))?.runs.length ?? 0) >= 6);
  await Promise.all(schedulers.map((s) => s.stop()));

  const runs = (await readLease(nano, job.name))?.runs ?? [];
  const ticks = runs.map((r) => r.tick);
  t.equal(new Set(ticks).size, ticks.length, 'no tick ran twice');
  t.equal(runs.length, ran.length, 'every run the job saw is recorded');
  t.equal(most, 1, 'never two runs at once, across instances');
  const skipped = logs.flatMap((l) => l.lines).filter((l) => l.msg === 'tick skipped');
  t.ok(skipped.length > 0, 'the other instance saw the ticks and stood aside');
  t.ok(skipped.every((l) => ['held', 'done', 'running-here'].includes(l.reason as string)));
});

t.test('a dead holder blocks the job only until its lease expires', async (t) => {
  const job: Job = {
    name: 'after-death',
    schedule: '* * * * * *',
    run: async () => ({ ok: true }),
  };
  await ensureJobsDb(nano);
  const dead = await takeLease(nano, job.name, 'dead-instance', { ttlMs: 2000 });
  t.ok(dead.taken);
  const { schedulers } = await twoInstances(t, job);
  schedulers[0]?.start();
  await until(async () => ((await readLease(nano, job.name))?.runs.length ?? 0) >= 1);
  const lease = await readLease(nano, job.name);
  t.equal(lease?.runs[0]?.holder, 'instance-0', 'the live instance took over');
});

t.test('run by hand: the same lease, and not while it is held', async (t) => {
  const job: Job = { name: 'by-hand', schedule: '0 0 1 1 *', run: async () => ({ done: 1 }) };
  const { schedulers } = await twoInstances(t, job);
  const [a, b] = schedulers as [Scheduler, Scheduler];
  t.match(await a.run(job.name), { ran: true, ok: true, result: { done: 1 } });
  await ensureJobsDb(nano);
  await takeLease(nano, job.name, b.holder, { ttlMs: 60_000 });
  t.match(await a.run(job.name), {
    ran: false,
    reason: 'held',
    detail: /instance-1 holds the by-hand lease until/,
  });
  await t.rejects(a.run('nope'), /no job nope; jobs: by-hand/);
});

t.test('a failing job is recorded and does not stop the schedule', async (t) => {
  let calls = 0;
  const job: Job = {
    name: 'flaky',
    schedule: '* * * * * *',
    async run() {
      calls++;
      if (calls === 1) throw new Error('CouchDB went away');
      return { calls };
    },
  };
  const { schedulers, logs } = await twoInstances(t, job);
  schedulers[0]?.start();
  await until(async () => ((await readLease(nano, job.name))?.runs.length ?? 0) >= 2);
  const runs = (await readLease(nano, job.name))?.runs ?? [];
  t.match(runs.at(-1), { ok: false, error: /CouchDB went away/ });
  t.match(runs.at(-2), { ok: true });
  t.ok(logs[0]?.lines.some((l) => l.msg?.toString().startsWith('job failed') && l.level === 50));
});
