/**
 * What an outbox worker (payments, SMS) needs from a provider. An adapter maps its provider's
 * wire format onto these outcomes; the worker owns state, retries and idempotency.
 */

/** The answer to a call that reached the provider and was answered. */
export type SubmitOutcome =
  | { kind: 'accepted'; reference?: string }
  | { kind: 'succeeded'; reference?: string }
  /** Refused; `retryable` only where the provider documents that nothing was done. */
  | { kind: 'rejected'; retryable: boolean; reason: string };

/** The provider's view of a request, from its status query. */
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

export interface OutboxProvider<O extends { externalId: string }> {
  name: string;
  /** When several providers stand behind this one: the name of the one serving `network`. */
  nameFor?(network: string): string;
  /** Throws when the outcome is unknown (timeout, connection lost after sending). */
  submit(order: O): Promise<SubmitOutcome>;
  /** Absent when the provider has none: then only callbacks settle a submitted request. */
  query?(q: StatusQuestion): Promise<QueryOutcome>;
}
