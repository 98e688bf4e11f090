import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import { RateLimited } from '../errors.js';

type Hook = (req: FastifyRequest, reply: FastifyReply) => Promise<void>;

/**
 * Limits on password guessing, per client IP and per user name, shared by login and signup:
 * `perMinute` attempts in each. The IP limit runs first, before the body is even parsed, so
 * floods of junk count too; the name limit runs once the body is valid. Behind a proxy, set
 * Fastify's trustProxy so the IP is the client's.
 *
 * Registers @fastify/rate-limit in the calling (encapsulated) context, with no global limit.
 */
export async function authRateLimits(
  app: FastifyInstance,
  perMinute: number,
): Promise<{ byIp: Hook; byName: Hook }> {
  await app.register(rateLimit, { global: false });
  const window = 60_000;
  const limitIp = app.createRateLimit({
    max: perMinute,
    timeWindow: window,
    keyGenerator: (req) => `ip:${req.ip}`,
  });
  const limitName = app.createRateLimit({
    max: perMinute,
    timeWindow: window,
    keyGenerator: (req) =>
      `name:${(req.body as { username?: string } | undefined)?.username ?? ''}`,
  });
  const hook =
    (limit: typeof limitIp): Hook =>
    async (req, reply) => {
      const res = await limit(req);
      if (!res.isAllowed && res.isExceeded) {
        reply.header('retry-after', res.ttlInSeconds);
        throw new RateLimited(res.ttlInSeconds);
      }
    };
  return { byIp: hook(limitIp), byName: hook(limitName) };
}
