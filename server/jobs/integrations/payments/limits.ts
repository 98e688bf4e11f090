import { upsert } from '../../../couch/upsert.js';
import type { JobsDb } from '../outbox/claim.js';

/**
 * Per-agent daily totals, `limit:payment:<owner>:<day>`, holding each counted request with
 * its amount, so counting the same request twice (a re-run) changes nothing.
 */
interface DayTotal {
  owner: string;
  day: string;
  requests: Record<string, number>;
}

const sum = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);

/** Counts `amount` against the owner's day; false when that would pass `limit`. */
export async function reserve(
  jobs: JobsDb,
  owner: string,
  day: string,
  key: string,
  amount: number,
  limit: number,
): Promise<boolean> {
  let ok = false;
  await upsert<DayTotal>(jobs, `limit:payment:${owner}:${day}`, (cur) => {
    const requests = cur?.requests ?? {};
    ok = key in requests || sum(requests) + amount <= limit;
    if (!ok || key in requests) return false;
    return { owner, day, requests: { ...requests, [key]: amount } };
  });
  return ok;
}

/** Gives back a failed request's amount. */
export async function release(jobs: JobsDb, owner: string, day: string, key: string) {
  await upsert<DayTotal>(jobs, `limit:payment:${owner}:${day}`, (cur) => {
    if (!cur || !(key in cur.requests)) return false;
    const requests = { ...cur.requests };
    delete requests[key];
    return { owner, day, requests };
  });
}
