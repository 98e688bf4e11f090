import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { errors, toCouchError } from '../errors.js';
import { jsonObject, params, requireJsonType } from '../http.js';
import { requireMember } from '../access.js';
import { formatSeq, parseSeq } from '../seq.js';
import { FilterFailure, changesFilter } from '../changes-filter.js';
import { changesQuery, type ChangesQuery } from '../changes-query.js';
import { longpoll, stream, type Change } from '../changes-feeds.js';
import { dbName } from './common.js';

/** `_changes` in all four feed styles, with CouchDB's filters, heartbeat and timeout. */
export default async function changesRoutes(app: FastifyInstance): Promise<void> {
  app.route({
    method: ['GET', 'POST'],
    url: '/:db/_changes',
    handler: (req, reply) => changes(app, req, reply),
  });
}

async function changes(app: FastifyInstance, req: FastifyRequest, reply: FastifyReply) {
  const name = dbName(req);
  requireMember(req, app.store.registry.record(name));
  const q = changesQuery(req);
  if (req.method === 'POST') requireJsonType(req);
  const body =
    req.method === 'POST' && req.body && (req.body as Buffer).length > 0 ? jsonObject(req) : {};
  const h = await app.store.registry.acquire(name);
  const failure = new FilterFailure();
  let released = false;
  const release = () => {
    if (!released) {
      failure.end();
      h.release();
    }
    released = true;
  };
  try {
    const base: Record<string, unknown> = {
      include_docs: params.bool(req, 'include_docs'),
      conflicts: params.bool(req, 'conflicts'),
      attachments: params.bool(req, 'attachments'),
      descending: params.bool(req, 'descending'),
      style: q.style,
      return_docs: true,
      ...(await changesFilter(req, h, body, failure)),
    };
    const info = await h.db.info();
    const offset = h.record.seq_offset;
    const since = sinceOf(req, q, body, Number(info.update_seq), offset);
    const fmt = (c: Change) => ({ ...c, seq: formatSeq(Number(c.seq), offset) });
    if (q.feed === 'continuous' || q.feed === 'eventsource') {
      return stream({ req, reply, h, base, since, ...q, fmt, release, failure, feed: q.feed });
    }
    const first = await h.db.changes({
      ...base,
      since,
      ...(q.limit !== undefined ? { limit: q.limit } : {}),
    } as never);
    if (failure.error) throw failure.error;
    const results = first.results as unknown as Change[];
    if (q.feed === 'longpoll' && results.length === 0 && !base.descending) {
      return longpoll({ req, reply, h, base, since, ...q, fmt, release, failure });
    }
    release();
    const last = Number(first.last_seq);
    return reply.send({
      // seq_interval: only every Nth row (and the last) carries its seq, as CouchDB's.
      results: results.map((c, i) => {
        const row = fmt(c);
        const keep = (i + 1) % q.every === 0 || i === results.length - 1;
        return keep ? row : { ...row, seq: null };
      }),
      last_seq: formatSeq(last, offset),
      pending: Math.max(0, Number(info.update_seq) - last),
    });
  } catch (err) {
    release();
    throw toCouchError(err);
  }
}

/** Where the feed starts: Last-Event-ID (an EventSource reconnecting), `since`, or `now`. */
function sinceOf(
  req: FastifyRequest,
  q: ChangesQuery,
  body: Record<string, unknown>,
  updateSeq: number,
  offset: number,
): number {
  const lastEventId = q.feed === 'eventsource' ? req.headers['last-event-id'] : undefined;
  const value =
    (typeof lastEventId === 'string' ? lastEventId : undefined) ??
    params.str(req, 'since') ??
    (body.since as string | undefined);
  if (value === 'now') return updateSeq;
  const parsed = parseSeq(value, offset);
  if (parsed === null) throw errors.badRequest(`Malformed sequence supplied in 'since' parameter.`);
  return parsed;
}
