import type Nano from 'nano';
import type { Claim } from '../outbox/claim.js';
import { mirrorStatus } from '../outbox/status.js';

/** A payment claim: the request's wallet, number and amount are copied into it. */
export type PaymentClaim = Claim<{ msisdn: string; amount: number; network: string }>;

/** The id of a request's status document: one per request, written only by the server. */
export const statusId = (requestId: string) => `payment_status-${requestId}`;

/**
 * Mirrors a claim into the user's database as `payment_status` (outbox/status.ts), naming
 * the wallet the payment goes through.
 */
export async function writeStatus(nano: Nano.ServerScope, claim: PaymentClaim, now: Date) {
  await mirrorStatus(
    nano,
    claim,
    statusId(claim.request_id),
    () => ({ type: 'payment_status', status: claim.state, provider: claim.order.network }),
    now,
  );
}
