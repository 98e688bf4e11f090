import type Nano from 'nano';
import { claimId, claimKey, createClaim } from '../outbox/claim.js';
import { intakeRequests, type RequestDoc } from '../outbox/intake.js';
import { writeStatus, type PaymentClaim } from './status.js';

export const JOB = 'payments';

/** Claims the new payment requests of one user database (outbox/intake.ts). */
export async function intakeDatabase(
  nano: Nano.ServerScope,
  jobsDb: string,
  db: string,
  now: () => Date,
  pageSize = 500,
): Promise<number> {
  return intakeRequests(
    nano,
    jobsDb,
    JOB,
    db,
    'payment_request',
    (doc) => claimRequest(nano, jobsDb, db, doc, now()),
    pageSize,
  );
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
  const claim: PaymentClaim = {
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
