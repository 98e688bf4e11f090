import { COMMON_MESSAGES, documentSchema, E164_TZ, E164_TZ_MESSAGE, text } from './common.js';
import type { SyncRule } from './types.js';

export const PAYMENT_PROVIDERS = ['mpesa', 'airtel', 'mixx', 'halopesa', 'azampesa'] as const;

/**
 * A mobile-money payment to a farmer, written offline on the phone (the outbox pattern).
 * Its id is the idempotency key, so it can never change once written.
 */
export const paymentRequest: SyncRule = {
  type: 'payment_request',
  description: 'a request to pay a farmer by mobile money',
  schema: documentSchema('payment_request', {
    properties: {
      farmer_id: text(200),
      // Tanzanian wallets only: every provider below pays +255 numbers.
      msisdn: { type: 'string', pattern: E164_TZ },
      amount: { type: 'integer', minimum: 100, maximum: 5_000_000 },
      provider: { enum: [...PAYMENT_PROVIDERS] },
      reason: text(500),
    },
    required: ['farmer_id', 'msisdn', 'amount', 'provider', 'reason'],
  }),
  messages: {
    ...COMMON_MESSAGES,
    msisdn: E164_TZ_MESSAGE,
    amount: 'must be a whole number of Tanzanian shillings from 100 to 5,000,000',
  },
  ownerField: 'owner',
  immutable: 'all',
  writer: 'user',
  roles: { create: ['agent', 'supervisor'], update: [], delete: [] },
  databases: ['private'],
  conflict: { strategy: 'immutable', field: 'created_at' },
  retention: { phoneDays: 30, serverDays: 2555, from: 'created_at' },
  personalData: ['msisdn', 'reason'],
};
