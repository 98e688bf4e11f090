import type Nano from 'nano';
import type { FastifyBaseLogger } from 'fastify';
import { readClaim, updateClaim, type JobsDb } from '../outbox/claim.js';
import { settle } from '../outbox/outcome.js';
import type { DeliveryReport } from '../../../integrations/sms-types.js';
import { claimOfReference, writeSmsStatus, type SmsClaim } from './status.js';
import { dropEarlyReport, findEarlyReport, keepEarlyReport } from './early.js';

/** Where a report is applied: the server, the jobs database, the provider it came from. */
export interface ReportSink {
  nano: Nano.ServerScope;
  jobs: JobsDb;
  provider: string;
  log: FastifyBaseLogger;
}

export type ReportResult =
  'recorded' | 'duplicate' | 'pending' | 'unknown-reference' | 'mismatch' | 'early';

/**
 * One delivery report. SMS providers neither sign their reports nor offer a status query,
 * so besides the path secret a report must name a reference we recorded and the very number
 * the SMS went to. A final state stays final (settle); duplicates and intermediate reports
 * arriving late change nothing. A final report naming a reference not recorded yet (it can
 * outrun the send's answer) is kept and applied when the answer is recorded (sms/early.ts).
 */
export async function handleDeliveryReport(
  nano: Nano.ServerScope,
  jobsDb: string,
  provider: string,
  report: DeliveryReport,
  log: FastifyBaseLogger,
  now = new Date(),
): Promise<ReportResult> {
  const jobs = nano.use(jobsDb);
  if (!report.reference) return 'unknown-reference';
  let id = await claimOfReference(jobs, provider, report.reference);
  if (!id) {
    if (report.outcome === 'pending') return 'unknown-reference';
    await keepEarlyReport(jobs, provider, report, now);
    // The send's answer may have been recorded meanwhile, missing the report just kept.
    id = await claimOfReference(jobs, provider, report.reference);
    if (!id) return 'early';
  }
  return applyReport({ nano, jobs, provider, log }, id, report, now);
}

/** Called once a send's reference is recorded: a report kept for it is applied, then dropped. */
export async function applyEarlyReport(
  sink: ReportSink,
  claimId: string,
  reference: string,
  now: Date,
): Promise<void> {
  const early = await findEarlyReport(sink.jobs, sink.provider, reference);
  if (!early) return;
  await applyReport(sink, claimId, early.report, now);
  await dropEarlyReport(sink.jobs, early._id, early._rev);
}

/** A report for the claim `id`: the number must match; then the claim is settled. */
export async function applyReport(
  { nano, jobs, provider, log }: ReportSink,
  id: string,
  report: DeliveryReport,
  now: Date,
): Promise<ReportResult> {
  const claim = await readClaim<SmsClaim>(jobs, id);
  if (!claim) return 'unknown-reference';
  if (report.to !== claim.order.to) {
    log.warn({ claim: id }, 'a delivery report for another number; nothing changed');
    return 'mismatch';
  }
  if (report.outcome === 'pending') return 'pending';
  const outcome = report.outcome;
  let changed = false;
  const res = await updateClaim<SmsClaim>(jobs, id, (cur) => {
    const next = settle(
      cur,
      { state: outcome, reference: report.reference, reason: report.reason },
      'delivery report',
      now,
    );
    changed = next !== false;
    return next;
  });
  if (changed && res.doc) await writeSmsStatus(nano, res.doc, provider, now);
  return changed ? 'recorded' : 'duplicate';
}
