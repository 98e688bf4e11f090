import type Nano from 'nano';
import type { Stored } from '../../../couch/upsert.js';
import { ensureMangoIndexes } from '../../../couch/mango-index.js';
import { cleanCouchError, couchStatus } from '../../../errors.js';
import type { Claim, ClaimState, JobsDb } from './claim.js';

/**
 * The claims a run has work for: open (queued or submitted) and due. They are read through
 * a Mango index over (kind, state, next_at) in the jobs database, so a run's cost follows
 * the open work, not every claim ever made (final claims stay for the report and callbacks).
 */
export const OPEN_CLAIMS_DDOC = 'outbox-claims';
export const OPEN_CLAIMS_INDEX = 'open-by-next-at';
const OPEN: readonly ClaimState[] = ['queued', 'submitted'];

/** Creates the index unless it exists (CouchDB answers `exists`); safe on every run. */
export function ensureClaimsIndex(jobs: JobsDb): Promise<void> {
  return ensureMangoIndexes(jobs, [
    {
      index: { fields: ['kind', 'state', 'next_at'] },
      ddoc: OPEN_CLAIMS_DDOC,
      name: OPEN_CLAIMS_INDEX,
      type: 'json',
    },
  ]);
}

/** The `_find` request for the due claims of one kind in one state (tests `_explain` it). */
export function dueQuery(
  kind: string,
  state: ClaimState,
  now: Date,
  limit: number,
): Nano.MangoQuery {
  return {
    selector: { kind, state, next_at: { $lte: now.toISOString() } },
    use_index: [OPEN_CLAIMS_DDOC, OPEN_CLAIMS_INDEX],
    sort: [{ kind: 'asc' }, { state: 'asc' }, { next_at: 'asc' }],
    limit,
  };
}

/**
 * Every due open claim of `kind`, oldest due first per state. Read whole before any is
 * worked, so the work moving claims cannot shift the pages being read.
 */
export async function dueClaims<C extends Claim<unknown>>(
  jobs: JobsDb,
  kind: string,
  now: Date,
  pageSize = 200,
): Promise<Array<Stored<C>>> {
  const due: Array<Stored<C>> = [];
  for (const state of OPEN) {
    let bookmark: string | undefined;
    for (;;) {
      let page: Nano.MangoResponse<unknown>;
      try {
        page = await jobs.find({ ...dueQuery(kind, state, now, pageSize), bookmark });
      } catch (err) {
        // No jobs database yet: no job has run, so nothing was claimed.
        if (couchStatus(err) === 404) return due;
        throw cleanCouchError(err);
      }
      due.push(...(page.docs as unknown as Array<Stored<C>>));
      if (page.docs.length < pageSize || !page.bookmark) break;
      bookmark = page.bookmark;
    }
  }
  return due;
}
