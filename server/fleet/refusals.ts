import type { FastifyRequest } from 'fastify';

/**
 * Documents of one request the gateway refused under the sync rules. The gateway notes the
 * count here beside its metrics counter; the usage meter (usage.ts) reads it once the answer
 * is sent, so the gateway knows nothing of how refusals are kept.
 */
const refused = new WeakMap<FastifyRequest, number>();

export function noteRefused(req: FastifyRequest, n: number): void {
  if (n > 0) refused.set(req, (refused.get(req) ?? 0) + n);
}

export function refusedIn(req: FastifyRequest): number {
  return refused.get(req) ?? 0;
}
