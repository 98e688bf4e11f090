import { fleetDbs } from '../../../provisioning/fleet-dbs.js';
import type { Job, JobContext, JobResult } from '../../types.js';
import { intakeDatabase, JOB } from './intake.js';
import type { PaymentProvider } from '../../../integrations/payment-types.js';
import { paymentWork } from './work.js';
import { paymentProvider } from '../../../integrations/payment-provider.js';
import { runOutbox } from '../outbox/run.js';

/**
 * The payments worker (docs/integrations.md): claims new `payment_request` documents from the
 * user databases that changed, then moves every due claim one step — submit, or ask the
 * provider how a submitted one ended — and mirrors each change into a `payment_status`.
 */

export interface PaymentsOptions {
  /** The provider for this run; production builds it from the configuration. */
  provider?: (ctx: JobContext) => PaymentProvider | null;
  now?: () => Date;
  random?: () => number;
  concurrency?: number;
}

export function createPaymentsJob(opts: PaymentsOptions = {}): Job {
  return { name: JOB, schedule: '*/15 * * * * *', run: (ctx) => runPayments(ctx, opts) };
}

export async function runPayments(ctx: JobContext, opts: PaymentsOptions = {}): Promise<JobResult> {
  const { nano, config, log } = ctx;
  const now = opts.now ?? (() => new Date());
  const jobsDb = fleetDbs(config).jobs;
  return runOutbox(ctx, {
    job: JOB,
    kind: 'payment',
    intake: (db) => intakeDatabase(nano, jobsDb, db, now),
    work: paymentWork({
      jobs: nano.use(jobsDb),
      provider: opts.provider ? opts.provider(ctx) : paymentProvider(config),
      dailyLimit: config.PAYMENTS_DAILY_LIMIT_TZS,
      approvalAbove: config.PAYMENTS_APPROVE_ABOVE_TZS ?? null,
      accounts: { nano, db: config.ACCOUNTS_DB },
      maxAttempts: config.PAYMENTS_MAX_ATTEMPTS,
      retryBaseMs: config.PAYMENTS_RETRY_BASE_SEC * 1000,
      now,
      log,
      random: opts.random,
    }),
    now,
    concurrency: opts.concurrency,
  });
}

export const paymentsJob = createPaymentsJob();
