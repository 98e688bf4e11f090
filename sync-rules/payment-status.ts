import { COMMON_IMMUTABLE, COMMON_MESSAGES, documentSchema, text } from './common.js';
import { PAYMENT_PROVIDERS } from './payment-request.js';
import type { SyncRule } from './types.js';

/** The server's answer to a payment_request; syncs back to the phone, read-only there. */
export const paymentStatus: SyncRule = {
  type: 'payment_status',
  description: 'the outcome of a payment request, written by the payment worker',
  schema: documentSchema('payment_status', {
    properties: {
      request_id: text(200),
      provider: { enum: [...PAYMENT_PROVIDERS] },
      status: { enum: ['pending', 'queued', 'submitted', 'succeeded', 'failed'] },
      provider_reference: text(200),
      message: text(500),
      attempts: { type: 'integer', minimum: 0 },
      // An outcome that disagrees with the final status: a person looks (docs/integrations.md).
      flagged: { type: 'boolean' },
    },
    required: ['request_id', 'provider', 'status'],
  }),
  messages: { ...COMMON_MESSAGES },
  ownerField: 'owner',
  immutable: [...COMMON_IMMUTABLE, 'request_id'],
  writer: 'server',
  roles: { create: [], update: [], delete: [] },
  databases: ['private'],
  conflict: { strategy: 'last-write-wins', field: 'updated_at' },
  retention: { phoneDays: 30, serverDays: 2555, from: 'created_at' },
  personalData: [],
};
