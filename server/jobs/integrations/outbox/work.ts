import type { FastifyBaseLogger } from 'fastify';
import type Nano from 'nano';
import type { Stored } from '../../../couch/upsert.js';
import { moveClaim, type Claim, type JobsDb } from './claim.js';
import { settle } from './outcome.js';
import type { OutboxProvider, SubmitOutcome } from '../../../integrations/outbox-types.js';
import { counted } from '../../../metrics/provider-calls.js';

/**
 * One step of an outbox claim (payments, SMS): submit it once, retry only what the provider
 * documents as safe, and settle what was sent by the provider's status query (or, without
 * one, by its callbacks). Each change is written on the claim's revision, then mirrored into
 * the user's status document by `writeStatus`.
 */
export interface OutboxWork<C extends Claim<unknown>, O extends { externalId: string }> {
  /** The jobs database, where the claims live. */
  jobs: JobsDb;
  provider: OutboxProvider<O> | null;
  /** The status of a request while no provider is configured. */
  waitingReason: string;
  /** What the provider is sent; null when the request can no longer be read (fails it). */
  order(claim: Stored<C>): Promise<O | null>;
  /**
   * Before sending: null to go on, a reason to fail the claim without sending (a limit), or
   * `{ wait }` to keep it queued and ask again later (an approval not given yet).
   */
  admit?(claim: Stored<C>): Promise<string | { wait: string } | null>;
  /** The claim failed after `admit` let it through (give a limit back). */
  release?(claim: Stored<C>): Promise<void>;
  writeStatus(nano: Nano.ServerScope, claim: C, now: Date): Promise<void>;
  /** The network a status query names (a payment's wallet; an SMS's provider). */
  network(claim: C): string;
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

/** The provider a claim goes to, as /metrics names it (a router names the one it picks). */
const providerName = <C extends Claim<unknown>, O extends { externalId: string }>(
  s: OutboxWork<C, O>,
  claim: C,
) => s.provider?.nameFor?.(s.network(claim)) ?? s.provider?.name ?? 'none';

const later = (now: Date, ms: number) => new Date(now.getTime() + ms).toISOString();

/** One due claim, one step further. Returns what happened, or `lost` when another worker moved it. */
export async function workClaim<C extends Claim<unknown>, O extends { externalId: string }>(
  nano: Nano.ServerScope,
  claim: Stored<C>,
  s: OutboxWork<C, O>,
): Promise<Step> {
  return claim.state === 'queued' ? submit(nano, claim, s) : query(nano, claim, s);
}

async function save<C extends Claim<unknown>, O extends { externalId: string }>(
  nano: Nano.ServerScope,
  s: OutboxWork<C, O>,
  cur: Stored<C>,
  next: C,
  now: Date,
) {
  const saved = await moveClaim(s.jobs, cur, next);
  if (saved) await s.writeStatus(nano, saved, now);
  return saved;
}

async function submit<C extends Claim<unknown>, O extends { externalId: string }>(
  nano: Nano.ServerScope,
  claim: Stored<C>,
  s: OutboxWork<C, O>,
): Promise<Step> {
  const now = s.now();
  const at = now.toISOString();
  if (!s.provider) {
    if (claim.reason === s.waitingReason) return 'waiting';
    const next = { ...claim, reason: s.waitingReason, updated_at: at };
    return (await save(nano, s, claim, next, now)) ? 'waiting' : 'lost';
  }
  const order = await s.order(claim);
  const verdict = order
    ? ((await s.admit?.(claim)) ?? null)
    : 'the request can no longer be read; nothing was sent';
  if (verdict && typeof verdict === 'object') {
    const next_at = later(now, backoffMs(s.retryBaseMs, 1, s.random));
    if (claim.reason === verdict.wait && Date.parse(claim.next_at) > now.getTime())
      return 'waiting';
    const waiting = { ...claim, reason: verdict.wait, next_at, updated_at: at };
    return (await save(nano, s, claim, waiting, now)) ? 'waiting' : 'lost';
  }
  if (verdict || !order) {
    const failed = { ...claim, state: 'failed', reason: verdict, updated_at: at } as C;
    return (await save(nano, s, claim, failed, now)) ? 'failed' : 'lost';
  }
  // Written before the call: from here on, only a status query or a callback may settle it.
  const sending = await save(
    nano,
    s,
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
    answer = await counted(providerName(s, claim), claim.kind, s.provider.submit(order));
  } catch (err) {
    if ((err as { sent?: boolean }).sent !== false) {
      s.log.warn(
        { claim: claim._id, err: String(err) },
        'a provider call gave no answer; its outcome is left to the status query or callback',
      );
      return 'submitted';
    }
    answer = { kind: 'rejected', retryable: true, reason: String((err as Error).message) };
  }
  const done = s.now();
  const base: C = { ...sending, unknown: false, updated_at: done.toISOString() };
  if (answer.kind === 'accepted') {
    const next = { ...base, ...(answer.reference && { reference: answer.reference }) };
    await save(nano, s, sending, next, done);
    return 'submitted';
  }
  if (answer.kind === 'succeeded') {
    const next = settle(base, { state: 'succeeded', reference: answer.reference }, 'submit', done);
    if (next) await save(nano, s, sending, next, done);
    return 'succeeded';
  }
  if (answer.retryable && sending.attempts < s.maxAttempts) {
    const retry: C = {
      ...base,
      state: 'queued',
      reason: `retrying: ${answer.reason}`,
      next_at: later(done, backoffMs(s.retryBaseMs, sending.attempts, s.random)),
    };
    await save(nano, s, sending, retry, done);
    return 'retry';
  }
  await s.release?.(claim);
  await save(nano, s, sending, { ...base, state: 'failed', reason: answer.reason }, done);
  return 'failed';
}

async function query<C extends Claim<unknown>, O extends { externalId: string }>(
  nano: Nano.ServerScope,
  claim: Stored<C>,
  s: OutboxWork<C, O>,
): Promise<Step> {
  // Without a status query (Africa's Talking SMS), only callbacks settle a sent request.
  if (!s.provider?.query) return 'waiting';
  const answer = await counted(
    providerName(s, claim),
    `${claim.kind}_status`,
    s.provider.query({
      externalId: claim.external_id,
      reference: claim.reference,
      network: s.network(claim),
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
    if (!(await save(nano, s, claim, next, now))) return 'lost';
    if (answer.kind === 'failed') await s.release?.(claim);
    return answer.kind;
  }
  // Pending or unknown to the provider: ask again later, never send again. After as many
  // questions as attempts allowed, a person is asked to look (the claim is flagged).
  const queries = claim.queries + 1;
  const flag = queries >= s.maxAttempts;
  const next: C = {
    ...claim,
    queries,
    next_at: later(now, backoffMs(s.retryBaseMs, queries, s.random)),
    updated_at: now.toISOString(),
    ...(flag && {
      flagged: true,
      reason:
        answer.kind === 'not-found'
          ? 'the provider does not know this request; check before sending it again'
          : 'the provider has not settled this request; check with the provider',
    }),
  };
  return (await save(nano, s, claim, next, now)) ? 'pending' : 'lost';
}
