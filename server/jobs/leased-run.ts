import type { FastifyBaseLogger } from 'fastify';
import type Nano from 'nano';
import type { Config } from '../config.js';
import type { RuleSet } from '../rules/index.js';
import { ensureJobsDb } from './changed-dbs.js';
import { fleetDbs } from '../provisioning/fleet-dbs.js';
import type { Clock } from './clock.js';
import { takeLease, type Lease } from './lease.js';
import type { Job, JobResult } from './types.js';

export type RunOutcome =
  | { ran: true; ok: true; result: JobResult; ms: number }
  | { ran: true; ok: false; error: string; ms: number }
  | { ran: false; reason: 'running-here' | 'held' | 'done'; detail: string };

export interface RunDeps {
  nano: Nano.ServerScope;
  config: Config;
  rules: RuleSet;
  log: FastifyBaseLogger;
  holder: string;
  clock: Clock;
  /** Aborted when the scheduler stops. */
  shutdown: AbortSignal;
}

/**
 * One run of a job under its lease (lease.ts): taken first, renewed every third of its life
 * while the job works, given back with a record of the run after. A run whose lease is lost
 * is asked to stop (its signal aborts) rather than run beside the new holder.
 */
export async function runLeased(
  deps: RunDeps,
  job: Job,
  opts: { tick?: Date; signal?: AbortSignal },
): Promise<RunOutcome> {
  const { nano, config, rules, clock } = deps;
  const log = deps.log.child({ job: job.name });
  const ttlMs = config.JOBS_LEASE_TTL_SEC * 1000;
  const { jobs: jobsDb } = fleetDbs(config);
  await ensureJobsDb(nano, jobsDb);
  const taken = await takeLease(nano, job.name, deps.holder, {
    jobsDb,
    ttlMs,
    tick: opts.tick,
    now: clock.now,
  });
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
  const renewer = clock.every(Math.max(1000, Math.floor(ttlMs / 3)), () =>
    renew(lease, lost, log, clock),
  );
  const signals = [deps.shutdown, lost.signal, ...(opts.signal ? [opts.signal] : [])];
  const started = clock.now();
  const tick = lease.tick ? { tick: lease.tick } : {};
  let outcome: RunOutcome;
  try {
    const result = await job.run({ nano, config, rules, log, signal: AbortSignal.any(signals) });
    outcome = { ran: true, ok: true, result, ms: clock.now() - started };
    log.info({ ...tick, ms: outcome.ms, ...result }, 'job finished');
  } catch (err) {
    outcome = { ran: true, ok: false, error: String(err), ms: clock.now() - started };
    log.error(
      { ...tick, err: String(err) },
      'job failed; the next run starts from its checkpoints',
    );
  } finally {
    await renewer.stop();
  }
  await lease
    .release({
      started_at: new Date(started).toISOString(),
      finished_at: new Date(clock.now()).toISOString(),
      ok: outcome.ok,
      ...(outcome.ok ? { result: outcome.result } : { error: outcome.error }),
    })
    // Unreleased, the lease expires on its own; the tick stays taken.
    .catch((err) => log.warn({ err: String(err) }, 'could not release the job lease'));
  return outcome;
}

async function renew(lease: Lease, lost: AbortController, log: FastifyBaseLogger, clock: Clock) {
  try {
    if (!(await lease.renew())) lost.abort(new Error('the lease was taken over'));
  } catch (err) {
    log.warn({ err: String(err) }, 'could not renew the job lease');
    // Past its expiry another instance may hold it: stop rather than run twice.
    if (clock.now() >= lease.expiresAt) lost.abort(new Error('the lease expired'));
  }
}
