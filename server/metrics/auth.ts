import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * `/metrics` tells whoever reads it who syncs, how much and from which device: it is for
 * the ops network's Prometheus only, behind a static bearer token (Prometheus sends one with
 * `authorization: { credentials: … }`). Without METRICS_TOKEN the endpoint does not exist.
 */
export function metricsAuth(token: string | undefined) {
  const expected = token ? digest(token) : null;
  return async function checkMetricsToken(req: FastifyRequest, reply: FastifyReply) {
    if (!expected)
      return reply.code(404).send({
        statusCode: 404,
        error: 'Not Found',
        message: 'metrics are off: set METRICS_TOKEN',
      });
    const m = /^Bearer +(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    // Hashing first gives equal lengths, so the comparison leaks nothing about the token.
    if (!m || !timingSafeEqual(digest(m[1] as string), expected)) {
      reply.header('www-authenticate', 'Bearer realm="metrics"');
      return reply.code(401).send({
        statusCode: 401,
        error: 'Unauthorized',
        message: 'a valid metrics token is required',
      });
    }
  };
}

function digest(value: string): Uint8Array {
  return new Uint8Array(createHash('sha256').update(value).digest());
}
