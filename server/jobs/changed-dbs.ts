import type Nano from 'nano';
import { upsert, getDoc } from '../couch/upsert.js';
import { JOBS_DB } from './types.js';
import { ensureDb, ensureSecurity } from '../provisioning/steps.js';
import { adminOnlySecurity } from '../provisioning/security.js';

interface Checkpoint {
  since: string;
  updated_at: string;
}

const checkpointId = (job: string, scope: string) => `checkpoint:${job}:${scope}`;

/** Creates the jobs database, server admins only, unless it exists; safe to call on every run. */
export async function ensureJobsDb(nano: Nano.ServerScope): Promise<void> {
  await ensureDb(nano, JOBS_DB);
  await ensureSecurity(nano, JOBS_DB, adminOnlySecurity());
}

export async function readCheckpoint(
  nano: Nano.ServerScope,
  job: string,
  scope: string,
): Promise<string> {
  const doc = await getDoc<Checkpoint>(nano.use(JOBS_DB), checkpointId(job, scope));
  return doc?.since ?? '0';
}

/** Records progress only after the work up to `since` is done, so a crash repeats work rather than skipping it. */
export async function writeCheckpoint(
  nano: Nano.ServerScope,
  job: string,
  scope: string,
  since: string,
): Promise<void> {
  await upsert<Checkpoint>(nano.use(JOBS_DB), checkpointId(job, scope), (cur) =>
    cur?.since === since ? false : { since, updated_at: new Date().toISOString() },
  );
}

export interface ChangedDbs {
  /** Databases with changes since the job's last `_db_updates` checkpoint, matching the filter. */
  names: string[];
  /** Commit this with `writeCheckpoint(nano, job, '_db_updates', next)` once all of `names` are processed. */
  next: string;
}

/**
 * The databases a job must look at: those `_db_updates` reports since the
 * job's checkpoint (the first run sees every database once), so a run costs in
 * proportion to what changed, not to the number of databases.
 */
export async function changedDatabases(
  nano: Nano.ServerScope,
  job: string,
  include: (db: string) => boolean,
): Promise<ChangedDbs> {
  const since = await readCheckpoint(nano, job, '_db_updates');
  const res = (await nano.request({ path: '_db_updates', qs: { since, feed: 'normal' } })) as {
    results: Array<{ db_name: string; type: string }>;
    last_seq: string;
  };
  const names = new Set<string>();
  for (const r of res.results) {
    if (r.type === 'deleted') names.delete(r.db_name);
    else if (include(r.db_name)) names.add(r.db_name);
  }
  return { names: [...names].sort(), next: String(res.last_seq) };
}

// The name rule lives in provisioning/names.ts; re-exported for the jobs that filter by it.
export { isUserOrTeamDb } from '../provisioning/names.js';
