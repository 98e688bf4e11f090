import { COMMON_MESSAGES, documentSchema, text } from './common.js';
import type { SyncRule } from './types.js';

/**
 * An instruction from the server to the phones that sync a database: purge these documents
 * (an erasure, or retention) from local storage. The client library applies it
 * (client/purge.ts). It holds document ids only, never their contents. `phone-retention`:
 * the documents stay on the server, so the phone must not push its removal back.
 */
export const sawaPurge: SyncRule = {
  type: 'sawa_purge',
  description: 'documents the phones must purge locally, written by the server',
  schema: documentSchema('sawa_purge', {
    properties: {
      ids: { type: 'array', items: text(500), minItems: 1, maxItems: 10000 },
      reason: { enum: ['erasure', 'retention', 'phone-retention'] },
    },
    required: ['ids', 'reason'],
  }),
  messages: { ...COMMON_MESSAGES },
  ownerField: 'owner',
  immutable: 'all',
  writer: 'server',
  roles: { create: [], update: [], delete: [] },
  databases: ['private', 'team'],
  conflict: { strategy: 'immutable', field: 'created_at' },
  // A phone offline for longer than a year is provisioned again.
  retention: { phoneDays: 400, serverDays: 400, from: 'created_at' },
  personalData: [],
};
