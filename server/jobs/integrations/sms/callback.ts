import type Nano from 'nano';
import type { FastifyBaseLogger } from 'fastify';
import { readClaim, updateClaim } from '../outbox/claim.js';
import { settle } from '../outbox/outcome.js';
import type { DeliveryReport } from '../../../integrations/sms-types.js';
import { claimOfReference, writeSmsStatus, type SmsClaim } from './status.js';

export type ReportResult = 'recorded' | 'duplicate' | 'pending' | 'unknown-reference' | 'mismatch';

/**
 * One delivery report. SMS providers neither sign their reports nor offer a status query,
 * so besides the path secret a report must name a reference we recorded and the very number
 * the SMS went to. A final state stays final (settle); duplicates and intermediate reports
 * arriving late change nothing.
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
  const id = report.reference ? await claimOfReference(jobs, provider, report.reference) : null;
  const claim = id ? await readClaim<SmsClaim>(jobs, id) : null;
  if (!id || !claim) return 'unknown-reference';
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
