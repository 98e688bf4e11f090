import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { errors, toCouchError } from '../errors.js';
import { jsonObject, params } from '../http.js';
import { checkRev, requestRev } from '../revs.js';
import { openRevsOf, readDoc } from './doc-read.js';
import { accepts, sendDoc, sendOpenRevs } from './doc-send.js';
import { requireMember } from '../access.js';
import type { Doc } from '../writes.js';
import { docFromMultipart } from '../multipart.js';
import { dbName, docUrl, sendWriteResult, writeOne } from './common.js';
import { USERS_DB, filterUserDocRead } from '../auth/users-db.js';

/** `_design/x` and `_local/x` arrive as two path segments; everything else as one. */
export function docId(req: FastifyRequest): string {
  const p = req.params as { docid?: string; ddoc?: string; localid?: string };
  if (p.ddoc !== undefined) return `_design/${p.ddoc}`;
  if (p.localid !== undefined) return `_local/${p.localid}`;
  return p.docid as string;
}

const DOC_PATHS = ['/:db/:docid', '/:db/_design/:ddoc', '/:db/_local/:localid'];

/** Single-document endpoints: GET/HEAD (all CouchDB's read options), PUT, DELETE, COPY. */
export default async function docRoutes(app: FastifyInstance): Promise<void> {
  const { registry } = app.store;
  app.addHttpMethod('COPY');

  for (const url of DOC_PATHS) {
    app.route({ method: ['GET', 'HEAD'], url, handler: getDoc });
    app.put(url, putDoc);
    app.delete(url, deleteDoc);
    app.route({ method: 'COPY', url, handler: copyDoc });
  }
  // chttpd_db: `/db/_local` alone names no document, and local documents carry no attachments.
  app.all('/:db/_local', async () => {
    throw errors.badRequest('Invalid _local document id.');
  });
  app.all('/:db/_local/:localid/*', async () => {
    throw errors.badRequest('_local documents do not accept attachments.');
  });

  async function getDoc(req: FastifyRequest, reply: FastifyReply) {
    const name = dbName(req);
    const id = docId(req);
    const rec = registry.record(name);
    requireMember(req, rec);
    return registry.use(name, async (h) => {
      const openRevs = params.str(req, 'open_revs');
      if (openRevs !== undefined) {
        const leaves = await openRevsOf(req, h.db, id, openRevs, accepts(req, 'multipart/mixed'));
        return sendOpenRevs(req, reply, leaves);
      }
      const doc = await readDoc(req, h.db, id);
      const shown =
        name === USERS_DB ? filterUserDocRead(doc, req.userCtx, { security: rec.security }) : doc;
      const etag = `"${doc._rev as string}"`;
      if (req.headers['if-none-match'] === etag) return reply.code(304).send();
      return sendDoc(req, reply.header('etag', etag), shown);
    });
  }

  async function putDoc(req: FastifyRequest, reply: FastifyReply) {
    const name = dbName(req);
    const id = docId(req);
    const rec = registry.record(name);
    requireMember(req, rec);
    const type = String(req.headers['content-type'] ?? '');
    // CouchDB's replicator sends documents with attachments as multipart/related.
    const doc = type.toLowerCase().startsWith('multipart/related')
      ? docFromMultipart(Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0), type)
      : jsonObject(req);
    // chttpd_db: the URL's id wins over any `_id` in the body.
    doc._id = id;
    const rev = requestRev(req, doc._rev);
    if (rev !== undefined) doc._rev = rev;
    const newEdits = params.str(req, 'new_edits') !== 'false';
    const [res] = await writeOne(app, req, name, doc, newEdits);
    if (params.str(req, 'batch') === 'ok' && 'ok' in res!) {
      return reply.code(202).send({ ok: true, id });
    }
    // A PUT that deletes answers as a DELETE does: 200, not 201.
    const status = doc._deleted === true ? 200 : 201;
    return sendWriteResult(reply, res!, status, docUrl(req, name, id));
  }

  async function deleteDoc(req: FastifyRequest, reply: FastifyReply) {
    const name = dbName(req);
    const id = docId(req);
    const rec = registry.record(name);
    requireMember(req, rec);
    const rev = requestRev(req);
    // Like chttpd_db: a missing (or already deleted) document is a 404 before any rev check.
    await registry.use(name, (h) =>
      h.db.get(id).catch((e) => {
        throw toCouchError(e);
      }),
    );
    if (rev === undefined) throw errors.conflict();
    const [res] = await writeOne(app, req, name, { _id: id, _rev: rev, _deleted: true });
    return sendWriteResult(reply, res!, 200);
  }

  /** COPY: the source (at `?rev=` or its current revision) written under the `Destination` id. */
  async function copyDoc(req: FastifyRequest, reply: FastifyReply) {
    const name = dbName(req);
    const id = docId(req);
    requireMember(req, registry.record(name));
    const dest = req.headers.destination;
    if (typeof dest !== 'string' || dest === '') {
      throw errors.badRequest('Destination header is mandatory for COPY.');
    }
    const [rawTarget, query] = dest.split('?', 2) as [string, string | undefined];
    const target = decodeURIComponent(rawTarget);
    const targetRev = query ? new URLSearchParams(query).get('rev') : null;
    const rev = requestRev(req);
    const source = await registry.use(name, (h) =>
      h.db.get(id, { attachments: true, ...(rev ? { rev } : {}) } as never).catch((e) => {
        throw toCouchError(e);
      }),
    );
    const { _rev: _r, _id: _i, ...body } = source as unknown as Doc;
    const doc: Doc = { ...body, _id: target, ...(targetRev ? { _rev: checkRev(targetRev) } : {}) };
    const [res] = await writeOne(app, req, name, doc);
    return sendWriteResult(reply, res!, 201, docUrl(req, name, target));
  }
}
