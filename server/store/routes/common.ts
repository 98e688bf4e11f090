import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { absoluteUrl } from '../http.js';
import { dbAdmin } from '../access.js';
import { writeDocs, type Doc, type WriteResult } from '../writes.js';
import { usersPrepare } from '../users.js';

/** What the route handlers share: the database named in the URL, single writes and their replies. */
export const dbName = (req: FastifyRequest) => (req.params as { db: string }).db;

export function docUrl(req: FastifyRequest, db: string, id: string): string {
  const path =
    id.startsWith('_design/') || id.startsWith('_local/')
      ? id.replace(/^(_\w+\/)(.*)$/, (_m, p: string, rest: string) => p + encodeURIComponent(rest))
      : encodeURIComponent(id);
  return absoluteUrl(req, `/${encodeURIComponent(db)}/${path}`);
}

export function writeOne(
  app: FastifyInstance,
  req: FastifyRequest,
  name: string,
  doc: Doc,
  newEdits = true,
) {
  const { registry, validators, uuids, opts } = app.store;
  const rec = registry.record(name);
  return registry.use(name, (h) =>
    writeDocs(
      h,
      validators,
      [doc],
      {
        newEdits,
        userCtx: req.userCtx,
        dbAdmin: dbAdmin(req, rec),
        maxDocBytes: opts.maxDocBytes,
        security: rec.security,
        prepare: usersPrepare(name, req.userCtx, opts, rec.security),
      },
      () => uuids.next(),
    ),
  );
}

export function sendWriteResult(
  reply: FastifyReply,
  res: WriteResult,
  okStatus: number,
  location?: string,
) {
  if ('ok' in res) {
    if (location) void reply.header('location', location);
    return reply.code(okStatus).header('etag', `"${res.rev}"`).send(res);
  }
  const status = statusFor(res.error);
  return reply.code(status).send({ error: res.error, reason: res.reason });
}

export function statusFor(error: string): number {
  switch (error) {
    case 'conflict':
      return 409;
    case 'forbidden':
      return 403;
    case 'unauthorized':
      return 401;
    case 'not_found':
      return 404;
    case 'document_too_large':
      return 413;
    case 'missing_stub':
      return 412;
    case 'bad_request':
    case 'illegal_docid':
    case 'invalid_design_doc':
    case 'compilation_error':
    case 'doc_validation':
      return 400;
    default:
      return 500;
  }
}
