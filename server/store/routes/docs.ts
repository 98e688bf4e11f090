import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { randomBytes } from 'node:crypto';
import { errors, toCouchError } from '../errors.js';
import { jsonObject, params } from '../http.js';
import { dbAdmin, requireMember } from '../access.js';
import { writeDocs, type Doc } from '../writes.js';
import { usersPrepare } from '../users.js';
import { dbName, sendWriteResult } from './db.js';
import { canReadUserDoc, isUserDoc } from '../users-read.js';
import { USERS_DB, filterUserDocRead } from '../auth/users-db.js';

/** `_design/x` and `_local/x` arrive as two path segments; everything else as one. */
export function docId(req: FastifyRequest): string {
  const p = req.params as { docid?: string; ddoc?: string; localid?: string };
  if (p.ddoc !== undefined) return `_design/${p.ddoc}`;
  if (p.localid !== undefined) return `_local/${p.localid}`;
  return p.docid as string;
}

const DOC_PATHS = ['/:db/:docid', '/:db/_design/:ddoc', '/:db/_local/:localid'];

/** Single-document endpoints: GET (all CouchDB's read options), PUT, DELETE. */
export default async function docRoutes(app: FastifyInstance): Promise<void> {
  const { registry } = app.store;

  for (const url of DOC_PATHS) {
    app.route({ method: ['GET', 'HEAD'], url, handler: (req, reply) => getDoc(app, req, reply) });
    app.put(url, (req, reply) => putDoc(app, req, reply));
    app.delete(url, (req, reply) => deleteDoc(app, req, reply));
  }

  async function getDoc(app: FastifyInstance, req: FastifyRequest, reply: FastifyReply) {
    const name = dbName(req);
    const id = docId(req);
    const rec = registry.record(name);
    if (!canReadUserDoc(name, id, req.userCtx)) requireMember(req, rec);
    return registry.use(name, async (h) => {
      const openRevs = params.str(req, 'open_revs');
      if (openRevs !== undefined) return sendOpenRevs(req, reply, h.db, id, openRevs);
      const opts: Record<string, unknown> = {
        revs: params.bool(req, 'revs'),
        revs_info: params.bool(req, 'revs_info'),
        conflicts: params.bool(req, 'conflicts'),
        attachments: params.bool(req, 'attachments'),
        latest: params.bool(req, 'latest'),
        local_seq: params.bool(req, 'local_seq'),
      };
      const rev = params.str(req, 'rev');
      if (rev !== undefined) opts.rev = rev;
      const attsSince = params.json(req, 'atts_since');
      if (attsSince !== undefined) {
        if (!Array.isArray(attsSince))
          throw errors.badRequest('atts_since must be a JSON array of revisions');
        opts.revs = true;
        opts.attachments = true;
      }
      const doc = (await h.db.get(id, opts as never).catch((e) => {
        throw toCouchError(e);
      })) as unknown as Doc;
      if (params.bool(req, 'deleted_conflicts') || params.bool(req, 'meta')) {
        const deleted = await deletedConflicts(h.db, id, doc._rev as string);
        if (deleted.length > 0) doc._deleted_conflicts = deleted;
      }
      if (Array.isArray(attsSince)) {
        stubOlderAttachments(doc, attsSince as string[]);
        if (!params.bool(req, 'revs')) delete doc._revisions;
      }
      const shown =
        name === USERS_DB ? filterUserDocRead(doc, req.userCtx, { security: rec.security }) : doc;
      const etag = `"${doc._rev as string}"`;
      if (req.headers['if-none-match'] === etag) return reply.code(304).send();
      return reply.header('etag', etag).send(shown);
    });
  }

  async function putDoc(app: FastifyInstance, req: FastifyRequest, reply: FastifyReply) {
    const name = dbName(req);
    const id = docId(req);
    const rec = registry.record(name);
    if (!isUserDoc(name, id)) requireMember(req, rec);
    const doc = jsonObject(req);
    if (doc._id !== undefined && doc._id !== id) {
      throw errors.badRequest('Document id must match the id in the URL');
    }
    doc._id = id;
    const rev = params.str(req, 'rev') ?? ifMatch(req);
    if (rev !== undefined && doc._rev === undefined) doc._rev = rev;
    const newEdits = params.bool(req, 'new_edits', true);
    return write(req, reply, name, doc, newEdits);
  }

  async function deleteDoc(app: FastifyInstance, req: FastifyRequest, reply: FastifyReply) {
    const name = dbName(req);
    const id = docId(req);
    const rec = registry.record(name);
    if (!isUserDoc(name, id)) requireMember(req, rec);
    const rev = params.str(req, 'rev') ?? ifMatch(req);
    if (rev === undefined && !id.startsWith('_local/')) throw errors.conflict();
    return write(
      req,
      reply,
      name,
      { _id: id, ...(rev ? { _rev: rev } : {}), _deleted: true },
      true,
      200,
    );
  }

  async function write(
    req: FastifyRequest,
    reply: FastifyReply,
    name: string,
    doc: Doc,
    newEdits: boolean,
    okStatus?: number,
  ) {
    const [res] = await writeOne(app, req, name, doc, newEdits);
    const batch = params.str(req, 'batch') === 'ok';
    return sendWriteResult(reply, res!, okStatus ?? (batch ? 202 : 201));
  }
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

function ifMatch(req: FastifyRequest): string | undefined {
  const v = req.headers['if-match'];
  return typeof v === 'string' ? v.replace(/^"|"$/g, '') : undefined;
}

async function deletedConflicts(
  db: import('../pouch.js').Db,
  id: string,
  winner: string,
): Promise<string[]> {
  const leaves = (await db.get(id, { open_revs: 'all' } as never)) as unknown as Array<{
    ok?: Doc;
  }>;
  return leaves
    .map((l) => l.ok)
    .filter((d): d is Doc => !!d && d._deleted === true && d._rev !== winner)
    .map((d) => d._rev as string);
}

/** With `atts_since`, attachments the client already has (revpos at or below a revision it knows) come as stubs. */
function stubOlderAttachments(doc: Doc, known: string[]): void {
  const revs = doc._revisions as { start: number; ids: string[] } | undefined;
  const atts = doc._attachments as Record<string, Record<string, unknown>> | undefined;
  if (!revs || !atts) return;
  let threshold = 0;
  for (const r of known) {
    const [pos, hash] = String(r).split('-');
    const n = Number(pos);
    if (revs.ids[revs.start - n] === hash) threshold = Math.max(threshold, n);
  }
  for (const [k, att] of Object.entries(atts)) {
    if (Number(att.revpos) <= threshold) {
      const { data: _d, ...rest } = att;
      atts[k] = { ...rest, stub: true };
    }
  }
}

async function sendOpenRevs(
  req: FastifyRequest,
  reply: FastifyReply,
  db: import('../pouch.js').Db,
  id: string,
  openRevs: string,
) {
  let revs: 'all' | string[];
  if (openRevs === 'all') revs = 'all';
  else {
    try {
      revs = JSON.parse(openRevs);
    } catch {
      throw errors.badRequest('open_revs must be "all" or a JSON array of revisions');
    }
    if (!Array.isArray(revs) || revs.some((r) => typeof r !== 'string')) {
      throw errors.badRequest('open_revs must be "all" or a JSON array of revisions');
    }
  }
  const result = (await db
    .get(id, {
      open_revs: revs,
      revs: params.bool(req, 'revs'),
      attachments: params.bool(req, 'attachments'),
      latest: params.bool(req, 'latest'),
    } as never)
    .catch((e) => {
      throw toCouchError(e);
    })) as unknown as Array<Record<string, unknown>>;
  const accept = String(req.headers.accept ?? '');
  if (!accept.includes('multipart/mixed')) return reply.send(result);
  // CouchDB's replicator asks for multipart/mixed: one JSON part per revision.
  const boundary = randomBytes(16).toString('hex');
  const parts = result.map((r) => {
    const body = 'ok' in r ? r.ok : { missing: r.missing };
    const type = 'ok' in r ? 'application/json' : 'application/json; error="true"';
    return `--${boundary}\r\nContent-Type: ${type}\r\n\r\n${JSON.stringify(body)}\r\n`;
  });
  return reply
    .type(`multipart/mixed; boundary="${boundary}"`)
    .send(parts.join('') + `--${boundary}--`);
}
