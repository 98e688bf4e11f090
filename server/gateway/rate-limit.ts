import type { FastifyInstance } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import { syncErrors } from './errors.js';

/**
 * SYNC_RATE_LIMIT_PER_MIN requests a minute per user, across all their devices. It runs
 * after the token check (same onRequest chain), so the key is the verified user name, not
 * an IP that a whole district may share behind one carrier NAT. Only a 429 carries the
 * limit headers: three X-RateLimit-* headers on every answer would cost a phone ~80 bytes
 * per request. The counters live in this process; several gateway instances need a shared
 * store (@fastify/rate-limit's redis option) to enforce one limit.
 */
export async function registerSyncRateLimit(
  app: FastifyInstance,
  perMinute: number,
): Promise<void> {
  await app.register(rateLimit, {
    global: true,
    hook: 'onRequest',
    max: perMinute,
    timeWindow: 60_000,
    keyGenerator: (req) => `sync:${req.sawaUser?.name ?? req.ip}`,
    addHeadersOnExceeding: {
      'x-ratelimit-limit': false,
      'x-ratelimit-remaining': false,
      'x-ratelimit-reset': false,
    },
    addHeaders: {
      'x-ratelimit-limit': false,
      'x-ratelimit-remaining': false,
      'x-ratelimit-reset': false,
      'retry-after': true,
    },
    errorResponseBuilder: (_req, ctx) =>
      syncErrors.rateLimited(perMinute, ctx.after, Math.max(1, Math.ceil(ctx.ttl / 1000))),
  });
}
