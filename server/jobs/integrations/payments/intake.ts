import type Nano from 'nano';
import { createClaim, newClaim } from '../outbox/claim.js';
import { intakeRequests, type RequestDoc } from '../outbox/intake.js';
import { writeStatus } from './status.js';

export const JOB = 'payments';

/** Claims the new payment requests of one user database (outbox/intake.ts). */
export async function intakeDatabase(
  nano: Nano.ServerScope,
  jobsDb: string,
  db: string,
  now: () => Date,
  pageSize = 500,
): Promise<number> {
  return intakeRequests(nano, db, {
    jobsDb,
    job: JOB,
    type: 'payment_request',
    claim: (doc) => claimRequest(nano, jobsDb, db, doc, now()),
    pageSize,
  });
}

async function claimRequest(
  nano: Nano.ServerScope,
  jobsDb: string,
  db: string,
  doc: RequestDoc,
  now: Date,
) {
  const { id, claim } = newClaim(
    'payment',
    db,
    doc,
    { msisdn: String(doc.msisdn), amount: Number(doc.amount), network: String(doc.provider) },
    now,
  );
  const created = await createClaim(nano.use(jobsDb), id, claim);
  if (created) await writeStatus(nano, claim, now);
  return created;
}
