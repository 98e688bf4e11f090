import type { FastifyBaseLogger } from 'fastify';
import type Nano from 'nano';
import type { Stored } from '../../../couch/upsert.js';
import { moveClaim, type Claim, type JobsDb } from './claim.js';
import { release, reserve } from './limits.js';
import { settle } from './outcome.js';
import type { PaymentProvider, SubmitOutcome } from '../../../integrations/payment-types.js';
import { writeStatus } from './status.js';
import { counted } from '../../../metrics/provider-calls.js';

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

export type Step = 'waiting' | 'submitted' | 'succeeded' | 'failed' | 'retry' | 'pending' | 'lost';

/** Full jitter on an exponential step, capped at an hour. */
export function backoffMs(base: number, n: number, random: () => number = Math.random) {
  const top = Math.min(3_600_000, base * 2 ** Math.max(0, n - 1));
  return Math.round(top / 2 + (random() * top) / 2);
}

const later = (now: Date, ms: number) => new Date(now.getTime() + ms).toISOString();

/** One due claim, one step further. Returns what happened, or `lost` when another worker moved it. */
export async function workClaim(
  nano: Nano.ServerScope,
  claim: Stored<Claim>,
  s: WorkSettings,
): Promise<Step> {
  return claim.state === 'queued' ? submit(nano, claim, s) : query(nano, claim, s);
}

async function save(
  nano: Nano.ServerScope,
  jobs: JobsDb,
  cur: Stored<Claim>,
  next: Claim,
  now: Date,
) {
  const saved = await moveClaim(jobs, cur, next);
  if (saved) await writeStatus(nano, saved, now);
  return saved;
}

async function submit(
  nano: Nano.ServerScope,
  claim: Stored<Claim>,
  s: WorkSettings,
): Promise<Step> {
  const now = s.now();
  const at = now.toISOString();
  if (!s.provider) {
    const reason = 'waiting: no payment provider is configured on the server';
    if (claim.reason === reason) return 'waiting';
    return (await save(nano, s.jobs, claim, { ...claim, reason, updated_at: at }, now))
      ? 'waiting'
      : 'lost';
  }
  const day = claim.created_at.slice(0, 10);
  const key = claim._id;
  if (!(await reserve(s.jobs, claim.owner, day, key, claim.order.amount, s.dailyLimit))) {
    const reason = `over the daily limit of ${s.dailyLimit} TZS per agent; nothing was sent`;
    const failed: Claim = { ...claim, state: 'failed', reason, updated_at: at };
    return (await save(nano, s.jobs, claim, failed, now)) ? 'failed' : 'lost';
  }
  // Written before the call: from here on, only a status query may settle this payment.
  const sending = await save(
    nano,
    s.jobs,
    claim,
    {
      ...claim,
      state: 'submitted',
      unknown: true,
      attempts: claim.attempts + 1,
      next_at: later(now, s.retryBaseMs),
      updated_at: at,
      reason: undefined,
    },
    now,
  );
  if (!sending) return 'lost';
  let answer: SubmitOutcome;
  try {
    answer = await counted(
      s.provider.name,
      'payment',
      s.provider.submit({
        externalId: claim.external_id,
        msisdn: claim.order.msisdn,
        amount: claim.order.amount,
        network: claim.order.network,
      }),
    );
  } catch (err) {
    if ((err as { sent?: boolean }).sent === false) {
      answer = {
        kind: 'rejected',
        retryable: true,
        reason: String((err as Error).message),
      } as const;
    } else {
      s.log.warn(
        { claim: claim._id, err: String(err) },
        'payment call gave no answer; its outcome is left to the status query',
      );
      return 'submitted';
    }
  }
  const done = s.now();
  const base = { ...sending, unknown: false, updated_at: done.toISOString() };
  if (answer.kind === 'accepted') {
    await save(
      nano,
      s.jobs,
      sending,
      { ...base, ...(answer.reference && { reference: answer.reference }) },
      done,
    );
    return 'submitted';
  }
  if (answer.kind === 'succeeded') {
    const next = settle(base, { state: 'succeeded', reference: answer.reference }, 'submit', done);
    if (next) await save(nano, s.jobs, sending, next, done);
    return 'succeeded';
  }
  if (answer.retryable && sending.attempts < s.maxAttempts) {
    const retry: Claim = {
      ...base,
      state: 'queued',
      reason: `retrying: ${answer.reason}`,
      next_at: later(done, backoffMs(s.retryBaseMs, sending.attempts, s.random)),
    };
    await save(nano, s.jobs, sending, retry, done);
    return 'retry';
  }
  await release(s.jobs, claim.owner, day, key);
  await save(nano, s.jobs, sending, { ...base, state: 'failed', reason: answer.reason }, done);
  return 'failed';
}

async function query(nano: Nano.ServerScope, claim: Stored<Claim>, s: WorkSettings): Promise<Step> {
  if (!s.provider) return 'waiting';
  const answer = await counted(
    s.provider.name,
    'payment_status',
    s.provider.query({
      externalId: claim.external_id,
      reference: claim.reference,
      network: claim.order.network,
    }),
  );
  const now = s.now();
  if (answer.kind === 'succeeded' || answer.kind === 'failed') {
    const next = settle(
      claim,
      {
        state: answer.kind,
        reference: answer.reference,
        reason: answer.kind === 'failed' ? answer.reason : undefined,
      },
      'status query',
      now,
    );
    if (!next) return answer.kind;
    if (!(await save(nano, s.jobs, claim, next, now))) return 'lost';
    if (answer.kind === 'failed') {
      await release(s.jobs, claim.owner, claim.created_at.slice(0, 10), claim._id);
    }
    return answer.kind;
  }
  // Pending or unknown to the provider: ask again later, never pay again. After as many
  // questions as attempts allowed, a person is asked to look (the claim is flagged).
  const queries = claim.queries + 1;
  const flag = queries >= s.maxAttempts;
  const next: Claim = {
    ...claim,
    queries,
    next_at: later(now, backoffMs(s.retryBaseMs, queries, s.random)),
    updated_at: now.toISOString(),
    ...(flag && {
      flagged: true,
      reason:
        answer.kind === 'not-found'
          ? 'the provider does not know this payment; check before paying again'
          : 'the provider has not settled this payment; check with the provider',
    }),
  };
  return (await save(nano, s.jobs, claim, next, now)) ? 'pending' : 'lost';
}
