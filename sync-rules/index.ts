import { farmer } from './farmer.js';
import { paymentApproval } from './payment-approval.js';
import { paymentRequest } from './payment-request.js';
import { paymentStatus } from './payment-status.js';
import { sawaPurge } from './sawa-purge.js';
import { smsRequest } from './sms-request.js';
import { smsStatus } from './sms-status.js';
import type { SyncRule } from './types.js';
import { visit } from './visit.js';

export type { SyncRule, Role, DatabaseKind, ConflictStrategy } from './types.js';

/**
 * The deployment's document types. These are the reference rules, for an agricultural
 * extension programme in Tanzania; a deployment replaces the files and this list.
 */
export const syncRules: readonly SyncRule[] = [
  farmer,
  visit,
  paymentRequest,
  smsRequest,
  paymentStatus,
  smsStatus,
  sawaPurge,
  paymentApproval,
];
