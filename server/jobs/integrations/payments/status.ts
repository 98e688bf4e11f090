import type Nano from 'nano';
import { upsert } from '../../../couch/upsert.js';
import type { Claim } from '../outbox/claim.js';

/** A payment claim: the request's wallet, number and amount are copied into it. */
export type PaymentClaim = Claim<{ msisdn: string; amount: number; network: string }>;

/** The id of a request's status document: one per request, written only by the server. */
export const statusId = (requestId: string) => `payment_status-${requestId}`;

interface StatusDoc {
  type: 'payment_status';
  owner: string;
  created_at: string;
  updated_at: string;
  request_id: string;
  provider: string;
  status: Claim['state'];
  attempts: number;
  provider_reference?: string;
  message?: string;
  flagged?: boolean;
}

/**
 * Mirrors a claim into the user's database as `payment_status`, as the server admin (the
 * sync rules let no phone write this type). Unchanged status: no write, so no sync traffic.
 */
export async function writeStatus(nano: Nano.ServerScope, claim: PaymentClaim, now: Date) {
  await upsert<StatusDoc>(nano.use(claim.db), statusId(claim.request_id), (cur) => {
    const next: StatusDoc = {
      type: 'payment_status',
      owner: claim.owner,
      created_at: cur?.created_at ?? now.toISOString(),
      updated_at: now.toISOString(),
      request_id: claim.request_id,
      provider: claim.order.network,
      status: claim.state,
      attempts: claim.attempts,
      ...(claim.reference && { provider_reference: claim.reference }),
      ...(claim.reason && { message: claim.reason.slice(0, 500) }),
      ...(claim.flagged && { flagged: true }),
    };
    const same =
      cur &&
      cur.status === next.status &&
      cur.attempts === next.attempts &&
      cur.provider_reference === next.provider_reference &&
      cur.message === next.message &&
      Boolean(cur.flagged) === Boolean(next.flagged);
    return same ? false : next;
  });
}
