import type { FastifyReply, FastifyRequest } from 'fastify';
import { CouchError } from '../errors.js';

/**
 * An attachment body as CouchDB 3.5 sends it: an ETag from the digest (no
 * Content-MD5: the digest is not necessarily the md5 of these bytes), `Accept-Ranges: bytes` and a single `Range` answered with 206,
 * HEAD with the length and no body.
 */
export function sendBytes(
  req: FastifyRequest,
  reply: FastifyReply,
  data: Buffer,
  meta: { contentType: string; etag: string },
) {
  void reply
    .header('content-type', meta.contentType)
    .header('etag', meta.etag)
    .header('accept-ranges', 'bytes');
  const range = parseRange(req.headers.range, data.length);
  if (range) {
    const [from, to] = range;
    void reply.code(206).header('content-range', `bytes ${from}-${to}/${data.length}`);
    return send(req, reply, data.subarray(from, to + 1));
  }
  return send(req, reply, data);
}

function send(req: FastifyRequest, reply: FastifyReply, body: Buffer) {
  void reply.header('content-length', String(body.length));
  // Node writes no body for HEAD; the length still tells what GET would send.
  return reply.send(req.method === 'HEAD' ? '' : body);
}

/** One `bytes=from-to` range (open ends allowed); several ranges or none: the whole body. */
function parseRange(header: string | undefined, length: number): [number, number] | null {
  const m = header ? /^bytes=(\d*)-(\d*)$/.exec(header.trim()) : null;
  if (!m || (m[1] === '' && m[2] === '')) return null;
  let from: number;
  let to: number;
  if (m[1] === '') {
    from = Math.max(0, length - Number(m[2]));
    to = length - 1;
  } else {
    from = Number(m[1]);
    to = m[2] === '' ? length - 1 : Math.min(Number(m[2]), length - 1);
  }
  if (from === 0 && to === length - 1) return null;
  if (to < from || from >= length) {
    throw new CouchError(416, 'requested_range_not_satisfiable', 'Requested range not satisfiable');
  }
  return [from, to];
}
