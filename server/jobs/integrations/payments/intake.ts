import type Nano from 'nano';
import { cleanCouchError } from '../../../errors.js';
import { readCheckpoint, writeCheckpoint } from '../../changed-dbs.js';
import { userFromDbName } from '../../../provisioning/names.js';
import { claimId, claimKey, createClaim, type Claim } from './claim.js';
import { writeStatus } from './status.js';

export const JOB = 'payments';

interface RequestDoc {
  _id: string;
  type?: string;
  owner?: string;
  msisdn?: string;
  amount?: number;
  provider?: string;
}

interface ChangesPage {
  results: Array<{ id: string; deleted?: boolean; doc?: RequestDoc }>;
  last_seq: unknown;
}

/**
 * Claims the new payment requests of one user database, from its `_changes` checkpoint.
 * The checkpoint moves only after every claim of the page exists, so a crash repeats claims
 * (harmless: a claim is created once) and never skips one.
 */
export async function intakeDatabase(
  nano: Nano.ServerScope,
  jobsDb: string,
  db: string,
  now: () => Date,
  pageSize = 500,
): Promise<number> {
  // The gateway writes requests only to private databases; a team database holds none.
  if (userFromDbName(db) === null) return 0;
  let since = await readCheckpoint(nano, jobsDb, JOB, db);
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
      const doc = row.doc;
      if (row.deleted || doc?.type !== 'payment_request') continue;
      if (await claimRequest(nano, jobsDb, db, doc, now())) claimed++;
    }
    since = String(page.last_seq);
    await writeCheckpoint(nano, jobsDb, JOB, db, since);
    if (page.results.length < pageSize) return claimed;
  }
}

async function claimRequest(
  nano: Nano.ServerScope,
  jobsDb: string,
  db: string,
  doc: RequestDoc,
  now: Date,
) {
  const key = claimKey(db, doc._id);
  const at = now.toISOString();
  const claim: Claim = {
    kind: 'payment',
    db,
    request_id: doc._id,
    owner: String(doc.owner),
    external_id: `sawa-${key}`,
    state: 'queued',
    attempts: 0,
    queries: 0,
    next_at: at,
    created_at: at,
    updated_at: at,
    order: {
      msisdn: String(doc.msisdn),
      amount: Number(doc.amount),
      network: String(doc.provider),
    },
  };
  const created = await createClaim(nano.use(jobsDb), claimId('payment', key), claim);
  if (created) await writeStatus(nano, claim, now);
  return created;
}
