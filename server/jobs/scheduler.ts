import type { FastifyBaseLogger } from 'fastify';
import type Nano from 'nano';
import type { Config } from '../config.js';
import { UnknownJob } from '../errors.js';
import type { RuleSet } from '../rules/index.js';
import { systemClock, type Clock, type Stoppable } from './clock.js';
import { jobHealth, type JobHealth } from './job-health.js';
import { holderName } from './lease.js';
import { runLeased, type RunOutcome } from './leased-run.js';
import { planJobs, type PlannedJob } from './plan.js';
import type { Job } from './types.js';

/**
 * The scheduler owns timing, overlap and leadership; a job owns only its work. Each enabled
 * job gets a cron task on the clock. On every tick, and for a run from the command line, the
 * job runs only if this process has no run of it going and takes its lease (leased-run.ts).
 */

export { planJobs, scheduleKey, type PlannedJob } from './plan.js';
export type { RunOutcome } from './leased-run.js';

export interface Scheduler {
  readonly holder: string;
  readonly plan: readonly PlannedJob[];
  /** How this process's runs of each job went (job-health.ts). */
  readonly health: JobHealth;
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
  /** Default: the system clock with node-cron. */
  clock?: Clock;
}

export function createScheduler(deps: SchedulerDeps): Scheduler {
  const plan = planJobs(deps.config, deps.jobs);
  const clock = deps.clock ?? systemClock(deps.log);
  const holder = deps.holder ?? holderName();
  const health = jobHealth(plan.map((p) => p.job.name));
  const running = new Map<string, Promise<RunOutcome>>();
  const tasks: Stoppable[] = [];
  const shutdown = new AbortController();
  const runDeps = { ...deps, holder, clock, shutdown: shutdown.signal };

  async function run(name: string, opts: { tick?: Date; signal?: AbortSignal } = {}) {
    const entry = plan.find((p) => p.job.name === name);
    if (!entry) throw new UnknownJob(name, plan.map((p) => p.job.name).join(', '));
    if (running.has(name)) {
      return {
        ran: false,
        reason: 'running-here',
        detail: 'its previous run is still going',
      } as const;
    }
    const p = runLeased(runDeps, entry.job, opts)
      .then((outcome) => {
        health.record(name, outcome, clock.now());
        return outcome;
      })
      .finally(() => running.delete(name));
    running.set(name, p);
    return p;
  }

  /** A tick: a run, or a note of why not; a tick never throws into the clock. */
  async function onTick(job: Job, at: Date): Promise<void> {
    try {
      const o = await run(job.name, { tick: at });
      if (!o.ran)
        deps.log.debug(
          { job: job.name, tick: at, reason: o.reason, detail: o.detail },
          'tick skipped',
        );
    } catch (err) {
      health.record(job.name, { ran: true, ok: false, error: String(err), ms: 0 }, clock.now());
      deps.log.error({ job: job.name, err: String(err) }, 'job could not start');
    }
  }

  return {
    holder,
    plan,
    health,
    start() {
      if (tasks.length || shutdown.signal.aborted) return;
      for (const { job, schedule, enabled } of plan) {
        if (!enabled) continue;
        tasks.push(clock.cron(schedule, `sawa-${job.name}`, (at) => onTick(job, at)));
        deps.log.info({ job: job.name, schedule }, 'job scheduled');
      }
    },
    run,
    async stop() {
      shutdown.abort();
      await Promise.all(tasks.map((t) => t.stop()));
      tasks.length = 0;
      await Promise.allSettled(running.values());
    },
  };
}
