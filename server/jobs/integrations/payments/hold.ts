import type Nano from 'nano';
import type { Stored } from '../../../couch/upsert.js';
import { HELD_REASON } from '../../../restriction/restriction.js';
import { moveClaim, type Claim, type JobsDb } from './claim.js';
import { writeStatus } from './status.js';

/**
 * A queued payment of a person whose processing is restricted (docs/data-protection.md):
 * nothing is sent and nothing is reserved against the daily limit; the claim stays `queued`
 * with the held reason (mirrored to the phone's `payment_status` as its message), so the run
 * after the restriction is lifted submits it as usual. Written once, not on every run.
 */
export async function holdClaim(
  nano: Nano.ServerScope,
  jobs: JobsDb,
  claim: Stored<Claim>,
  now: Date,
): Promise<boolean> {
  if (claim.reason === HELD_REASON) return true;
  const next: Claim = { ...claim, reason: HELD_REASON, updated_at: now.toISOString() };
  const saved = await moveClaim(jobs, claim, next);
  if (saved) await writeStatus(nano, saved, now);
  return saved !== null;
}
