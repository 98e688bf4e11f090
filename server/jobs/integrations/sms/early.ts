import type Nano from 'nano';
import { getDoc } from '../../../couch/upsert.js';
import { cleanCouchError, couchStatus } from '../../../errors.js';
import type { JobsDb } from '../outbox/claim.js';
import type { DeliveryReport } from '../../../integrations/sms-types.js';
import { refId } from './status.js';

/**
 * Delivery reports that outran the send's answer: a provider may report delivery before
 * our call has read (and recorded) the reference it names. Such a report is kept in the jobs
 * database, `outbox-early:sms:<provider>:<hash>` (no number in the id), and applied, with
 * the same checks, once the reference is recorded. The first final report is kept; kept
 * reports nobody claims go after EARLY_KEEP_MS.
 */
const PREFIX = 'outbox-early:sms:';
export const EARLY_KEEP_MS = 86_400_000;

export interface EarlyDoc {
  report: DeliveryReport;
  received_at: string;
}

const earlyId = (provider: string, reference: string) =>
  refId(provider, reference).replace(/^outbox-ref:sms:/, PREFIX);

export async function keepEarlyReport(
  jobs: JobsDb,
  provider: string,
  report: DeliveryReport,
  now: Date,
): Promise<void> {
  const doc: EarlyDoc & { _id: string } = {
    _id: earlyId(provider, report.reference),
    report,
    received_at: now.toISOString(),
  };
  try {
    await jobs.insert(doc as Nano.MaybeDocument);
  } catch (err) {
    // 409: a report for it is kept already. 404: no jobs database, so no job ever sent one.
    if (couchStatus(err) !== 409 && couchStatus(err) !== 404) throw cleanCouchError(err);
  }
}

/** The report kept for a send's reference, if one came before the reference was recorded. */
export async function findEarlyReport(
  jobs: JobsDb,
  provider: string,
  reference: string,
): Promise<(EarlyDoc & { _id: string; _rev: string }) | null> {
  return getDoc(jobs, earlyId(provider, reference));
}

/** Drops kept reports older than EARLY_KEEP_MS (their reference never came); the number dropped. */
export async function sweepEarlyReports(jobs: JobsDb, now: Date): Promise<number> {
  let rows;
  try {
    rows = (await jobs.list({ startkey: PREFIX, endkey: `${PREFIX}\ufff0`, include_docs: true }))
      .rows;
  } catch (err) {
    if (couchStatus(err) === 404) return 0;
    throw cleanCouchError(err);
  }
  let dropped = 0;
  for (const row of rows) {
    const doc = row.doc as unknown as (EarlyDoc & { _id: string; _rev: string }) | undefined;
    if (!doc || Date.parse(doc.received_at) > now.getTime() - EARLY_KEEP_MS) continue;
    if (await dropEarlyReport(jobs, doc._id, doc._rev)) dropped++;
  }
  return dropped;
}

export async function dropEarlyReport(jobs: JobsDb, id: string, rev: string): Promise<boolean> {
  try {
    await jobs.destroy(id, rev);
    return true;
  } catch (err) {
    if (couchStatus(err) === 404 || couchStatus(err) === 409) return false;
    throw cleanCouchError(err);
  }
}
