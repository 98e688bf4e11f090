import { createHash } from 'node:crypto';
import type Nano from 'nano';
import { upsert } from '../../../couch/upsert.js';
import { couchStatus, cleanCouchError } from '../../../errors.js';
import type { Claim, JobsDb } from '../outbox/claim.js';

/** An SMS claim: only the number is copied (to check delivery reports); the text stays in the request. */
export type SmsClaim = Claim<{ to: string }>;

/** What the phone sees: the claim's state in the words of the sms_status rule. */
const WORDS = {
  queued: 'queued',
  submitted: 'sent',
  succeeded: 'delivered',
  failed: 'failed',
} as const;

export const smsStatusId = (requestId: string) => `sms_status-${requestId}`;

interface SmsStatusDoc {
  type: 'sms_status';
  owner: string;
  created_at: string;
  updated_at: string;
  request_id: string;
  provider?: string;
  status: (typeof WORDS)[keyof typeof WORDS];
  attempts: number;
  provider_reference?: string;
  message?: string;
  flagged?: boolean;
}

/**
 * Mirrors an SMS claim into the user's database as `sms_status`, as the server admin (the
 * sync rules let no phone write it). Unchanged: no write, so no sync traffic.
 */
export async function writeSmsStatus(
  nano: Nano.ServerScope,
  claim: SmsClaim,
  provider: string | undefined,
  now: Date,
) {
  await upsert<SmsStatusDoc>(nano.use(claim.db), smsStatusId(claim.request_id), (cur) => {
    const next: SmsStatusDoc = {
      type: 'sms_status',
      owner: claim.owner,
      created_at: cur?.created_at ?? now.toISOString(),
      updated_at: now.toISOString(),
      request_id: claim.request_id,
      ...((cur?.provider ?? provider) && { provider: cur?.provider ?? provider }),
      status: WORDS[claim.state],
      attempts: claim.attempts,
      ...(claim.reference && { provider_reference: claim.reference }),
      ...(claim.reason && { message: claim.reason.slice(0, 500) }),
      ...(claim.flagged && { flagged: true }),
    };
    const same =
      cur &&
      cur.status === next.status &&
      cur.attempts === next.attempts &&
      cur.provider === next.provider &&
      cur.provider_reference === next.provider_reference &&
      cur.message === next.message &&
      Boolean(cur.flagged) === Boolean(next.flagged);
    return same ? false : next;
  });
}

/**
 * Delivery reports name the provider's reference, not ours: `outbox-ref:sms:<provider>:<hash>`
 * points from it to the claim. Created once, when the provider's answer is recorded.
 */
export const refId = (provider: string, reference: string) =>
  `outbox-ref:sms:${provider}:${createHash('sha256').update(reference).digest('hex').slice(0, 32)}`;

export async function recordReference(
  jobs: JobsDb,
  provider: string,
  claimId: string,
  reference: string,
) {
  try {
    await jobs.insert({ _id: refId(provider, reference), claim: claimId } as Nano.MaybeDocument);
  } catch (err) {
    if (couchStatus(err) !== 409) throw cleanCouchError(err);
  }
}

export async function claimOfReference(jobs: JobsDb, provider: string, reference: string) {
  try {
    const doc = (await jobs.get(refId(provider, reference))) as unknown as { claim: string };
    return doc.claim;
  } catch (err) {
    if (couchStatus(err) === 404) return null;
    throw cleanCouchError(err);
  }
}
