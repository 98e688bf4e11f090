import { runBounded } from '../../../util/run-bounded.js';
import { changedDatabases, ensureJobsDb } from '../../changed-dbs.js';
import { fleetDbs } from '../../../provisioning/fleet-dbs.js';
import type { JobContext, JobResult } from '../../types.js';
import type { Claim } from './claim.js';
import { dueClaims, ensureClaimsIndex } from './due.js';
import { workClaim, type OutboxWork, type Step } from './work.js';
import { restrictionCheck } from '../../../restriction/restriction.js';
import { holdClaim } from './hold.js';

export interface OutboxRun<C extends Claim<unknown>, O extends { externalId: string }> {
  /** The job's name: its `_changes` checkpoints are kept under it. */
  job: string;
  /** The claims' kind: `outbox:<kind>:<key>`. */
  kind: string;
  /** Claims the new requests of one user database; the number claimed. */
  intake(db: string): Promise<number>;
  work: OutboxWork<C, O>;
  now: () => Date;
  concurrency?: number;
}

/**
 * One run of an outbox worker: claims the new requests of the user databases that changed,
 * then moves every due open claim one step (outbox/work.ts; read by index, outbox/due.ts). A queued request of a person whose
 * processing is restricted is held instead (outbox/hold.ts).
 */
export async function runOutbox<C extends Claim<unknown>, O extends { externalId: string }>(
  ctx: JobContext,
  r: OutboxRun<C, O>,
): Promise<JobResult> {
  const { nano, config, log, signal } = ctx;
  const fleet = fleetDbs(config);
  await ensureJobsDb(nano, fleet.jobs);
  const changed = await changedDatabases(nano, r.job, {
    fleet,
    log,
    safetyPassMs: config.JOBS_SAFETY_PASS_MIN * 60_000,
  });
  let claimed = 0;
  let failedDbs = 0;
  await runBounded(list(changed.names), r.concurrency ?? 4, async (db) => {
    if (signal.aborted) return;
    try {
      claimed += await r.intake(db);
    } catch (err) {
      failedDbs++;
      log.error(
        { db, err: String(err) },
        `reading ${r.kind} requests failed; the next run retries`,
      );
    }
  });
  if (!failedDbs && !signal.aborted) await changed.commit();

  const steps: Partial<Record<Step | 'errors' | 'held', number>> = {};
  const restricted = restrictionCheck(nano, config.PRIVACY_DB);
  await ensureClaimsIndex(r.work.jobs);
  for (const claim of await dueClaims<C>(r.work.jobs, r.kind, r.now())) {
    if (signal.aborted) break;
    try {
      // Only a request not yet sent is held; one already sent is still settled.
      if (claim.state === 'queued' && (await restricted(claim.owner))) {
        if (await holdClaim(nano, claim, r.work)) steps.held = (steps.held ?? 0) + 1;
        continue;
      }
      const step = await workClaim(nano, claim, r.work);
      steps[step] = (steps[step] ?? 0) + 1;
    } catch (err) {
      steps.errors = (steps.errors ?? 0) + 1;
      log.error({ claim: claim._id, err: String(err) }, `a ${r.kind} step failed; it is retried`);
    }
  }
  return { databases: changed.names.length, claimed, failed_databases: failedDbs, ...steps };
}

async function* list<T>(items: readonly T[]): AsyncIterable<T> {
  yield* items;
}
