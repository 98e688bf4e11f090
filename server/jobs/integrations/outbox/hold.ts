import type Nano from 'nano';
import type { Stored } from '../../../couch/upsert.js';
import { HELD_REASON } from '../../../restriction/restriction.js';
import { moveClaim, type Claim } from './claim.js';
import type { OutboxWork } from './work.js';

/**
 * A queued request (a payment, an SMS) of a person whose processing is restricted
 * (docs/data-protection.md): nothing is sent and nothing is reserved against a limit; the
 * claim stays `queued` with the held reason, mirrored to the phone's status document, so the
 * run after the restriction is lifted sends it as usual. Written once, not on every run.
 */
export async function holdClaim<C extends Claim<unknown>, O extends { externalId: string }>(
  nano: Nano.ServerScope,
  claim: Stored<C>,
  s: OutboxWork<C, O>,
): Promise<boolean> {
  if (claim.reason === HELD_REASON) return true;
  const now = s.now();
  const next: C = { ...claim, reason: HELD_REASON, updated_at: now.toISOString() };
  const saved = await moveClaim(s.jobs, claim, next);
  if (saved) await s.writeStatus(nano, saved, now);
  return saved !== null;
}
