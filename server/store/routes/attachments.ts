import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { errors, toCouchError } from '../errors.js';
import { params } from '../http.js';
import { requireMember } from '../access.js';
import type { Doc } from '../writes.js';
import { dbName, sendWriteResult } from './db.js';
import { writeOne } from './docs.js';

type Att = {
  content_type?: string;
  digest?: string;
  length?: number;
  data?: string;
  stub?: boolean;
};

const ATT_PATHS = ['/:db/:docid/*', '/:db/_design/:ddoc/*'];

function attName(req: FastifyRequest): string {
  return (req.params as { '*': string })['*'];
}

function docIdOf(req: FastifyRequest): string {
  const p = req.params as { docid?: string; ddoc?: string };
  return p.ddoc !== undefined ? `_design/${p.ddoc}` : (p.docid as string);
}

/**
 * Standalone attachments. Uploads and deletions become a new revision of the
 * document written through the common write path, so validation applies.
 */
export default async function attachmentRoutes(app: FastifyInstance): Promise<void> {
  const { registry } = app.store;

  for (const url of ATT_PATHS) {
    app.route({ method: ['GET', 'HEAD'], url, handler: getAtt });
    app.put(url, putAtt);
    app.delete(url, deleteAtt);
  }

  async function getAtt(req: FastifyRequest, reply: FastifyReply) {
    const name = dbName(req);
    requireMember(req, registry.record(name));
    const id = docIdOf(req);
    const att = attName(req);
    const rev = params.str(req, 'rev');
    return registry.use(name, async (h) => {
      const doc = (await h.db.get(id, rev ? { rev } : {}).catch((e) => {
        throw toCouchError(e);
      })) as Doc;
      const meta = (doc._attachments as Record<string, Att> | undefined)?.[att];
      if (!meta) throw errors.notFound('Document is missing attachment');
      const etag = `"${meta.digest}"`;
      if (req.headers['if-none-match'] === etag) return reply.code(304).send();
      const data = (await h.db.getAttachment(id, att, rev ? { rev } : {})) as Buffer;
      return reply
        .header('content-type', meta.content_type ?? 'application/octet-stream')
        .header('etag', etag)
        .header('content-md5', String(meta.digest ?? '').replace(/^md5-/, ''))
        .header('accept-ranges', 'none')
        .send(req.method === 'HEAD' ? undefined : data);
    });
  }

  async function current(name: string, id: string, rev: string | undefined): Promise<Doc | null> {
    return registry.use(name, async (h) => {
      try {
        return (await h.db.get(id, rev ? { rev } : {})) as Doc;
      } catch (err) {
        const e = toCouchError(err);
        if (e.status === 404 && rev === undefined) return null;
        throw e.status === 404 ? errors.conflict() : e;
      }
    });
  }

  async function putAtt(req: FastifyRequest, reply: FastifyReply) {
    const name = dbName(req);
    requireMember(req, registry.record(name));
    const id = docIdOf(req);
    const rev =
      params.str(req, 'rev') ?? (req.headers['if-match'] as string | undefined)?.replace(/"/g, '');
    const existing = await current(name, id, rev);
    if (existing && rev === undefined) throw errors.conflict();
    const body = Buffer.isBuffer(req.body)
      ? req.body
      : Buffer.from((req.body as string | undefined) ?? '');
    const doc: Doc = existing ?? { _id: id };
    doc._attachments = {
      ...((doc._attachments as Record<string, Att>) ?? {}),
      [attName(req)]: {
        content_type: String(req.headers['content-type'] ?? 'application/octet-stream'),
        data: body.toString('base64'),
      },
    };
    const [res] = await writeOne(app, req, name, doc);
    return sendWriteResult(reply, res!, 201);
  }

  async function deleteAtt(req: FastifyRequest, reply: FastifyReply) {
    const name = dbName(req);
    requireMember(req, registry.record(name));
    const id = docIdOf(req);
    const rev =
      params.str(req, 'rev') ?? (req.headers['if-match'] as string | undefined)?.replace(/"/g, '');
    if (rev === undefined) throw errors.conflict();
    const doc = (await current(name, id, rev)) as Doc;
    const atts = { ...((doc._attachments as Record<string, Att>) ?? {}) };
    if (!atts[attName(req)]) throw errors.notFound('Document is missing attachment');
    delete atts[attName(req)];
    doc._attachments = atts;
    const [res] = await writeOne(app, req, name, doc);
    return sendWriteResult(reply, res!, 200);
  }
}
