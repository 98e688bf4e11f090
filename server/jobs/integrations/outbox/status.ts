import type Nano from 'nano';
import { upsert } from '../../../couch/upsert.js';
import type { Claim } from './claim.js';

/** A request's status document in the user's database: written only by the server. */
export interface StatusDoc {
  type: string;
  owner: string;
  created_at: string;
  updated_at: string;
  request_id: string;
  provider?: string;
  status: string;
  attempts: number;
  provider_reference?: string;
  message?: string;
  flagged?: boolean;
}

/** What a kind shows of its claim: its type, its words for the state, the provider named. */
export interface Shown {
  type: string;
  status: string;
  provider?: string;
}

/**
 * Mirrors a claim into the user's database as its status document `id`, as the server admin
 * (the sync rules let no phone write status types). Unchanged status: no write, so no sync
 * traffic. `shown` gets the current document (a kind may keep the provider it first named).
 */
export async function mirrorStatus(
  nano: Nano.ServerScope,
  claim: Claim<unknown>,
  id: string,
  shown: (cur: StatusDoc | null) => Shown,
  now: Date,
) {
  await upsert<StatusDoc>(nano.use(claim.db), id, (cur) => {
    const { type, status, provider } = shown(cur ?? null);
    const next: StatusDoc = {
      type,
      owner: claim.owner,
      created_at: cur?.created_at ?? now.toISOString(),
      updated_at: now.toISOString(),
      request_id: claim.request_id,
      ...(provider && { provider }),
      status,
      attempts: claim.attempts,
      ...(claim.reference && { provider_reference: claim.reference }),
      ...(claim.reason && { message: claim.reason.slice(0, 500) }),
      ...(claim.flagged && { flagged: true }),
    };
    const same =
      cur &&
      cur.status === next.status &&
      cur.attempts === next.attempts &&
      cur.provider === next.provider &&
      cur.provider_reference === next.provider_reference &&
      cur.message === next.message &&
      Boolean(cur.flagged) === Boolean(next.flagged);
    return same ? false : next;
  });
}
