import { aggregateJob } from './aggregate/index.js';
import { reconcileJob } from './reconcile/index.js';
import { retentionJob } from './retention.js';
import { paymentsJob } from './integrations/payments/index.js';
import { smsJob } from './integrations/sms/index.js';
import type { Job } from './types.js';

/** Every job Sawa runs, scheduled by the jobs plugin and runnable with `npm run job -- <name>`. */
export const jobs: readonly Job[] = [reconcileJob, aggregateJob, retentionJob, paymentsJob, smsJob];
