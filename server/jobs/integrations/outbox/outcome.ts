import type { Claim, ClaimState } from './claim.js';
import { TERMINAL } from './claim.js';

/**
 * Applies a provider's final word (a status query or a callback) to a claim. A final state
 * never flips: an outcome that disagrees with it is kept in `late` and flags the claim for
 * a person. Returns false when nothing changes (a duplicate, or the same outcome again).
 */
export function settle<C extends Claim<unknown>>(
  claim: C,
  outcome: {
    state: Extract<ClaimState, 'succeeded' | 'failed'>;
    reference?: string;
    reason?: string;
  },
  source: string,
  now: Date,
): C | false {
  if (TERMINAL.has(claim.state)) {
    if (claim.state === outcome.state) return false;
    const late = claim.late ?? [];
    const seen = late.some((l) => l.outcome === outcome.state && l.source === source);
    if (seen && claim.flagged) return false;
    return {
      ...claim,
      flagged: true,
      updated_at: now.toISOString(),
      late: seen
        ? late
        : [
            ...late,
            {
              at: now.toISOString(),
              source,
              outcome: outcome.state,
              ...(outcome.reference && { reference: outcome.reference }),
            },
          ],
    };
  }
  return {
    ...claim,
    state: outcome.state,
    unknown: false,
    updated_at: now.toISOString(),
    ...(outcome.reference && { reference: outcome.reference }),
    ...(outcome.reason ? { reason: outcome.reason } : { reason: undefined }),
  };
}
