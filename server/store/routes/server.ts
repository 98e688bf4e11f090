import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { errors } from '../errors.js';
import { params } from '../http.js';
import { requireServerAdmin } from '../access.js';

/** The CouchDB release whose answers the store follows (docs/store.md lists where it differs). */
export const COUCHDB_VERSION = '3.5.0';

/** Server-level endpoints: welcome, `_up`, `_uuids`, `_all_dbs`, `_db_updates`. */
export default async function serverRoutes(app: FastifyInstance): Promise<void> {
  const { registry, uuids, opts } = app.store;

  app.get('/', async () => ({
    couchdb: 'Welcome',
    version: COUCHDB_VERSION,
    git_sha: 'sawa',
    uuid: registry.serverUuid,
    // Only what the store really offers: no partitions, resharding, per-document access or replicator jobs.
    features: ['pluggable-storage-engines'],
    vendor: { name: 'Sawa embedded store', version: opts.version },
  }));

  app.get('/_up', async () => ({ status: 'ok', seeds: {} }));

  app.get('/_uuids', async (req, reply) => {
    const count = params.int(req, 'count', { min: 1 }) ?? 1;
    if (count > 1000) throw errors.badRequest('count parameter too large');
    return reply
      .header('cache-control', 'must-revalidate, no-cache')
      .header('pragma', 'no-cache')
      .send({ uuids: Array.from({ length: count }, () => uuids.next()) });
  });

  app.get('/_all_dbs', async (req) => {
    requireServerAdmin(req);
    let names = registry.list();
    if (params.bool(req, 'descending')) names = names.reverse();
    const start = params.json(req, 'startkey') ?? params.json(req, 'start_key');
    const end = params.json(req, 'endkey') ?? params.json(req, 'end_key');
    const desc = params.bool(req, 'descending');
    if (typeof start === 'string') names = names.filter((n) => (desc ? n <= start : n >= start));
    if (typeof end === 'string') names = names.filter((n) => (desc ? n >= end : n <= end));
    const skip = params.int(req, 'skip') ?? 0;
    const limit = params.int(req, 'limit');
    return names.slice(skip, limit === undefined ? undefined : skip + limit);
  });

  app.get('/_db_updates', (req, reply) => dbUpdates(app, req, reply));
  app.post('/_db_updates', (req, reply) => dbUpdates(app, req, reply));
}

async function dbUpdates(app: FastifyInstance, req: FastifyRequest, reply: FastifyReply) {
  requireServerAdmin(req);
  const feed = params.str(req, 'feed') ?? 'normal';
  if (!['normal', 'longpoll', 'continuous', 'eventsource'].includes(feed)) {
    throw errors.badRequest(
      `Supported feeds are normal, longpoll, continuous and eventsource; got ${feed}`,
    );
  }
  const updates = app.store.registry.updates;
  await updates.settle();
  const sinceParam = params.str(req, 'since') ?? '0';
  const info = await updates.db.info();
  const since =
    sinceParam === 'now' ? Number(info.update_seq) : Number(/^\d+/.exec(sinceParam)?.[0] ?? NaN);
  if (!Number.isFinite(since))
    throw errors.badRequest(`Malformed sequence supplied in 'since' parameter.`);
  const limit = params.int(req, 'limit');
  const timeout = params.int(req, 'timeout') ?? 60_000;
  const heartbeat = params.int(req, 'heartbeat', { min: 1 });
  const row = (c: { id: string; seq: number | string; doc?: Record<string, unknown> }) => ({
    db_name: (c.doc?.name as string | undefined) ?? c.id.replace(/^db:/, ''),
    type: (c.doc?.type as string) ?? 'updated',
    seq: `${c.seq}-sawa`,
  });
  const first = await updates.db.changes({
    since,
    include_docs: true,
    ...(limit !== undefined ? { limit } : {}),
  } as never);
  if (feed === 'normal' || (feed === 'longpoll' && first.results.length > 0)) {
    return reply.send({
      results: first.results.map((c) => row(c as never)),
      last_seq: `${first.last_seq}-sawa`,
    });
  }
  reply.hijack();
  reply.raw.writeHead(200, {
    'content-type': feed === 'eventsource' ? 'text/event-stream' : 'application/json',
  });
  // Headers now, not with the first update: a follower knows at once that it is listening.
  reply.raw.flushHeaders();
  let done = false;
  let last = Number(first.last_seq);
  const live = updates.db.changes({ since: last, live: true, include_docs: true } as never);
  // The store shutting down ends the feed, as CouchDB's does.
  const unregister = app.store.registry.onShutdown(() => finish());
  const finish = () => {
    if (done) return;
    done = true;
    unregister();
    clearTimeout(timer);
    clearInterval(beat);
    live.cancel();
    if (reply.raw.writableEnded) return;
    if (feed === 'longpoll')
      reply.raw.end(
        JSON.stringify({ results: collected.map(row), last_seq: `${last}-sawa` }) + '\n',
      );
    else
      reply.raw.end(
        feed === 'continuous' ? JSON.stringify({ last_seq: `${last}-sawa` }) + '\n' : '',
      );
  };
  const collected: Array<{ id: string; seq: number; doc?: Record<string, unknown> }> = [];
  if (feed !== 'longpoll') for (const c of first.results) emit(c as never);
  function emit(c: { id: string; seq: number; doc?: Record<string, unknown> }) {
    last = Number(c.seq);
    if (feed === 'continuous') reply.raw.write(JSON.stringify(row(c)) + '\n');
    else reply.raw.write(`data: ${JSON.stringify(row(c))}\nid: ${c.seq}\n\n`);
  }
  live.on('change', (c: unknown) => {
    if (feed === 'longpoll') {
      collected.push(c as never);
      last = Number((c as { seq: number }).seq);
      setImmediate(finish);
    } else emit(c as never);
  });
  // As CouchDB: a heartbeat keeps a continuous feed open for good; only a longpoll ends.
  const timer = heartbeat && feed !== 'longpoll' ? undefined : setTimeout(finish, timeout);
  const beat = heartbeat ? setInterval(() => reply.raw.write('\n'), heartbeat) : undefined;
  req.raw.on('close', finish);
  return reply;
}
