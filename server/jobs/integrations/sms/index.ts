import type Nano from 'nano';
import { fleetDbs } from '../../../provisioning/fleet-dbs.js';
import type { Job, JobContext, JobResult } from '../../types.js';
import { couchStatus, cleanCouchError } from '../../../errors.js';
import { claimId, createClaim, newClaim } from '../outbox/claim.js';
import { intakeRequests, type RequestDoc } from '../outbox/intake.js';
import type { OutboxWork } from '../outbox/work.js';
import { runOutbox } from '../outbox/run.js';
import type { SmsOrder, SmsProvider } from '../../../integrations/sms-types.js';
import { smsProvider } from '../../../integrations/sms-provider.js';
import { recordReference, writeSmsStatus, type SmsClaim } from './status.js';
import { sweepEarlyReports } from './early.js';
import { applyEarlyReport } from './callback.js';

/**
 * The SMS worker (docs/integrations.md): the payments' outbox machinery (outbox/) for
 * `sms_request` → `sms_status`. A sent SMS is settled by the provider's delivery report.
 */
export const JOB = 'sms';

export interface SmsOptions {
  provider?: (ctx: JobContext) => SmsProvider | null;
  now?: () => Date;
  random?: () => number;
}

export function createSmsJob(opts: SmsOptions = {}): Job {
  return { name: JOB, schedule: '*/15 * * * * *', run: (ctx) => runSms(ctx, opts) };
}

export async function runSms(ctx: JobContext, opts: SmsOptions = {}): Promise<JobResult> {
  const { nano, config, log } = ctx;
  const now = opts.now ?? (() => new Date());
  const jobsDb = fleetDbs(config).jobs;
  const provider = opts.provider ? opts.provider(ctx) : smsProvider(config);
  const jobs = nano.use(jobsDb);
  const work: OutboxWork<SmsClaim, SmsOrder> = {
    jobs,
    provider,
    waitingReason: 'waiting: no SMS provider is configured on the server',
    order: (c) => readOrder(nano, c),
    async writeStatus(n, claim, at) {
      await writeSmsStatus(n, claim, provider?.name, at);
      if (provider && claim.reference && claim.state !== 'queued') {
        const id = claimId('sms', claim.external_id.slice(5));
        if (await recordReference(jobs, provider.name, id, claim.reference)) {
          // A report that came before this answer was kept: apply it now.
          await applyEarlyReport(
            { nano: n, jobs, provider: provider.name, log },
            id,
            claim.reference,
            at,
          );
        }
      }
    },
    network: () => provider?.name ?? '',
    maxAttempts: config.SMS_MAX_ATTEMPTS,
    retryBaseMs: config.SMS_RETRY_BASE_SEC * 1000,
    now,
    log,
    random: opts.random,
  };
  const result = await runOutbox(ctx, {
    job: JOB,
    kind: 'sms',
    intake: (db) =>
      intakeRequests(nano, db, {
        jobsDb,
        job: JOB,
        type: 'sms_request',
        claim: (doc) => claimRequest(nano, jobsDb, db, doc, now(), provider?.name),
      }),
    work,
    now,
  });
  const early = await sweepEarlyReports(jobs, now());
  return early ? { ...result, early_reports_dropped: early } : result;
}

/** The text is read from the (immutable) request when it is sent, not copied into the claim. */
async function readOrder(nano: Nano.ServerScope, c: SmsClaim): Promise<SmsOrder | null> {
  try {
    const doc = (await nano.use(c.db).get(c.request_id)) as unknown as { text?: unknown };
    if (typeof doc.text !== 'string') return null;
    return { externalId: c.external_id, to: c.order.to, text: doc.text };
  } catch (err) {
    if (couchStatus(err) === 404) return null;
    throw cleanCouchError(err);
  }
}

async function claimRequest(
  nano: Nano.ServerScope,
  jobsDb: string,
  db: string,
  doc: RequestDoc,
  now: Date,
  provider: string | undefined,
) {
  const { id, claim } = newClaim('sms', db, doc, { to: String(doc.to) }, now);
  const created = await createClaim(nano.use(jobsDb), id, claim);
  if (created) await writeSmsStatus(nano, claim, provider, now);
  return created;
}

export const smsJob = createSmsJob();
