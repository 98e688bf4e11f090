import { timingSafeEqual, createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { CallbackForbidden, CallbackUnknown } from '../errors.js';

/**
 * Providers that do not sign callbacks are authenticated by a secret in the callback path
 * and, optionally, the addresses they call from. Both checks run before the body is read.
 */
export function checkCallback(
  req: FastifyRequest,
  given: string,
  secret: string | undefined,
  allowed: string | undefined,
): void {
  const digest = (s: string) => createHash('sha256').update(s).digest();
  if (!secret || !timingSafeEqual(digest(given), digest(secret))) throw new CallbackUnknown();
  if (allowed) {
    const ips = allowed
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    if (!ips.includes(req.ip)) throw new CallbackForbidden();
  }
}
