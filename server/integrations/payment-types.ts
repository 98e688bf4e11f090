/**
 * What the payments job needs from a mobile-money provider. An adapter maps its provider's
 * wire format onto these outcomes; the job owns state, retries and idempotency.
 */

export interface PaymentOrder {
  /** Deterministic from the request document: the provider's idempotency key. */
  externalId: string;
  /** E.164, e.g. +255712345678; the adapter formats it as its provider expects. */
  msisdn: string;
  /** Whole Tanzanian shillings. */
  amount: number;
  /** The wallet network named by the request (mpesa, airtel, …). */
  network: string;
}

/** The answer to a payment call that reached the provider and was answered. */
export type SubmitOutcome =
  | { kind: 'accepted'; reference?: string }
  | { kind: 'succeeded'; reference?: string }
  /** Refused; `retryable` only where the provider documents that nothing was done. */
  | { kind: 'rejected'; retryable: boolean; reason: string };

/** The provider's view of a payment, from its status query. */
export type QueryOutcome =
  | { kind: 'succeeded'; reference?: string }
  | { kind: 'failed'; reason: string; reference?: string }
  | { kind: 'pending' }
  | { kind: 'not-found' };

/** What a status query needs: our key, and the provider's reference when it gave one. */
export interface StatusQuestion {
  externalId: string;
  reference?: string;
  network: string;
}

export interface PaymentProvider {
  name: string;
  /** Throws when the outcome is unknown (timeout, connection lost after sending). */
  submit(order: PaymentOrder): Promise<SubmitOutcome>;
  query(q: StatusQuestion): Promise<QueryOutcome>;
}
