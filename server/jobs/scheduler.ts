import type { FastifyBaseLogger } from 'fastify';
import type Nano from 'nano';
import cron, { type ScheduledTask } from 'node-cron';
import { ConfigError, type Config } from '../config.js';
import { UnknownJob } from '../errors.js';
import type { RuleSet } from '../rules/index.js';
import { ensureJobsDb } from './changed-dbs.js';
import { holderName, takeLease } from './lease.js';
import type { Job, JobResult } from './types.js';

/**
 * The scheduler owns timing, overlap and leadership; a job owns only its work. Each enabled
 * job gets a node-cron task. On every tick, and for a run from the command line, the job
 * runs only if this process has no run of it going and takes its lease (see lease.ts),
 * which it renews while the job works and gives back, with a record of the run, after.
 */

export interface PlannedJob {
  job: Job;
  /** The configured cron expression, or the job's own. */
  schedule: string;
  /** Scheduled in this process (JOBS_ENABLED); any job can still be run by hand. */
  enabled: boolean;
}

export type RunOutcome =
  | { ran: true; ok: true; result: JobResult; ms: number }
  | { ran: true; ok: false; error: string; ms: number }
  | { ran: false; reason: 'running-here' | 'held' | 'done'; detail: string };

export interface Scheduler {
  readonly holder: string;
  readonly plan: readonly PlannedJob[];
  /** Starts the cron tasks of the enabled jobs. */
  start(): void;
  /** One run now, under the lease; rejects only when CouchDB cannot be asked for the lease. */
  run(name: string, opts?: { tick?: Date; signal?: AbortSignal }): Promise<RunOutcome>;
  /** Stops the tasks, asks running jobs to stop, and waits for them. */
  stop(): Promise<void>;
}

export interface SchedulerDeps {
  nano: Nano.ServerScope;
  config: Config;
  rules: RuleSet;
  log: FastifyBaseLogger;
  jobs: readonly Job[];
  holder?: string;
}

/** `JOB_<NAME>_SCHEDULE`: the setting that overrides a job's schedule. */
export const scheduleKey = (name: string) =>
  `JOB_${name.toUpperCase().replace(/[^A-Z0-9]+/g, '_')}_SCHEDULE`;

/**
 * The jobs with their schedules and whether this process schedules them, from JOBS_ENABLED
 * and JOB_<NAME>_SCHEDULE; throws ConfigError naming every bad setting, at start-up.
 */
export function planJobs(config: Config, jobs: readonly Job[]): PlannedJob[] {
  const problems: string[] = [];
  const settings = config as unknown as Record<string, unknown>;
  const names = jobs.map((j) => j.name);
  const enabled = enabledJobs(config, names, problems);
  const planned = jobs.map((job) => {
    const key = scheduleKey(job.name);
    const configured = typeof settings[key] === 'string' ? (settings[key] as string) : undefined;
    const schedule = configured ?? job.schedule;
    const { errors } = cron.validateDetailed(schedule);
    if (errors.length) {
      problems.push(
        `${configured ? key : `the ${job.name} job's own schedule`} is not a cron expression ` +
          `(got ${JSON.stringify(schedule)}): ${errors.map((e) => e.message).join('; ')} — ` +
          'e.g. "*/5 * * * *" every five minutes, "0 2 * * *" daily at 02:00, a sixth leading field for seconds',
      );
    }
    return { job, schedule, enabled: enabled.has(job.name) };
  });
  for (const [key, value] of Object.entries(settings)) {
    const m = /^JOB_(.+)_SCHEDULE$/.exec(key);
    if (m && value !== undefined && !jobs.some((j) => scheduleKey(j.name) === key)) {
      problems.push(
        `${key} is set, but there is no job ${m[1]?.toLowerCase()}; jobs: ${names.join(', ')}`,
      );
    }
  }
  if (problems.length) throw new ConfigError(problems);
  return planned;
}

function enabledJobs(config: Config, names: readonly string[], problems: string[]): Set<string> {
  // Tests start many services; none of them should find a job running beside it unasked.
  const setting = config.JOBS_ENABLED ?? (config.NODE_ENV === 'test' ? 'none' : 'all');
  const wanted = setting
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (wanted.length === 1 && wanted[0] === 'all') return new Set(names);
  if (wanted.length === 1 && wanted[0] === 'none') return new Set();
  for (const name of wanted) {
    if (!names.includes(name)) {
      problems.push(
        `JOBS_ENABLED names no job ${JSON.stringify(name)} (got ${JSON.stringify(setting)}): ` +
          `give all, none, or a comma-separated list of ${names.join(', ')}`,
      );
    }
  }
  return new Set(wanted);
}

