import type { FastifyInstance } from 'fastify';
import { errors } from '../errors.js';
import { jsonObject, params, requireJsonType } from '../http.js';
import { dbAdmin, requireMember } from '../access.js';
import { writeDocs, type Doc } from '../writes.js';
import { usersPrepare } from '../users.js';
import { bulkGet } from '../bulk-get.js';
import { revsDiff } from '../revs-diff.js';
import { checkRev } from '../revs.js';
import { dbName } from './common.js';

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
    for (const key of ['open_revs', 'new_edits', 'w', 'rev', 'atts_since']) {
      if (params.has(req, key))
        throw errors.badRequest(`"${key}" query parameter is not acceptable`);
    }
    requireJsonType(req);
    const body = jsonObject(req);
    if (!Array.isArray(body.docs)) throw errors.badRequest("Missing JSON list of 'docs'.");
    const flag = (k: string) => params.str(req, k) === 'true';
    const results = await registry.use(name, (h) =>
      bulkGet(h.db, body.docs as unknown[], {
        revs: flag('revs'),
        latest: flag('latest'),
        attachments: flag('attachments'),
      }),
    );
    return { results };
  });

  app.post('/:db/_revs_diff', async (req) => {
    const name = dbName(req);
    requireMember(req, registry.record(name));
    requireJsonType(req);
    const body = jsonObject(req);
    for (const [id, revs] of Object.entries(body)) {
      if (!Array.isArray(revs)) throw errors.badRequest(`Revisions for ${id} must be a JSON list.`);
      revs.forEach(checkRev);
    }
    return registry.use(name, (h) => revsDiff(h.db, body as Record<string, string[]>));
  });
}
