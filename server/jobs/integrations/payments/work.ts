import type { FastifyBaseLogger } from 'fastify';
import type Nano from 'nano';
import type { Stored } from '../../../couch/upsert.js';
import type { JobsDb } from '../outbox/claim.js';
import { workClaim as workOutbox, type OutboxWork, type Step } from '../outbox/work.js';
import { release, reserve } from './limits.js';
import type { PaymentOrder, PaymentProvider } from '../../../integrations/payment-types.js';
import { writeStatus, type PaymentClaim } from './status.js';

export { backoffMs, type Step } from '../outbox/work.js';

export interface WorkSettings {
  /** The jobs database, where the claims and the daily totals live. */
  jobs: JobsDb;
  provider: PaymentProvider | null;
  dailyLimit: number;
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
    admit: async (c) =>
      (await reserve(s.jobs, c.owner, day(c), c._id, c.order.amount, s.dailyLimit))
        ? null
        : `over the daily limit of ${s.dailyLimit} TZS per agent; nothing was sent`,
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
