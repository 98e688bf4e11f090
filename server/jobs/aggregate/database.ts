import type Nano from 'nano';
import { readCheckpoint, writeCheckpoint } from '../changed-dbs.js';
import { applyBatch, type BatchDeps } from './batch.js';
import { readChanges } from './couch-io.js';
import { sweepPurged } from './purged.js';
import { factsOf, type Facts } from './rollups.js';
import { userFromDbName } from '../../provisioning/names.js';

export const JOB_NAME = 'aggregate';

export interface DatabaseDeps extends BatchDeps {
  nano: Nano.ServerScope;
  /** The jobs database, where each source database's checkpoint lives. */
  jobsDb: string;
  batchSize: number;
  signal?: AbortSignal;
  /** People whose processing is restricted: their documents count nowhere (restricted.ts). */
  restricted?: ReadonlySet<string>;
}

export interface DatabaseStats {
  changes: number;
  contributions: number;
  buckets: number;
}

/**
 * Brings one source database's contributions and buckets up to date, a page of `_changes` at
 * a time from its checkpoint; each page's checkpoint is written only once its buckets are.
 */
export async function aggregateDatabase(deps: DatabaseDeps, db: string): Promise<DatabaseStats> {
  const swept = await sweepPurged(deps, db);
  const stats: DatabaseStats = {
    changes: swept.purged,
    contributions: swept.contributions,
    buckets: swept.buckets,
  };
  let since = await readCheckpoint(deps.nano, deps.jobsDb, JOB_NAME, db);
  const restricted = deps.restricted ?? new Set<string>();
  const owner = userFromDbName(db);
  for (;;) {
    const page = await readChanges(deps.nano, db, since, deps.batchSize);
    const changed = new Map<string, Facts | null>();
    for (const row of page.results) {
      // Design documents count nowhere; neither does a deleted or foreign-typed document.
      if (row.id.startsWith('_design/')) continue;
      const gone = row.deleted || !row.doc || isRestrictedDoc(restricted, owner, row.doc);
      changed.set(row.id, gone || !row.doc ? null : factsOf(row.doc));
    }
    const next = page.last_seq;
    const done = await applyBatch(deps, db, changed, async () => {
      if (next !== since) await writeCheckpoint(deps.nano, deps.jobsDb, JOB_NAME, db, next);
    });
    stats.changes += page.results.length;
    stats.contributions += done.contributions;
    stats.buckets += done.buckets;
    since = next;
    if (page.results.length < deps.batchSize || deps.signal?.aborted) return stats;
  }
}

/**
 * Takes a deleted database's documents out of every bucket (as if each were deleted) and
 * resets its checkpoint, so a database created later under the same name starts afresh.
 */
export async function dropDatabase(
  deps: DatabaseDeps,
  db: string,
  docIds: string[],
): Promise<DatabaseStats> {
  const changed = new Map<string, Facts | null>(docIds.map((id) => [id, null]));
  const done = await applyBatch(deps, db, changed, () =>
    writeCheckpoint(deps.nano, deps.jobsDb, JOB_NAME, db, '0'),
  );
  return { changes: docIds.length, ...done };
}

/** True when a document of a database (of `owner`, for a user's own) belongs to a restricted person. */
function isRestrictedDoc(
  names: ReadonlySet<string>,
  owner: string | null,
  doc: Record<string, unknown>,
): boolean {
  if (names.size === 0) return false;
  if (owner !== null && names.has(owner)) return true;
  return typeof doc.owner === 'string' && names.has(doc.owner);
}
