import type { FastifyReply, FastifyRequest } from 'fastify';
import { compressed, isCompressible, MIN_COMPRESS_BYTES, negotiate } from './compress.js';
import type { UpstreamResponse } from './upstream.js';

/**
 * Response headers worth their bytes to a phone. CouchDB's Server, X-Couch-Request-ID,
 * X-CouchDB-Body-Time, Cache-Control and Location (which names the internal CouchDB URL)
 * are dropped: each costs every response tens of bytes on a metered link.
 */
const PASS_HEADERS = ['content-type', 'etag', 'content-length', 'content-range', 'accept-ranges'];

/**
 * Streams CouchDB's answer to the phone: status, the useful headers, the body compressed
 * by Accept-Encoding when it is compressible and not tiny. Nothing is buffered; when the
 * phone disconnects Fastify destroys the stream we hand it, and that destroys the upstream
 * response and its socket.
 */
export function relay(req: FastifyRequest, reply: FastifyReply, res: UpstreamResponse): FastifyReply {
  reply.code(res.status);
  for (const name of PASS_HEADERS) {
    const value = res.headers[name];
    if (value !== undefined) reply.header(name, value);
  }
  if (req.method === 'HEAD' || res.status === 204 || res.status === 304) {
    res.body.resume();
    return reply.send();
  }
  const length = Number(res.headers['content-length']);
  const encoding =
    isCompressible(res.headers['content-type']) && !(length < MIN_COMPRESS_BYTES)
      ? negotiate(req.headers['accept-encoding'])
      : null;
  if (!encoding) return reply.send(res.body);
  reply.removeHeader('content-length');
  reply.header('content-encoding', encoding);
  return reply.send(
    compressed(res.body, encoding, (err) =>
      req.log.debug({ err: err.message }, 'sync stream ended early'),
    ),
  );
}
