import { runBounded } from '../../../util/run-bounded.js';
import { changedDatabases, ensureJobsDb } from '../../changed-dbs.js';
import { fleetDbs } from '../../../provisioning/fleet-dbs.js';
import type { Job, JobContext, JobResult } from '../../types.js';
import { listClaims, TERMINAL } from '../outbox/claim.js';
import { intakeDatabase, JOB } from './intake.js';
import type { PaymentProvider } from '../../../integrations/payment-types.js';
import { workClaim, type Step } from './work.js';
import type { PaymentClaim } from './status.js';
import { paymentProvider } from '../../../integrations/payment-provider.js';

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
  const { nano, config, log, signal } = ctx;
  const now = opts.now ?? (() => new Date());
  const fleet = fleetDbs(config);
  await ensureJobsDb(nano, fleet.jobs);
  const changed = await changedDatabases(nano, JOB, {
    fleet,
    log,
    safetyPassMs: config.JOBS_SAFETY_PASS_MIN * 60_000,
  });
  let claimed = 0;
  let failedDbs = 0;
  await runBounded(list(changed.names), opts.concurrency ?? 4, async (db) => {
    if (signal.aborted) return;
    try {
      claimed += await intakeDatabase(nano, fleet.jobs, db, now);
    } catch (err) {
      failedDbs++;
      log.error({ db, err: String(err) }, 'reading payment requests failed; the next run retries');
    }
  });
  if (!failedDbs && !signal.aborted) await changed.commit();

  const settings = {
    jobs: nano.use(fleet.jobs),
    provider: opts.provider ? opts.provider(ctx) : paymentProvider(config),
    dailyLimit: config.PAYMENTS_DAILY_LIMIT_TZS,
    maxAttempts: config.PAYMENTS_MAX_ATTEMPTS,
    retryBaseMs: config.PAYMENTS_RETRY_BASE_SEC * 1000,
    now,
    log,
    random: opts.random,
  };
  const steps: Partial<Record<Step | 'errors', number>> = {};
  for await (const claim of listClaims<PaymentClaim>(settings.jobs, 'payment')) {
    if (signal.aborted) break;
    if (TERMINAL.has(claim.state) || Date.parse(claim.next_at) > now().getTime()) continue;
    try {
      const step = await workClaim(nano, claim, settings);
      steps[step] = (steps[step] ?? 0) + 1;
    } catch (err) {
      steps.errors = (steps.errors ?? 0) + 1;
      log.error({ claim: claim._id, err: String(err) }, 'a payment step failed; it is retried');
    }
  }
  return { databases: changed.names.length, claimed, failed_databases: failedDbs, ...steps };
}

export const paymentsJob = createPaymentsJob();

async function* list<T>(items: readonly T[]): AsyncIterable<T> {
  yield* items;
}
