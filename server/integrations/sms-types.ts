import type { OutboxProvider } from './outbox-types.js';

export const SMS_PROVIDERS = ['africastalking', 'beem'] as const;
export type SmsProviderName = (typeof SMS_PROVIDERS)[number];

/** One SMS to one number. */
export interface SmsOrder {
  /** Deterministic from the request document (`sawa-<key>`). */
  externalId: string;
  /** E.164; the adapter formats it as its provider expects. */
  to: string;
  text: string;
}

export interface SmsProvider extends OutboxProvider<SmsOrder> {
  name: SmsProviderName;
}

/** A delivery report, as an adapter reads its provider's callback. */
export interface DeliveryReport {
  /** The provider's reference of the message (the send call's answer). */
  reference: string;
  /** The number the provider says it delivered to, E.164 when it could be read. */
  to: string | null;
  /** `pending` for intermediate reports (sent, buffered, …), which change nothing here. */
  outcome: 'succeeded' | 'failed' | 'pending';
  reason?: string;
}
