import zlib from 'node:zlib';
import { PassThrough, type Transform } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { dbRight } from '../access.js';
import { ClientGone } from '../errors.js';
import { negotiate, type Encoding } from './compress.js';
import { upstreamCall, type Gateway } from './context.js';
import type { Endpoint } from './endpoints.js';
import { syncErrors } from './errors.js';
import { readPage, type Page } from './feed-pages.js';

/**
 * `GET /sync/{db}/_sawa_feed`: the Sawa client's pull. One answer, one compressed stream,
 * carries every changed document with its revision history (the phone stores them with
 * `new_edits: false`, exactly what the replicator would have stored), page after page, each
 * page followed by its checkpoint and a compressor flush, so a link cut half-way costs one
 * page: the phone resumes from the last checkpoint it received. It reads CouchDB as the
 * user, behind the same token check, access decision and rate limit as every /sync path;
 * the replication endpoints are untouched, so a stock PouchDB syncs as before.
 */

const route = '/sync/{db}/_sawa_feed';

/** A longpoll's `timeout` is cut to this, as CouchDB cuts it to its own maximum. */
const MAX_LONGPOLL_MS = 60_000;

// Brotli 6 with a 4 MB window: ~15% smaller than the gateway's streaming quality 4 on a
// first sync (documents of one type repeat their field names across pages), at a CPU cost
// the feed pays once per page, not per chunk.
const BROTLI = {
  params: {
    [zlib.constants.BROTLI_PARAM_QUALITY]: 6,
    [zlib.constants.BROTLI_PARAM_LGWIN]: 22,
    [zlib.constants.BROTLI_PARAM_MODE]: zlib.constants.BROTLI_MODE_TEXT,
  },
};

const schema = {
  summary: 'Sawa client feed: changed documents with their histories, one compressed stream',
  description: `For the Sawa client library (\`client/\`). Answers \`application/x-ndjson\`: one
document per line (with \`_revisions\`, without \`_rev\`, attachments inline, no design
documents, every leaf revision of a conflicted document), and after every page of up to 50
changes a checkpoint line \`{"seq": …}\`; the last line also has \`"done": true\`. Store the
documents with \`new_edits: false\`, then the checkpoint, and resume with \`since\` = that
checkpoint. \`feed=longpoll\` waits up to \`timeout\` ms for a first change. Same token,
access rule and rate limit as every /sync path; a stock PouchDB does not need it.`,
  tags: ['sync'],
  security: [{ bearer: [] }],
  params: {
    type: 'object',
    properties: { db: { type: 'string', maxLength: 256 } },
    required: ['db'],
  },
  querystring: {
    type: 'object',
    properties: {
      since: { type: 'string', maxLength: 1024, default: '0' },
      feed: { type: 'string', enum: ['normal', 'longpoll'], default: 'normal' },
      // A query's values are strings: the service does not coerce them (app.ts).
      timeout: {
        type: 'string',
        pattern: '^[0-9]{1,9}$',
        default: '25000',
        description: 'ms a longpoll waits for a first change; at most 60000 (default 25000)',
      },
    },
    additionalProperties: false,
  },
  response: {
    200: { description: 'NDJSON: documents and checkpoint lines, streamed' },
    401: { description: 'missing, expired or revoked token: refresh it' },
    403: { description: 'no right to read this database' },
    429: { description: 'over SYNC_RATE_LIMIT_PER_MIN; see Retry-After' },
  },
} as const;

interface FeedRequest {
  Params: { db: string };
  Querystring: { since: string; feed: 'normal' | 'longpoll'; timeout: string };
}

export default async function feedRoutes(app: FastifyInstance, opts: { gw: Gateway }) {
  const { gw } = opts;

  async function endpoint(req: FastifyRequest<FeedRequest>) {
    const { db } = req.params;
    if (!db || db.startsWith('_')) throw syncErrors.notOffered('A system database');
    const base = `/${encodeURIComponent(db)}`;
    const ep: Endpoint = {
      kind: 'changes',
      db,
      need: 'read',
      upstreamPath: base,
      dbPath: base,
      route,
    };
    req.syncEndpoint = ep;
    req.metricsRoute = route;
  }

  async function authorize(req: FastifyRequest) {
    const db = req.syncEndpoint?.db;
    if (db === undefined || dbRight(req.sawaUser, db) === null) throw syncErrors.noAccess();
  }

  app.get<FeedRequest>(
    '/sync/:db/_sawa_feed',
    { schema, onRequest: [endpoint, app.requireUser, authorize] },
    async (req, reply) => feed(gw, req, reply),
  );
}

async function feed(
  gw: Gateway,
  req: FastifyRequest<FeedRequest>,
  reply: FastifyReply,
): Promise<FastifyReply> {
  const call = upstreamCall(gw, req, reply);
  const timeoutMs = Math.min(Number(req.query.timeout), MAX_LONGPOLL_MS);
  const longpoll = req.query.feed === 'longpoll' ? { timeoutMs } : undefined;
  // The first page before the answer starts: a refusal or an outage is still a proper error.
  const first = await readPage(call, { since: req.query.since, longpoll });
  const encoding = negotiate(req.headers['accept-encoding']);
  const out = encoder(encoding);
  reply.header('content-type', 'application/x-ndjson');
  if (encoding) reply.header('content-encoding', encoding);
  const name = req.sawaUser.name;
  reply.raw.once('finish', () => gw.accounts.recordSync(name, 'pull'));
  void pump(call, out, first, encoding).catch((err: Error) => {
    // The answer has started: cutting the connection is the only way to say it failed.
    req.log.debug({ err: err.message }, 'sync feed ended early');
    out.destroy(err);
  });
  return reply.send(out);
}

async function pump(
  call: ReturnType<typeof upstreamCall>,
  out: Transform,
  first: Page,
  encoding: Encoding | null,
): Promise<void> {
  let page = first;
  for (;;) {
    for (const doc of page.docs) await write(out, JSON.stringify(doc) + '\n');
    const mark = page.last ? { seq: page.seq, done: true } : { seq: page.seq };
    await write(out, JSON.stringify(mark) + '\n');
    if (page.last) break;
    flush(out, encoding);
    page = await readPage(call, { since: seqParam(page.seq) });
  }
  out.end();
}

function encoder(encoding: Encoding | null): Transform {
  if (encoding === 'br') return zlib.createBrotliCompress(BROTLI);
  if (encoding === 'gzip') return zlib.createGzip({ level: 6 });
  return new PassThrough();
}

function flush(out: Transform, encoding: Encoding | null): void {
  if (encoding === 'br') (out as zlib.BrotliCompress).flush(zlib.constants.BROTLI_OPERATION_FLUSH);
  else if (encoding === 'gzip') (out as zlib.Gzip).flush(zlib.constants.Z_SYNC_FLUSH);
}

async function write(out: Transform, line: string): Promise<void> {
  if (out.destroyed) throw new ClientGone();
  if (out.write(line)) return;
  // Not events.once: a destroyed stream emits 'close', never 'drain', and the wait would
  // outlive the request.
  await new Promise<void>((resolve, reject) => {
    const drained = () => {
      out.off('close', closed);
      resolve();
    };
    const closed = () => {
      out.off('drain', drained);
      reject(new ClientGone());
    };
    out.once('drain', drained).once('close', closed);
  });
}

/** CouchDB's sequences are strings (opaque) or, on the embedded store, numbers. */
function seqParam(seq: unknown): string {
  return typeof seq === 'string' ? seq : JSON.stringify(seq);
}
