import type { OutboxProvider, QueryOutcome, StatusQuestion } from './outbox-types.js';

export type { QueryOutcome, StatusQuestion, SubmitOutcome } from './outbox-types.js';

/** What the payments job needs from a mobile-money provider (see outbox-types.ts). */
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

/** A payment provider must answer status queries: an unknown payment is never paid again. */
export interface PaymentProvider extends OutboxProvider<PaymentOrder> {
  query(q: StatusQuestion): Promise<QueryOutcome>;
}
