import type Nano from 'nano';
import { getDoc, upsert } from '../couch/upsert.js';

/**
 * The record of the last rollout, one document in Sawa's jobs database. It lets a restart skip
 * the scan when this build's design documents already went out everywhere, and lets an
 * interrupted rollout resume after the last database it had finished. The databases stay the
 * truth: the record only ever saves work, and `--full` ignores it.
 */

export const ROLLOUT_ID = 'design-docs:rollout';

/** How many failures the record keeps for people to read; the count is always exact. */
export const KEPT_FAILURES = 20;

export type RolloutState = 'running' | 'complete' | 'incomplete';

export interface RolloutRecord {
  type: 'design-docs-rollout';
  /** rolloutTarget() of the build being rolled out. */
  target: string;
  /** running: started or interrupted; complete: every database done; incomplete: some failed. */
  state: RolloutState;
  /** Every database up to and including this one (in name order) is done. */
  done_through: string | null;
  started_at: string;
  updated_at: string;
  scanned: number;
  updated: number;
  failed: number;
  failures: Array<{ db: string; error: string }>;
}

export { ensureJobsDb } from '../jobs/changed-dbs.js';

export async function readRollout(
  nano: Nano.ServerScope,
  jobsDb: string,
): Promise<RolloutRecord | null> {
  return getDoc<RolloutRecord>(nano.use(jobsDb), ROLLOUT_ID);
}

export async function saveRollout(
  nano: Nano.ServerScope,
  jobsDb: string,
  record: RolloutRecord,
): Promise<void> {
  await upsert<RolloutRecord>(nano.use(jobsDb), ROLLOUT_ID, () => record);
}
