import type { FastifyBaseLogger } from 'fastify';
import type Nano from 'nano';
import type { Stored } from '../../../couch/upsert.js';
import type { JobsDb } from '../outbox/claim.js';
import { workClaim as workOutbox, type OutboxWork, type Step } from '../outbox/work.js';
import { release, reserve } from './limits.js';
import type { PaymentOrder, PaymentProvider } from '../../../integrations/payment-types.js';
import { writeStatus, type PaymentClaim } from './status.js';
import { findApproval } from './approval.js';

export { backoffMs, type Step } from '../outbox/work.js';

export interface WorkSettings {
  /** The jobs database, where the claims and the daily totals live. */
  jobs: JobsDb;
  provider: PaymentProvider | null;
  dailyLimit: number;
  /** Requests above this many shillings wait for a supervisor's approval; null: none do. */
  approvalAbove?: number | null;
  /** Where the approval's check finds the agent's teams. */
  accounts?: { nano: Nano.ServerScope; db: string };
  maxAttempts: number;
  retryBaseMs: number;
  now: () => Date;
  log: FastifyBaseLogger;
  random?: () => number;
}

/** The payments' use of the outbox step (outbox/work.ts): the daily limit before sending. */
export function paymentWork(s: WorkSettings): OutboxWork<PaymentClaim, PaymentOrder> {
  const day = (c: PaymentClaim) => c.created_at.slice(0, 10);
  return {
    ...s,
    waitingReason: 'waiting: no payment provider is configured on the server',
    order: async (c) => ({ externalId: c.external_id, ...c.order }),
    async admit(c) {
      if (s.approvalAbove != null && c.order.amount > s.approvalAbove && s.accounts) {
        const approval = await findApproval(s.accounts.nano, s.accounts.db, c);
        if (!approval) {
          return { wait: `waiting for a supervisor's approval (above ${s.approvalAbove} TZS)` };
        }
        if (approval.decision === 'rejected') {
          return `not approved by ${approval.by}; nothing was sent`;
        }
      }
      return (await reserve(s.jobs, c.owner, day(c), c._id, c.order.amount, s.dailyLimit))
        ? null
        : `over the daily limit of ${s.dailyLimit} TZS per agent; nothing was sent`;
    },
    release: (c) => release(s.jobs, c.owner, day(c), c._id),
    writeStatus,
    network: (c) => c.order.network,
  };
}

/** One due payment claim, one step further. */
export async function workClaim(
  nano: Nano.ServerScope,
  claim: Stored<PaymentClaim>,
  s: WorkSettings,
): Promise<Step> {
  return workOutbox(nano, claim, paymentWork(s));
}
