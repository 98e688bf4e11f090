import { randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { jsonBody, readBody } from './body.js';
import type { Gateway, UpstreamCall } from './context.js';
import { couchUserCtx, dbKind } from './couch-user.js';
import { syncDirection } from './endpoints.js';
import { syncErrors } from './errors.js';
import { mergeResults, type BulkResult } from './merge.js';
import { relay } from './relay.js';
import { baseLoader } from './revisions.js';
import { checkDocShapes } from './doc-shape.js';
import { judgeWrites, type Doc } from './write-check.js';
import { noteRefused } from '../fleet/refusals.js';

const MAX_ANSWER_BYTES = 64 * 1024 * 1024;

/**
 * `POST /{db}/_bulk_docs`, the push half of replication: every document is judged by the
 * sync rules first; refused ones get CouchDB's per-document error, the rest go to CouchDB in
 * one request, and the two answers are merged back into request order. When nothing is
 * refused the client's body is forwarded untouched and CouchDB's answer streamed back.
 */
export async function bulkDocs(
  gw: Gateway,
  call: UpstreamCall,
  req: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  const body = jsonBody(req.body);
  const docs = body.docs;
  if (!Array.isArray(docs)) throw syncErrors.badBody('POST body must include `docs` parameter.');
  // A cap on documents, not only bytes: one request's cost grows with them, and every
  // document is judged before any is written.
  if (docs.length > gw.maxDocs) throw syncErrors.tooManyDocs(gw.maxDocs);
  if (!docs.every((d) => d !== null && typeof d === 'object' && !Array.isArray(d))) {
    throw syncErrors.badBody('Document must be a JSON object');
  }
  checkDocShapes(docs as Doc[]);
  const newEdits = body.new_edits !== false;
  // CouchDB would name id-less documents itself; naming them here lets the rules see the id
  // CouchDB will store.
  let named = false;
  if (newEdits) {
    for (const doc of docs as Doc[]) {
      if (doc._id === undefined) {
        doc._id = randomUUID().replaceAll('-', '');
        named = true;
      }
    }
  }
  const { endpoint } = call;
  const ctx = {
    checker: gw.checker,
    userCtx: couchUserCtx(req.sawaUser, endpoint.db),
    kind: dbKind(endpoint.db),
  };
  const verdicts = await judgeWrites(docs as Doc[], newEdits, ctx, baseLoader(call));
  const refused = verdicts.filter((v) => v !== null).length;
  if (refused > 0) gw.metrics.writeRejections.inc({ db_kind: ctx.kind }, refused);
  noteRefused(req, refused);

  const recordPush = (status: number) => {
    if (syncDirection('bulk_docs', status) === null) return;
    const name = req.sawaUser.name;
    reply.raw.once('finish', () => gw.accounts.recordSync(name, 'push'));
  };
  if (refused === 0 && !named) {
    const res = await call.send({ method: 'POST', body: req.body as Buffer, clientHeaders: true });
    recordPush(res.status);
    return relay(req, reply, res);
  }
  let upstream: BulkResult[] = [];
  let status = 201;
  const accepted = (docs as Doc[]).filter((_, i) => verdicts[i] === null);
  if (accepted.length > 0) {
    const res = await call.send({ method: 'POST', json: { ...body, docs: accepted } });
    if (res.status !== 201 && res.status !== 202) return relay(req, reply, res);
    status = res.status;
    upstream = parseResults(await readBody(res.body, MAX_ANSWER_BYTES));
  }
  const merged = mergeResults(docs as Doc[], verdicts, newEdits, upstream);
  recordPush(status);
  reply.code(status).type('application/json');
  reply.compress(JSON.stringify(merged));
  return reply;
}

function parseResults(raw: Buffer): BulkResult[] {
  try {
    const parsed: unknown = JSON.parse(raw.toString('utf8'));
    if (Array.isArray(parsed)) return parsed as BulkResult[];
  } catch {
    // fall through
  }
  throw syncErrors.upstreamBadAnswer();
}
