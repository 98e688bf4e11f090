import type Nano from 'nano';
import { cleanCouchError } from '../../../errors.js';
import { readCheckpoint, writeCheckpoint } from '../../changed-dbs.js';
import { userFromDbName } from '../../../provisioning/names.js';

export interface RequestDoc {
  _id: string;
  type?: string;
  owner?: string;
  [field: string]: unknown;
}

interface ChangesPage {
  results: Array<{ id: string; deleted?: boolean; doc?: RequestDoc }>;
  last_seq: unknown;
}

/** Which requests a job takes in, and what it does with each. */
export interface IntakeSpec {
  /** The jobs database, where the job's checkpoints (and claims) live. */
  jobsDb: string;
  job: string;
  /** The request documents' `type`. */
  type: string;
  claim: (doc: RequestDoc) => Promise<boolean>;
  pageSize?: number;
}

/**
 * Reads the new request documents of `type` from one user database, from the job's
 * `_changes` checkpoint, and hands each to `claim` (true: a claim was created). The
 * checkpoint moves only after every claim of the page exists, so a crash repeats claims
 * (harmless: a claim is created once) and never skips one.
 */
export async function intakeRequests(
  nano: Nano.ServerScope,
  db: string,
  { jobsDb, job, type, claim, pageSize = 500 }: IntakeSpec,
): Promise<number> {
  // The gateway writes requests only to private databases; a team database holds none.
  if (userFromDbName(db) === null) return 0;
  let since = await readCheckpoint(nano, jobsDb, job, db);
  let claimed = 0;
  for (;;) {
    let page: ChangesPage;
    try {
      page = (await nano.request({
        db,
        path: '_changes',
        qs: { since, include_docs: true, limit: pageSize },
      })) as ChangesPage;
    } catch (err) {
      throw cleanCouchError(err);
    }
    for (const row of page.results) {
      if (row.deleted || row.doc?.type !== type) continue;
      if (await claim(row.doc)) claimed++;
    }
    since = String(page.last_seq);
    await writeCheckpoint(nano, jobsDb, job, db, since);
    if (page.results.length < pageSize) return claimed;
  }
}
