import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { errors, toCouchError } from '../errors.js';
import { absoluteUrl, params } from '../http.js';
import { requireMember } from '../access.js';
import { checkRev, requestRev } from '../revs.js';
import type { Doc } from '../writes.js';
import { dbName, sendWriteResult, writeOne } from './common.js';
import { sendBytes } from './att-send.js';
import { own } from '../own.js';

type Att = {
  content_type?: string;
  digest?: string;
  length?: number;
  data?: string;
  stub?: boolean;
};

const ATT_PATHS = ['/:db/:docid/*', '/:db/_design/:ddoc/*'];

function attName(req: FastifyRequest): string {
  const name = (req.params as { '*': string })['*'];
  if (name.startsWith('_')) {
    throw errors.badRequest(`Attachment name '${name}' starts with prohibited character '_'`);
  }
  return name;
}

function docIdOf(req: FastifyRequest): string {
  const p = req.params as { docid?: string; ddoc?: string };
  return p.ddoc !== undefined ? `_design/${p.ddoc}` : (p.docid as string);
}

/**
 * Standalone attachments, as chttpd_db:db_attachment_req. Uploads and
 * deletions become a new revision of the document written through the common
 * write path, so validation applies.
 */
export default async function attachmentRoutes(app: FastifyInstance): Promise<void> {
  const { registry } = app.store;

  for (const url of ATT_PATHS) {
    app.route({ method: ['GET', 'HEAD'], url, handler: getAtt });
    app.put(url, putAtt);
    app.delete(url, deleteAtt);
  }

  /** The document at `rev`, or its current revision; a missing one is CouchDB's 404. */
  const open = (name: string, id: string, rev?: string, forWrite = false) =>
    registry.use(name, (h) =>
      h.db.get(id, rev ? { rev } : {}).catch((err) => {
        const e = toCouchError(err);
        // A revision the document never had cannot be extended: the write conflicts.
        throw forWrite && rev !== undefined && e.status === 404 ? errors.conflict() : e;
      }),
    ) as Promise<Doc>;

  async function getAtt(req: FastifyRequest, reply: FastifyReply) {
    const name = dbName(req);
    requireMember(req, registry.record(name));
    const id = docIdOf(req);
    const att = (req.params as { '*': string })['*'];
    const rawRev = params.str(req, 'rev');
    const rev = rawRev === undefined ? undefined : checkRev(rawRev);
    const doc = await open(name, id, rev);
    const meta = own(doc._attachments as Record<string, Att> | undefined, att);
    if (!meta) throw errors.notFound('Document is missing attachment');
    const etag = `"${String(meta.digest ?? '').replace(/^md5-/, '')}"`;
    if (req.headers['if-none-match'] === etag) return reply.code(304).header('etag', etag).send();
    const data = (await registry.use(name, (h) =>
      h.db.getAttachment(id, att, rev ? { rev } : {}),
    )) as Buffer;
    return sendBytes(req, reply, data, {
      contentType: meta.content_type ?? 'application/octet-stream',
      etag,
    });
  }

  async function putAtt(req: FastifyRequest, reply: FastifyReply) {
    const name = dbName(req);
    requireMember(req, registry.record(name));
    const id = docIdOf(req);
    const att = attName(req);
    const rev = requestRev(req);
    // Without a rev the upload creates the document; an existing one then conflicts in the write.
    const doc: Doc = rev === undefined ? { _id: id } : await open(name, id, rev, true);
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.from(String(req.body ?? ''));
    doc._attachments = {
      ...((doc._attachments as Record<string, Att>) ?? {}),
      [att]: {
        content_type: String(req.headers['content-type'] ?? 'application/octet-stream'),
        data: body.toString('base64'),
      },
    };
    const [res] = await writeOne(app, req, name, doc);
    const where = `/${encodeURIComponent(name)}/${id.startsWith('_design/') ? '_design/' + encodeURIComponent(id.slice(8)) : encodeURIComponent(id)}/${att.split('/').map(encodeURIComponent).join('/')}`;
    return sendWriteResult(reply, res!, 201, absoluteUrl(req, where));
  }

  async function deleteAtt(req: FastifyRequest, reply: FastifyReply) {
    const name = dbName(req);
    requireMember(req, registry.record(name));
    const id = docIdOf(req);
    const att = attName(req);
    const rev = requestRev(req);
    const doc = await open(name, id, rev, true);
    const atts = { ...((doc._attachments as Record<string, Att>) ?? {}) };
    if (!own(atts, att)) throw errors.notFound('Document is missing attachment');
    if (rev === undefined) throw errors.conflict();
    delete atts[att];
    doc._attachments = atts;
    const [res] = await writeOne(app, req, name, doc);
    return sendWriteResult(reply, res!, 200);
  }
}
