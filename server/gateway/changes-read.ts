import type { FastifyRequest } from 'fastify';
import { readBody } from './body.js';
import type { UpstreamCall } from './context.js';
import type { UpstreamResponse } from './upstream.js';

/** A first answer bigger than this is left to the plain relay (it streams). */
const READ_CAP_BYTES = 1024 * 1024;

/** One read of a parked phone's feed (live-changes.ts), as CouchDB answered it. */
export interface Read {
  status: number;
  /** The answer as CouchDB wrote it; null when over the cap (not read). */
  body: Buffer | null;
  empty: boolean;
  lastSeq: unknown;
  /** Changes left after this answer (`pending`); null when not said. */
  pending: number | null;
  /** The rows as parsed; null when not read or not a feed. */
  results: unknown[] | null;
  /** The hub's stamp for the database when the read began. */
  stamp: number;
}

/**
 * The phone's `_changes` query read upstream as a normal feed, as its user (its method and
 * body, filters and style as it asked), held whole up to `cap` bytes. `stamp` is the
 * hub's stamp for the database, taken before the request goes.
 */
export async function readChanges(
  call: UpstreamCall,
  req: FastifyRequest,
  query: string,
  stamp: number,
  cap = READ_CAP_BYTES,
): Promise<Read> {
  const res: UpstreamResponse = await call.send({
    method: req.method,
    query,
    body: req.body as Buffer | undefined,
    clientHeaders: true,
  });
  let body: Buffer;
  try {
    body = await readBody(res.body, cap);
  } catch {
    res.body.destroy();
    const none = { body: null, empty: false, lastSeq: null, pending: null, results: null };
    return { status: res.status, ...none, stamp };
  }
  const unread = { status: res.status, body, empty: false, lastSeq: null, pending: null };
  const failed = { ...unread, results: null, stamp };
  if (res.status !== 200) return failed;
  let parsed: { results?: unknown[]; last_seq?: unknown; pending?: unknown };
  try {
    parsed = JSON.parse(body.toString('utf8')) as typeof parsed;
  } catch {
    return failed;
  }
  const results = Array.isArray(parsed.results) ? parsed.results : null;
  const empty = results !== null && results.length === 0;
  const pending = typeof parsed.pending === 'number' ? parsed.pending : null;
  return { status: 200, body, empty, lastSeq: parsed.last_seq, pending, results, stamp };
}
