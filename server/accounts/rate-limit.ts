import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import { RateLimited } from '../errors.js';
import type { LoginThrottle } from './login-throttle.js';

type Hook = (req: FastifyRequest, reply: FastifyReply) => Promise<void>;

/** Answers that tell a guesser the password was wrong: they count against name and address. */
const GUESS_FAILURES = new Set(['SAWA_BAD_CREDENTIALS', 'SAWA_USERNAME_TAKEN']);

export interface AuthLimits {
  /** onRequest: `perMinute` attempts per client address, before the body is even parsed. */
  byIp: Hook;
  /** preHandler: refuses the body's username from an address the throttle has blocked for it. */
  byNameAndIp: Hook;
  /** The same for a name known otherwise (the signed-in user's). */
  byName(req: FastifyRequest, reply: FastifyReply, name: string): Promise<void>;
  /** Runs a password check for `name`, counting a wrong password against it and the address. */
  track<T>(req: FastifyRequest, name: string, check: () => Promise<T>): Promise<T>;
}

function limited(reply: FastifyReply, seconds: number): Error {
  reply.header('retry-after', seconds);
  return new RateLimited(seconds);
}

/**
 * Limits on password guessing shared by login, signup and password change. Per address, every
 * attempt counts (junk too); per name and address, wrong passwords count, with growing blocks
 * (login-throttle.ts). No limit is per name alone: that would let anyone lock a user out.
 * `req.ip` is the client's only behind a proxy named in TRUST_PROXY.
 *
 * Registers @fastify/rate-limit in the calling (encapsulated) context, with no global limit.
 */
export async function authRateLimits(
  app: FastifyInstance,
  perMinute: number,
  throttle: LoginThrottle,
): Promise<AuthLimits> {
  await app.register(rateLimit, { global: false });
  const limitIp = app.createRateLimit({
    max: perMinute,
    timeWindow: 60_000,
    keyGenerator: (req) => `ip:${req.ip}`,
  });
  // Fastify calls hooks with `this` bound to itself: these close over their state instead.
  const byName = async (req: FastifyRequest, reply: FastifyReply, name: string) => {
    const wait = throttle.wait(name, req.ip);
    if (wait > 0) throw limited(reply, wait);
  };
  return {
    byName,
    async byIp(req, reply) {
      const res = await limitIp(req);
      if (!res.isAllowed && res.isExceeded) throw limited(reply, res.ttlInSeconds);
    },
    async byNameAndIp(req, reply) {
      const name = (req.body as { username?: unknown } | undefined)?.username;
      if (typeof name === 'string') await byName(req, reply, name);
    },
    async track(req, name, check) {
      try {
        const result = await check();
        throttle.succeeded(name, req.ip);
        return result;
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        if (typeof code === 'string' && GUESS_FAILURES.has(code)) throttle.failed(name, req.ip);
        throw err;
      }
    },
  };
}
