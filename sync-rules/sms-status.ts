import { COMMON_IMMUTABLE, COMMON_MESSAGES, documentSchema, text } from './common.js';
import type { SyncRule } from './types.js';

/** The server's answer to an sms_request; syncs back to the phone, read-only there. */
export const smsStatus: SyncRule = {
  type: 'sms_status',
  description: 'the delivery state of an SMS request, written by the SMS worker',
  schema: documentSchema('sms_status', {
    properties: {
      request_id: text(200),
      provider: { enum: ['africastalking', 'beem'] },
      status: { enum: ['queued', 'sent', 'delivered', 'failed'] },
      provider_reference: text(200),
      message: text(500),
      attempts: { type: 'integer', minimum: 0 },
      // A delivery report that disagrees with the final status: a person looks.
      flagged: { type: 'boolean' },
    },
    // No provider while none is configured on the server: the request waits (message says so).
    required: ['request_id', 'status'],
  }),
  messages: { ...COMMON_MESSAGES },
  ownerField: 'owner',
  immutable: [...COMMON_IMMUTABLE, 'request_id'],
  writer: 'server',
  roles: { create: [], update: [], delete: [] },
  databases: ['private'],
  conflict: { strategy: 'last-write-wins', field: 'updated_at' },
  retention: { phoneDays: 7, serverDays: 90, from: 'created_at' },
  personalData: [],
};
