import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * Conditional GET for the report routes. The ETag is a hash of the answer itself, so two
 * identical answers share it and any change in the data changes it; it is weak because the
 * body may go out compressed or not. A dashboard on a slow link sends it back in
 * If-None-Match and gets a bodiless 304 while nothing changed.
 */
export function etagOf(payload: string): string {
  return `W/"${createHash('sha256').update(payload).digest('base64url').slice(0, 32)}"`;
}

/** RFC 9110 weak comparison against each tag of If-None-Match (or `*`). */
export function matchesIfNoneMatch(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === '*') return true;
  const opaque = (tag: string) => tag.trim().replace(/^W\//, '');
  return header.split(',').some((tag) => opaque(tag) === opaque(etag));
}

/** Sends `body` as JSON (through the route's response schema) with ETag and Cache-Control, or 304. */
export function sendCached(
  req: FastifyRequest,
  reply: FastifyReply,
  body: unknown,
  maxAgeSec: number,
): FastifyReply {
  const payload = String(reply.serialize(body));
  const etag = etagOf(payload);
  reply
    .header('etag', etag)
    // private: each viewer sees their own scopes; must-revalidate: after max-age, ask (304).
    .header('cache-control', `private, max-age=${maxAgeSec}, must-revalidate`)
    .header('vary', 'Authorization');
  if (matchesIfNoneMatch(req.headers['if-none-match'], etag)) return reply.code(304).send();
  return reply.type('application/json; charset=utf-8').send(payload);
}
