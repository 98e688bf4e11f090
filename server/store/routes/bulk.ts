import type { FastifyInstance, FastifyRequest } from 'fastify';
import { errors } from '../errors.js';
import { jsonObject, params, requireJsonType } from '../http.js';
import { dbAdmin, requireMember } from '../access.js';
import { writeDocs, type Doc } from '../writes.js';
import { usersPrepare } from '../users.js';
import { formatSeq } from '../seq.js';
import { dbName } from './db.js';

/** The replication workhorses: `_bulk_docs`, `_bulk_get`, `_revs_diff`, `_all_docs`. */
export default async function bulkRoutes(app: FastifyInstance): Promise<void> {
  const { registry, validators, uuids, opts } = app.store;

  app.post('/:db/_bulk_docs', async (req, reply) => {
    const name = dbName(req);
    const rec = registry.record(name);
    requireMember(req, rec);
    requireJsonType(req);
    const body = jsonObject(req);
    if (!Array.isArray(body.docs))
      throw errors.badRequest('POST body must include `docs` parameter.');
    const docs = body.docs as unknown[];
    if (docs.some((d) => typeof d !== 'object' || d === null || Array.isArray(d))) {
      throw errors.badRequest('Document must be a JSON object');
    }
    const newEdits = body.new_edits === undefined ? true : body.new_edits;
    if (typeof newEdits !== 'boolean')
      throw errors.badRequest('`new_edits` parameter must be a boolean.');
    const results = await registry.use(name, (h) =>
      writeDocs(
        h,
        validators,
        docs as Doc[],
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
    // With new_edits=false CouchDB lists only the documents it could not write.
    return reply.code(201).send(newEdits ? results : results.filter((r) => !('ok' in r)));
  });

  app.post('/:db/_bulk_get', async (req) => {
    const name = dbName(req);
    requireMember(req, registry.record(name));
    const body = jsonObject(req);
    if (!Array.isArray(body.docs)) throw errors.badRequest('Missing JSON list of `docs`.');
    const wanted = body.docs as unknown[];
    for (const d of wanted) {
      if (typeof d !== 'object' || d === null || typeof (d as Doc).id !== 'string') {
        throw errors.badRequest('Each entry of `docs` must be an object with a string `id`.');
      }
    }
    return registry.use(name, async (h) => {
      const res = await h.db.bulkGet({
        docs: wanted as never,
        revs: params.bool(req, 'revs'),
        latest: params.bool(req, 'latest'),
        attachments: params.bool(req, 'attachments'),
      } as never);
      return { results: res.results };
    });
  });

  app.post('/:db/_revs_diff', async (req) => {
    const name = dbName(req);
    requireMember(req, registry.record(name));
    const body = jsonObject(req);
    for (const [id, revs] of Object.entries(body)) {
      if (!Array.isArray(revs) || revs.some((r) => typeof r !== 'string')) {
        throw errors.badRequest(`Revisions for ${id} must be a JSON list of strings.`);
      }
    }
    return registry.use(name, (h) => h.db.revsDiff(body as never));
  });

  const allDocs = async (req: FastifyRequest, keysFromBody?: unknown) => {
    const name = dbName(req);
    requireMember(req, registry.record(name));
    const q = allDocsOptions(req);
    if (keysFromBody !== undefined) {
      if (!Array.isArray(keysFromBody)) throw errors.badRequest('`keys` member must be an array.');
      q.keys = keysFromBody;
    }
    return registry.use(name, async (h) => {
      const res = (await h.db.allDocs(q as never)) as unknown as Record<string, unknown>;
      const out: Record<string, unknown> = {
        total_rows: res.total_rows,
        offset: res.offset ?? 0,
        rows: res.rows,
      };
      if (q.update_seq) {
        const info = await h.db.info();
        out.update_seq = formatSeq(Number(info.update_seq), h.record.seq_offset);
      }
      if (q.keys) delete out.offset;
      return out;
    });
  };

  app.get('/:db/_all_docs', (req) => allDocs(req));
  app.post('/:db/_all_docs', (req) => allDocs(req, jsonObject(req).keys));
  app.get('/:db/_design_docs', (req) => {
    (req.query as Record<string, string>).startkey ??= '"_design/"';
    (req.query as Record<string, string>).endkey ??= '"_design0"';
    return allDocs(req);
  });
}

/** CouchDB's `_all_docs` query parameters, JSON keys included, mapped onto PouchDB's allDocs. */
export function allDocsOptions(req: FastifyRequest): Record<string, unknown> {
  const q: Record<string, unknown> = {
    include_docs: params.bool(req, 'include_docs'),
    conflicts: params.bool(req, 'conflicts'),
    descending: params.bool(req, 'descending'),
    inclusive_end: params.bool(req, 'inclusive_end', true),
    attachments: params.bool(req, 'attachments'),
    update_seq: params.bool(req, 'update_seq'),
  };
  const limit = params.int(req, 'limit');
  if (limit !== undefined) q.limit = limit;
  const skip = params.int(req, 'skip');
  if (skip !== undefined) q.skip = skip;
  const startkey = params.json(req, 'startkey') ?? params.json(req, 'start_key');
  if (startkey !== undefined) q.startkey = startkey;
  const endkey = params.json(req, 'endkey') ?? params.json(req, 'end_key');
  if (endkey !== undefined) q.endkey = endkey;
  const key = params.json(req, 'key');
  if (key !== undefined) q.key = key;
  const keys = params.json(req, 'keys');
  if (keys !== undefined) {
    if (!Array.isArray(keys)) throw errors.badRequest('`keys` must be a JSON array.');
    q.keys = keys;
  }
  return q;
}
