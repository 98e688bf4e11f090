import type { Job, JobContext } from '../types.js';
import { JOB_NAME } from './database.js';
import { fleetDbs } from '../../provisioning/fleet-dbs.js';
import { aggregate, type AggregateOptions } from './run.js';

export { aggregate, type AggregateOptions, type AggregateResult } from './run.js';
export { JOB_NAME } from './database.js';

/** Options a caller may add to what the job context gives; tests inject a crash here. */
export type AggregateJobOptions = Pick<AggregateOptions, 'afterContributions'>;

/**
 * The aggregator as a job: incremental rollups from user and team databases into the
 * reporting database (docs/aggregates.md). The scheduler decides when; this does the work.
 */
export function createAggregateJob(opts: AggregateJobOptions = {}): Job {
  return {
    name: JOB_NAME,
    // Each minute, half a minute after the reconciler, so the two do not read CouchDB at once.
    schedule: '30 * * * * *',
    run: (ctx: JobContext) =>
      aggregate({
        nano: ctx.nano,
        aggregatesDb: ctx.config.AGGREGATES_DB,
        fleet: fleetDbs(ctx.config),
        batchSize: ctx.config.AGGREGATE_BATCH_SIZE,
        concurrency: ctx.config.AGGREGATE_CONCURRENCY,
        safetyPassMs: ctx.config.JOBS_SAFETY_PASS_MIN * 60_000,
        privacyDb: ctx.config.PRIVACY_DB,
        log: ctx.log,
        signal: ctx.signal,
        ...opts,
      }),
  };
}

export const aggregateJob: Job = createAggregateJob();
