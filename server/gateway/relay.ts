import type { FastifyReply, FastifyRequest } from 'fastify';
import { readBody } from './body.js';
import {
  compressed,
  compressSync,
  isCompressible,
  MIN_COMPRESS_BYTES,
  negotiate,
  type Encoding,
} from './compress.js';
import { syncErrors } from './errors.js';
import type { UpstreamResponse } from './upstream.js';
import { couchInputCrash } from '../couch/input-crash.js';

/**
 * Response headers worth their bytes to a phone. CouchDB's Server, X-Couch-Request-ID,
 * X-CouchDB-Body-Time, Cache-Control and Location (which names the internal CouchDB URL)
 * are dropped: each costs every response tens of bytes on a metered link.
 */
const PASS_HEADERS = ['content-type', 'etag', 'content-length', 'content-range', 'accept-ranges'];

/**
 * Answers of known length up to this size are read whole and compressed in one go, so they
 * go out with a Content-Length instead of chunked framing (and only when compressing saves
 * bytes). Longer or open-ended answers — feeds, CouchDB's chunked `_bulk_get` — stream.
 */
const WHOLE_BELOW_BYTES = 64 * 1024;

/**
 * Sends CouchDB's answer to the phone: status, the useful headers, the body compressed by
 * Accept-Encoding when it is compressible and not tiny. Large and open-ended bodies are
 * never held in memory; when the phone disconnects Fastify destroys the stream we hand it,
 * and that destroys the upstream response and its socket.
 */
export async function relay(
  req: FastifyRequest,
  reply: FastifyReply,
  res: UpstreamResponse,
): Promise<FastifyReply> {
  const length = Number(res.headers['content-length'] ?? NaN);
  const whole = length <= WHOLE_BELOW_BYTES ? await readBody(res.body, WHOLE_BELOW_BYTES) : null;
  if (res.status === 500 && whole) refuseInputCrash(whole);
  reply.code(res.status);
  for (const name of PASS_HEADERS) {
    const value = res.headers[name];
    if (value !== undefined) reply.header(name, value);
  }
  if (req.method === 'HEAD' || res.status === 204 || res.status === 304) {
    res.body.resume();
    return reply.send();
  }
  const encoding = isCompressible(res.headers['content-type'])
    ? negotiate(req.headers['accept-encoding'])
    : null;
  if (whole) return sendBuffer(reply, whole, encoding);
  if (!encoding) return reply.send(res.body);
  reply.removeHeader('content-length');
  reply.header('content-encoding', encoding);
  return reply.send(
    compressed(res.body, encoding, (err) =>
      req.log.debug({ err: err.message }, 'sync stream ended early'),
    ),
  );
}

/** CouchDB's 500 for a request it could not read (input-crash.ts): PouchDB retries a 500 for
 * ever, so the phone gets the 400 the embedded store answers. Other 500s pass as they are. */
function refuseInputCrash(body: Buffer): void {
  let answer: unknown;
  try {
    answer = JSON.parse(body.toString('utf8'));
  } catch {
    return;
  }
  const why = couchInputCrash(answer);
  if (why) throw syncErrors.badBody(why);
}

/** A whole answer already in memory, compressed when that saves bytes. */
export function sendBuffer(
  reply: FastifyReply,
  body: Buffer,
  encoding: Encoding | null,
): FastifyReply {
  if (encoding && body.length >= MIN_COMPRESS_BYTES) {
    const packed = compressSync(body, encoding);
    // The header costs ~25 bytes; below that saving the plain body is cheaper.
    if (packed.length + 25 < body.length) {
      reply.header('content-encoding', encoding);
      return reply.header('content-length', packed.length).send(packed);
    }
  }
  return reply.header('content-length', body.length).send(body);
}
