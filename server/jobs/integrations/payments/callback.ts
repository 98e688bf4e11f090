import type Nano from 'nano';
import type { FastifyBaseLogger } from 'fastify';
import { claimId, readClaim, updateClaim } from '../outbox/claim.js';
import { settle } from '../outbox/outcome.js';
import type { PaymentProvider } from '../../../integrations/payment-types.js';
import { writeStatus, type PaymentClaim } from './status.js';

/** AzamPay's checkout callback body (fields we use; the rest is ignored). */
export interface AzamPayCallback {
  utilityref: string;
  transactionstatus: string;
  reference?: string;
  message?: string;
  msisdn?: string;
  amount?: string;
}

export type CallbackResult = 'recorded' | 'duplicate' | 'unknown-reference' | 'unconfirmed';

/** What a provider's callback says, read by its adapter. */
export interface ClaimedOutcome {
  /** Our external id (`sawa-<key>`), or null when the callback names none of ours. */
  externalId: string | null;
  claimed: 'succeeded' | 'failed';
  /** The provider's reference of the payment, when the callback gives one. */
  reference?: string;
}

/** AzamPay's callback: `utilityref` is our externalId, `transactionstatus` success/failure. */
export function azamPayOutcome(body: AzamPayCallback): ClaimedOutcome {
  return {
    externalId: body.utilityref,
    claimed: body.transactionstatus.toLowerCase() === 'success' ? 'succeeded' : 'failed',
    reference: body.reference,
  };
}

/**
 * One callback: find the claim by our external id, ask the provider's status query whether
 * it agrees, and only then settle the claim (settle keeps a final state final). Duplicates
 * and late deliveries end as no change.
 */
export async function handlePaymentCallback(
  nano: Nano.ServerScope,
  jobsDb: string,
  provider: PaymentProvider,
  said: ClaimedOutcome,
  log: FastifyBaseLogger,
  now = new Date(),
): Promise<CallbackResult> {
  const m = /^sawa-([0-9a-f]{32})$/.exec(said.externalId ?? '');
  const id = m ? claimId('payment', m[1] as string) : null;
  const claim = id ? await readClaim<PaymentClaim>(nano.use(jobsDb), id) : null;
  if (!id || !claim) return 'unknown-reference';
  const { claimed } = said;
  const reference = claim.reference ?? said.reference;
  const confirmed = await provider.query({
    externalId: claim.external_id,
    reference,
    network: claim.order.network,
  });
  if (confirmed.kind !== claimed) {
    log.warn(
      { claim: id, claimed, confirmed: confirmed.kind },
      'a payment callback the status query does not confirm; nothing changed',
    );
    return 'unconfirmed';
  }
  let changed = false;
  const res = await updateClaim<PaymentClaim>(nano.use(jobsDb), id, (cur) => {
    const next = settle(
      cur,
      {
        state: claimed,
        reference:
          confirmed.kind === 'succeeded' ? (confirmed.reference ?? said.reference) : undefined,
        reason: confirmed.kind === 'failed' ? confirmed.reason : undefined,
      },
      'callback',
      now,
    );
    changed = next !== false;
    return next;
  });
  if (changed && res.doc) await writeStatus(nano, res.doc, now);
  return changed ? 'recorded' : 'duplicate';
}
