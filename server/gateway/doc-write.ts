import type { FastifyReply, FastifyRequest } from 'fastify';
import { jsonBody } from './body.js';
import type { Gateway, UpstreamCall } from './context.js';
import { couchUserCtx, dbKind } from './couch-user.js';
import { SyncError, syncErrors } from './errors.js';
import { rawQuery } from './path.js';
import { relay } from './relay.js';
import { baseLoader } from './revisions.js';
import { checkDocShapes } from './doc-shape.js';
import { judgeWrites, type Doc } from './write-check.js';
import { noteRefused } from '../fleet/refusals.js';

/**
 * `PUT` and `DELETE /{db}/{doc}`: the sync rules judge the single write (its base revision
 * read as for `_bulk_docs`); a refusal is answered as CouchDB answers a refused PUT
 * (403 `forbidden` with the reason), anything else goes on untouched.
 */
export async function docWrite(
  gw: Gateway,
  call: UpstreamCall,
  req: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  const { endpoint } = call;
  const id = endpoint.docId as string;
  const query = new URLSearchParams(rawQuery(req.raw.url));
  const ifMatch = req.headers['if-match']?.replace(/^"|"$/g, '');
  let doc: Doc;
  let newEdits = true;
  if (req.method === 'PUT') {
    const type = req.headers['content-type'] ?? '';
    // PouchDB sends documents, attachments inline, as JSON; multipart is CouchDB-to-CouchDB.
    if (/^multipart\//i.test(type)) throw syncErrors.unsupportedType(type.split(';')[0] as string);
    const body = jsonBody(req.body);
    newEdits = query.get('new_edits') !== 'false';
    const rev = body._rev ?? query.get('rev') ?? ifMatch;
    doc = { ...body, _id: id, ...(rev !== undefined && rev !== null ? { _rev: rev } : {}) };
    checkDocShapes([doc]);
  } else {
    const rev = query.get('rev') ?? ifMatch;
    doc = { _id: id, ...(rev ? { _rev: rev } : {}), _deleted: true };
  }
  const ctx = {
    checker: gw.checker,
    userCtx: couchUserCtx(req.sawaUser, endpoint.db),
    kind: dbKind(endpoint.db),
  };
  const [verdict] = await judgeWrites([doc], newEdits, ctx, baseLoader(call));
  if (verdict) {
    gw.metrics.writeRejections.inc({ db_kind: ctx.kind });
    noteRefused(req, 1);
    throw new SyncError(verdict.status, verdict.error, verdict.reason, 'SAWA_SYNC_RULES');
  }
  const body = req.method === 'PUT' ? (req.body as Buffer) : undefined;
  return relay(
    req,
    reply,
    await call.send({ body, clientHeaders: true, query: rawQuery(req.raw.url) }),
  );
}
