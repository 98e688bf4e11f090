import { COMMON_MESSAGES, documentSchema, E164, E164_MESSAGE, text } from './common.js';
import type { SyncRule } from './types.js';

/** An SMS to send, written offline on the phone (the outbox pattern). Never changes once written. */
export const smsRequest: SyncRule = {
  type: 'sms_request',
  description: 'a request to send an SMS',
  schema: documentSchema('sms_request', {
    // 480 characters: three concatenated SMS segments.
    properties: { to: { type: 'string', pattern: E164 }, text: text(480) },
    required: ['to', 'text'],
  }),
  messages: { ...COMMON_MESSAGES, to: E164_MESSAGE },
  ownerField: 'owner',
  immutable: 'all',
  writer: 'user',
  roles: { create: ['agent', 'supervisor', 'admin'], update: [], delete: [] },
  databases: ['private'],
  conflict: { strategy: 'immutable', field: 'created_at' },
  retention: { phoneDays: 7, serverDays: 90, from: 'created_at' },
  personalData: ['to', 'text'],
};
