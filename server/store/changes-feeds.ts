import type { FastifyReply, FastifyRequest } from 'fastify';
import type { CouchError } from './errors.js';
import type { Handle } from './registry.js';
import type { FilterFailure } from './changes-filter.js';

export type Change = {
  id: string;
  seq: number | string;
  changes: { rev: string }[];
  deleted?: boolean;
  doc?: unknown;
};

/** What a live feed needs: the request, the open database, PouchDB's options and how to answer. */
export interface LiveFeed {
  req: FastifyRequest;
  reply: FastifyReply;
  h: Handle;
  /** PouchDB changes options (filters included) */
  base: Record<string, unknown>;
  since: number;
  limit: number | undefined;
  timeout: number;
  heartbeat: number | undefined;
  /** a row as the client sees it (opaque seq) */
  fmt: (c: Change) => Change;
  /** releases the database handle; safe to call twice */
  release: () => void;
  /** told when a design-document filter throws: CouchDB then fails the request */
  failure: FilterFailure;
}

function startStream(reply: FastifyReply, contentType: string): void {
  reply.hijack();
  reply.raw.writeHead(200, {
    'content-type': contentType,
    // CouchDB 3.5's: an event stream is never cached, a JSON feed revalidated.
    'cache-control': contentType === 'text/event-stream' ? 'no-cache' : 'must-revalidate',
    'transfer-encoding': 'chunked',
  });
  // Headers now, not with the first row: a proxy (the gateway) answers its phone at once.
  reply.raw.flushHeaders();
}

/** Ends a feed once: its timers, the PouchDB listener and the database handle; false if already ended. */
function closer(
  f: LiveFeed,
  live: { cancel(): void },
  timers: () => Array<NodeJS.Timeout | undefined>,
) {
  let closed = false;
  return (): boolean => {
    if (closed) return false;
    closed = true;
    for (const timer of timers()) clearTimeout(timer);
    live.cancel();
    f.release();
    return true;
  };
}

/** chttpd's send_chunked_error: once the status is out, the error is the last chunk. */
const errorLine = (e: CouchError) => JSON.stringify(e.toJSON()) + '\n';

/**
 * `feed=longpoll` with nothing new yet: CouchDB's shape, `{"results":[` at
 * once, newlines as heartbeats, then the rows and `last_seq` when the first
 * change (or, without a heartbeat, the timeout) comes.
 */
export function longpoll(f: LiveFeed) {
  const { reply } = f;
  startStream(reply, 'application/json');
  reply.raw.write('{"results":[\n');
  const collected: Change[] = [];
  const live = f.h.db.changes({
    ...f.base,
    since: f.since,
    live: true,
    ...(f.limit !== undefined ? { limit: f.limit } : {}),
  } as never);
  const close = closer(f, live, () => [timer, beat]);
  const finish = (lastSeq: number, error?: CouchError) => {
    if (!close() || reply.raw.writableEnded) return;
    if (error) return void reply.raw.end(errorLine(error));
    const rows = collected.map((c) => JSON.stringify(f.fmt(c))).join(',\n');
    const last = JSON.stringify(f.fmt({ seq: lastSeq } as Change).seq);
    reply.raw.end(`${rows}${rows ? '\n' : ''}],\n"last_seq":${last},"pending":0}\n`);
  };
  live.on('change', (c: unknown) => {
    collected.push(c as Change);
    // Gather whatever else is already there, then answer.
    setImmediate(() => finish(Number((collected[collected.length - 1] as Change).seq)));
  });
  live.on('error', () => finish(f.since));
  // As in CouchDB, a heartbeat overrides the timeout: the feed waits for a change.
  const timer = f.heartbeat ? undefined : setTimeout(() => finish(f.since), f.timeout);
  const beat = f.heartbeat ? setInterval(() => reply.raw.write('\n'), f.heartbeat) : undefined;
  f.failure.onFail((e) => finish(f.since, e));
  f.req.raw.on('close', () => finish(f.since));
  f.h.onClose(() => finish(f.since));
  return reply;
}

/** `feed=continuous` (a JSON row per line) and `feed=eventsource` (server-sent events). */
export function stream(f: LiveFeed & { feed: 'continuous' | 'eventsource' }) {
  const { reply, feed } = f;
  startStream(reply, feed === 'eventsource' ? 'text/event-stream' : 'application/json');
  let lastSeq = f.since;
  let sent = 0;
  const write = (text: string) => {
    if (!reply.raw.writableEnded) reply.raw.write(text);
  };
  const live = f.h.db.changes({ ...f.base, since: f.since, live: true } as never);
  let idle: NodeJS.Timeout | undefined;
  const armTimeout = () => {
    clearTimeout(idle);
    idle = setTimeout(() => finish(), f.timeout);
  };
  const close = closer(f, live, () => [idle, beat]);
  let done = false;
  const finish = (error?: CouchError) => {
    if (!close()) return;
    done = true;
    if (error) write(errorLine(error));
    else if (feed === 'continuous')
      write(JSON.stringify({ last_seq: f.fmt({ seq: lastSeq } as Change).seq, pending: 0 }) + '\n');
    if (!reply.raw.writableEnded) reply.raw.end();
  };
  live.on('change', (c: unknown) => {
    if (done) return;
    const change = f.fmt(c as Change);
    lastSeq = Number((c as Change).seq);
    if (feed === 'continuous') write(JSON.stringify(change) + '\n');
    else write(`data: ${JSON.stringify(change)}\nid: ${JSON.stringify(change.seq)}\n\n`);
    sent++;
    if (f.limit !== undefined && sent >= f.limit) finish();
    else if (!f.heartbeat) armTimeout();
  });
  live.on('error', () => finish());
  // With a heartbeat the feed stays open until the client leaves; without, it ends after `timeout` of silence.
  const beat = f.heartbeat
    ? setInterval(
        () => write(feed === 'continuous' ? '\n' : 'event: heartbeat\ndata: \n\n'),
        f.heartbeat,
      )
    : undefined;
  if (!f.heartbeat) armTimeout();
  f.failure.onFail((e) => finish(e));
  f.req.raw.on('close', () => finish());
  f.h.onClose(() => finish());
  return reply;
}
