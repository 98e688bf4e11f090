import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { errors, toCouchError } from '../errors.js';
import { jsonObject, params, requireJsonType } from '../http.js';
import { requireMember } from '../access.js';
import { formatSeq, parseSeq } from '../seq.js';
import type { Handle } from '../registry.js';
import { changesFilter } from '../changes-filter.js';
import { dbName } from './common.js';

type Feed = 'normal' | 'longpoll' | 'continuous' | 'eventsource';
type Change = {
  id: string;
  seq: number | string;
  changes: { rev: string }[];
  deleted?: boolean;
  doc?: unknown;
};

const DEFAULT_TIMEOUT_MS = 60_000;

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
  const asked = params.str(req, 'feed') ?? 'normal';
  // `live` is CouchDB's sugar for continuous.
  const feed = (asked === 'live' ? 'continuous' : asked) as Feed;
  if (!['normal', 'longpoll', 'continuous', 'eventsource'].includes(feed)) {
    throw errors.badRequest(
      'Supported `feed` types: normal, continuous, live, longpoll, eventsource',
    );
  }
  if (req.method === 'POST') requireJsonType(req);
  const body =
    req.method === 'POST' && req.body && (req.body as Buffer).length > 0 ? jsonObject(req) : {};
  const seqInterval = params.str(req, 'seq_interval');
  if (seqInterval !== undefined && !(/^\d+$/.test(seqInterval) && Number(seqInterval) > 0)) {
    throw errors.badRequest('invalid_seq_interval');
  }
  const style = params.str(req, 'style') ?? 'main_only';
  if (style !== 'main_only' && style !== 'all_docs')
    throw errors.badRequest('style must be main_only or all_docs');
  const limit = params.int(req, 'limit');
  const heartbeat = heartbeatMs(params.str(req, 'heartbeat'));
  const timeout = params.int(req, 'timeout') ?? DEFAULT_TIMEOUT_MS;

  const h = await app.store.registry.acquire(name);
  let released = false;
  const release = () => {
    if (!released) h.release();
    released = true;
  };
  try {
    const base: Record<string, unknown> = {
      include_docs: params.bool(req, 'include_docs'),
      conflicts: params.bool(req, 'conflicts'),
      attachments: params.bool(req, 'attachments'),
      descending: params.bool(req, 'descending'),
      style,
      return_docs: true,
      ...(await changesFilter(app, req, h, body)),
    };
    // A browser's EventSource reconnects with Last-Event-ID: it wins over `since`.
    const lastEventId = feed === 'eventsource' ? req.headers['last-event-id'] : undefined;
    const sinceParam =
      (typeof lastEventId === 'string' ? lastEventId : undefined) ??
      params.str(req, 'since') ??
      (body.since as string | undefined);
    const info = await h.db.info();
    const offset = h.record.seq_offset;
    let since: number;
    if (sinceParam === 'now') since = Number(info.update_seq);
    else {
      const parsed = parseSeq(sinceParam, offset);
      if (parsed === null)
        throw errors.badRequest(`Malformed sequence supplied in 'since' parameter.`);
      since = parsed;
    }
    const fmt = (c: Change) => ({ ...c, seq: formatSeq(Number(c.seq), offset) });
    const updateSeq = Number(info.update_seq);

    if (feed === 'normal' || feed === 'longpoll') {
      const first = await h.db.changes({
        ...base,
        since,
        ...(limit !== undefined ? { limit } : {}),
      } as never);
      const results = first.results as unknown as Change[];
      if (feed === 'normal' || results.length > 0 || base.descending) {
        release();
        const last = Number(first.last_seq);
        const every = seqInterval === undefined ? 1 : Number(seqInterval);
        return reply.send({
          // seq_interval: only every Nth row (and the last) carries its seq, as CouchDB's.
          results: results.map((c, i) => {
            const row = fmt(c);
            const keep = (i + 1) % every === 0 || i === results.length - 1;
            return keep ? row : { ...row, seq: null };
          }),
          last_seq: formatSeq(last, offset),
          pending: Math.max(0, updateSeq - last),
        });
      }
      return longpoll(req, reply, h, base, since, limit, timeout, heartbeat, fmt, release);
    }
    return stream(req, reply, h, feed, base, since, limit, timeout, heartbeat, fmt, release);
  } catch (err) {
    release();
    throw toCouchError(err);
  }
}

