import { createHash } from 'node:crypto';
import type Nano from 'nano';
import { mirrorStatus } from '../outbox/status.js';
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

/**
 * Mirrors an SMS claim into the user's database as `sms_status` (outbox/status.ts), in the
 * words of the sms_status rule. The provider first named stays (none while none is set up).
 */
export async function writeSmsStatus(
  nano: Nano.ServerScope,
  claim: SmsClaim,
  provider: string | undefined,
  now: Date,
) {
  await mirrorStatus(
    nano,
    claim,
    smsStatusId(claim.request_id),
    (cur) => ({
      type: 'sms_status',
      status: WORDS[claim.state],
      provider: cur?.provider ?? provider,
    }),
    now,
  );
}

/**
 * Delivery reports name the provider's reference, not ours: `outbox-ref:sms:<provider>:<hash>`
 * points from it to the claim. Created once, when the provider's answer is recorded.
 */
export const refId = (provider: string, reference: string) =>
  `outbox-ref:sms:${provider}:${createHash('sha256').update(reference).digest('hex').slice(0, 32)}`;

/** True when this call recorded it (the first time). */
export async function recordReference(
  jobs: JobsDb,
  provider: string,
  claimId: string,
  reference: string,
) {
  try {
    await jobs.insert({ _id: refId(provider, reference), claim: claimId } as Nano.MaybeDocument);
    return true;
  } catch (err) {
    if (couchStatus(err) !== 409) throw cleanCouchError(err);
    return false;
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
