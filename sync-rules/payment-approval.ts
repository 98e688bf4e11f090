import { COMMON_MESSAGES, documentSchema, text } from './common.js';
import type { SyncRule } from './types.js';

/**
 * A supervisor's decision on a payment request above PAYMENTS_APPROVE_ABOVE_TZS, written in
 * the team database the agent belongs to, with the id `payment_approval-<request id>`. The
 * payments worker sends such a request only once an approval is there (docs/integrations.md).
 */
export const paymentApproval: SyncRule = {
  type: 'payment_approval',
  description: "a supervisor's decision on a large payment request",
  schema: documentSchema('payment_approval', {
    properties: {
      request_id: text(200),
      // The agent who asked, and the amount approved: both must match the request.
      agent: text(100),
      amount: { type: 'integer', minimum: 1 },
      decision: { enum: ['approved', 'rejected'] },
      note: text(500),
    },
    required: ['request_id', 'agent', 'amount', 'decision'],
  }),
  messages: { ...COMMON_MESSAGES },
  // The supervisor who decided.
  ownerField: 'owner',
  immutable: 'all',
  writer: 'user',
  roles: { create: ['supervisor', 'admin'], update: [], delete: [] },
  databases: ['team'],
  conflict: { strategy: 'immutable', field: 'created_at' },
  retention: { phoneDays: 30, serverDays: 2555, from: 'created_at' },
  personalData: ['note'],
};