function startStream(reply: FastifyReply, contentType: string): void {
  reply.hijack();
  reply.raw.writeHead(200, {
    'content-type': contentType,
    'cache-control': 'must-revalidate',
    'transfer-encoding': 'chunked',
  });
}

function longpoll(
  req: FastifyRequest,
  reply: FastifyReply,
  h: Handle,
  base: Record<string, unknown>,
  since: number,
  limit: number | undefined,
  timeout: number,
  heartbeat: number | undefined,
  fmt: (c: Change) => unknown,
  release: () => void,
) {
  startStream(reply, 'application/json');
  const collected: Change[] = [];
  let done = false;
  const live = h.db.changes({
    ...base,
    since,
    live: true,
    ...(limit !== undefined ? { limit } : {}),
  } as never);
  const finish = (lastSeq: number) => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    clearInterval(beat);
    live.cancel();
    release();
    if (!reply.raw.writableEnded) {
      reply.raw.end(
        JSON.stringify({
          results: collected.map(fmt),
          last_seq: (fmt({ seq: lastSeq } as Change) as Change).seq,
          pending: 0,
        }) + '\n',
      );
    }
  };
  live.on('change', (c: unknown) => {
    collected.push(c as Change);
    // Gather whatever else is already there, then answer.
    setImmediate(() => finish(Number((collected[collected.length - 1] as Change).seq)));
  });
  live.on('error', () => finish(since));
  const timer = setTimeout(() => finish(since), timeout);
  const beat = heartbeat ? setInterval(() => reply.raw.write('\n'), heartbeat) : undefined;
  req.raw.on('close', () => finish(since));
  h.onClose(() => finish(since));
  return reply;
}

function stream(
  req: FastifyRequest,
  reply: FastifyReply,
  h: Handle,
  feed: 'continuous' | 'eventsource',
  base: Record<string, unknown>,
  since: number,
  limit: number | undefined,
  timeout: number,
  heartbeat: number | undefined,
  fmt: (c: Change) => unknown,
  release: () => void,
) {
  startStream(reply, feed === 'eventsource' ? 'text/event-stream' : 'application/json');
  let lastSeq = since;
  let sent = 0;
  let done = false;
  const write = (text: string) => {
    if (!reply.raw.writableEnded) reply.raw.write(text);
  };
  const live = h.db.changes({ ...base, since, live: true } as never);
  let idle: NodeJS.Timeout | undefined;
  const armTimeout = () => {
    clearTimeout(idle);
    idle = setTimeout(() => finish(), timeout);
  };
  const finish = () => {
    if (done) return;
    done = true;
    clearTimeout(idle);
    clearInterval(beat);
    live.cancel();
    release();
    if (feed === 'continuous')
      write(
        JSON.stringify({ last_seq: (fmt({ seq: lastSeq } as Change) as Change).seq, pending: 0 }) +
          '\n',
      );
    if (!reply.raw.writableEnded) reply.raw.end();
  };
  live.on('change', (c: unknown) => {
    if (done) return;
    const change = fmt(c as Change) as Change;
    lastSeq = Number((c as Change).seq);
    if (feed === 'continuous') write(JSON.stringify(change) + '\n');
    else write(`data: ${JSON.stringify(change)}\nid: ${JSON.stringify(change.seq)}\n\n`);
    sent++;
    if (limit !== undefined && sent >= limit) finish();
    else if (!heartbeat) armTimeout();
  });
  live.on('error', () => finish());
  // With a heartbeat the feed stays open until the client leaves; without, it ends after `timeout` of silence.
  const beat = heartbeat
    ? setInterval(
        () => write(feed === 'continuous' ? '\n' : 'event: heartbeat\ndata: \n\n'),
        heartbeat,
      )
    : undefined;
  if (!heartbeat) armTimeout();
  req.raw.on('close', finish);
  h.onClose(finish);
  return reply;
}

/** `heartbeat`: `true` for the default period, or a positive number of milliseconds. */
function heartbeatMs(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (value === 'true') return DEFAULT_TIMEOUT_MS;
  if (!/^-?\d+$/.test(value)) {
    throw errors.badRequest(
      'Invalid heartbeat value. Expecting a positive integer value (in milliseconds).',
    );
  }
  const ms = Number(value);
  if (ms <= 0)
    throw errors.badRequest('The heartbeat value should be a positive integer (in milliseconds).');
  return ms;
}