export function createScheduler(deps: SchedulerDeps): Scheduler {
  const { nano, config, rules } = deps;
  const plan = planJobs(config, deps.jobs);
  const ttlMs = config.JOBS_LEASE_TTL_SEC * 1000;
  const holder = deps.holder ?? holderName();
  const running = new Map<string, Promise<RunOutcome>>();
  const tasks: ScheduledTask[] = [];
  const shutdown = new AbortController();

  async function runLeased(
    job: Job,
    opts: { tick?: Date; signal?: AbortSignal },
  ): Promise<RunOutcome> {
    const log = deps.log.child({ job: job.name });
    await ensureJobsDb(nano);
    const taken = await takeLease(nano, job.name, holder, { ttlMs, tick: opts.tick });
    if (!taken.taken) {
      return taken.reason === 'held'
        ? {
            ran: false,
            reason: 'held',
            detail: `${taken.holder} holds the ${job.name} lease until ${taken.until}`,
          }
        : { ran: false, reason: 'done', detail: `the tick of ${taken.tick} was already taken` };
    }
    const { lease } = taken;
    const lost = new AbortController();
    const renew = async () => {
      try {
        if (!(await lease.renew())) lost.abort(new Error('the lease was taken over'));
      } catch (err) {
        log.warn({ err: String(err) }, 'could not renew the job lease');
        // Past its expiry another instance may hold it: stop rather than run twice.
        if (Date.now() >= lease.expiresAt) lost.abort(new Error('the lease expired'));
      }
    };
    const renewer = setInterval(() => void renew(), Math.max(1000, Math.floor(ttlMs / 3)));
    renewer.unref();
    const signals = [shutdown.signal, lost.signal, ...(opts.signal ? [opts.signal] : [])];
    const started = new Date();
    let outcome: RunOutcome;
    try {
      const result = await job.run({ nano, config, rules, log, signal: AbortSignal.any(signals) });
      outcome = { ran: true, ok: true, result, ms: Date.now() - started.getTime() };
      log.info(
        { ...(lease.tick && { tick: lease.tick }), ms: outcome.ms, ...result },
        'job finished',
      );
    } catch (err) {
      outcome = { ran: true, ok: false, error: String(err), ms: Date.now() - started.getTime() };
      log.error(
        { ...(lease.tick && { tick: lease.tick }), err: String(err) },
        'job failed; the next run starts from its checkpoints',
      );
    } finally {
      clearInterval(renewer);
    }
    const { result, error } = outcome as { result?: JobResult; error?: string };
    await lease
      .release({
        started_at: started.toISOString(),
        finished_at: new Date().toISOString(),
        ok: outcome.ok,
        ...(result && { result }),
        ...(error && { error }),
      })
      // Unreleased, the lease expires on its own; the tick stays taken.
      .catch((err) => log.warn({ err: String(err) }, 'could not release the job lease'));
    return outcome;
  }

  function run(
    name: string,
    opts: { tick?: Date; signal?: AbortSignal } = {},
  ): Promise<RunOutcome> {
    const entry = plan.find((p) => p.job.name === name);
    if (!entry) throw new UnknownJob(name, plan.map((p) => p.job.name).join(', '));
    if (running.has(name)) {
      return Promise.resolve({
        ran: false,
        reason: 'running-here',
        detail: 'its previous run is still going',
      });
    }
    const p = runLeased(entry.job, opts).finally(() => running.delete(name));
    running.set(name, p);
    return p;
  }

  const cronLog = deps.log.child({ component: 'node-cron' });
  return {
    holder,
    plan,
    start() {
      if (tasks.length || shutdown.signal.aborted) return;
      for (const { job, schedule, enabled } of plan) {
        if (!enabled) continue;
        const task = cron.schedule(
          schedule,
          (ctx) => {
            run(job.name, { tick: ctx.date }).then(
              (o) => {
                if (!o.ran)
                  deps.log.debug(
                    { job: job.name, tick: ctx.date, reason: o.reason, detail: o.detail },
                    'tick skipped',
                  );
              },
              (err) => deps.log.error({ job: job.name, err: String(err) }, 'job could not start'),
            );
          },
          {
            name: `sawa-${job.name}`,
            logger: {
              info: (m) => cronLog.info(m),
              warn: (m) => cronLog.warn(m),
              error: (m) => cronLog.error(String(m)),
              debug: (m) => cronLog.debug(String(m)),
            },
          },
        );
        tasks.push(task);
        deps.log.info({ job: job.name, schedule }, 'job scheduled');
      }
    },
    async run(name, opts) {
      return run(name, opts);
    },
    async stop() {
      shutdown.abort();
      await Promise.all(tasks.map((t) => t.destroy()));
      tasks.length = 0;
      await Promise.allSettled(running.values());
    },
  };
}
