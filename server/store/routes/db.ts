import type { FastifyInstance, FastifyRequest } from 'fastify';
import { errors, toCouchError } from '../errors.js';
import { absoluteUrl, jsonBody, jsonObject, params, requireJsonType } from '../http.js';
import {
  requireDbAdmin,
  requireDbAdminRequest,
  requireMember,
  requireServerAdmin,
} from '../access.js';
import { checkRev } from '../revs.js';
import { securityShapeProblem, type SecurityObject } from '../security.js';
import { purge } from '../purge.js';
import { dbInfo } from '../db-info.js';
import { dbName, docUrl, sendWriteResult, writeOne } from './common.js';

/** Database-level endpoints: create, delete, info, `_security`, maintenance, POST of a new document. */
export default async function dbRoutes(app: FastifyInstance): Promise<void> {
  const { registry } = app.store;

  app.put('/:db', async (req, reply) => {
    requireServerAdmin(req);
    const partitioned = params.str(req, 'partitioned');
    if (partitioned === 'true') throw errors.badRequest('Partitioned feature is not enabled.');
    if (partitioned !== undefined && partitioned !== 'false') {
      throw errors.badRequest('Invalid `partitioned` parameter');
    }
    await registry.create(dbName(req));
    return reply
      .code(201)
      .header('location', absoluteUrl(req, `/${encodeURIComponent(dbName(req))}`))
      .send({ ok: true });
  });

  app.delete('/:db', async (req) => {
    requireServerAdmin(req);
    if (params.has(req, 'rev')) {
      throw errors.badRequest(
        'You tried to DELETE a database with a ?rev= parameter. Did you mean to DELETE a document instead?',
      );
    }
    registry.record(dbName(req));
    await registry.delete(dbName(req));
    return { ok: true };
  });

  app.route({
    method: ['GET', 'HEAD'],
    url: '/:db',
    handler: async (req) => {
      const name = dbName(req);
      requireMember(req, registry.record(name));
      return registry.use(name, (h) => dbInfo(h, registry.dataDir));
    },
  });

  app.post('/:db', async (req, reply) => {
    const name = dbName(req);
    requireMember(req, registry.record(name));
    requireJsonType(req);
    const doc = jsonObject(req);
    // An empty `_id` gets a generated one, as couch_uuids:new/0 in chttpd_db.
    if (doc._id === '') delete doc._id;
    const [res] = await writeOne(app, req, name, doc);
    if (params.str(req, 'batch') === 'ok' && 'ok' in res!) {
      return reply.code(202).send({ ok: true, id: res.id });
    }
    return sendWriteResult(reply, res!, 201, 'ok' in res! ? docUrl(req, name, res.id) : undefined);
  });

  app.get('/:db/_security', async (req) => {
    const rec = registry.record(dbName(req));
    requireMember(req, rec);
    return rec.security;
  });

  app.put('/:db/_security', async (req) => {
    const name = dbName(req);
    requireDbAdmin(req, registry.record(name));
    const body = jsonObject(req);
    const problem = securityShapeProblem(body);
    if (problem) throw errors.badRequest(problem);
    await registry.setSecurity(name, body as SecurityObject);
    return { ok: true };
  });

  const maintenance = async (req: FastifyRequest) => {
    const name = dbName(req);
    requireDbAdminRequest(req, registry.record(name));
    requireJsonType(req);
    return name;
  };

  app.post('/:db/_compact', async (req, reply) => {
    const name = await maintenance(req);
    // CouchDB compacts in the background and answers at once.
    void registry
      .use(name, (h) => h.db.compact())
      .catch((err) => req.log.warn({ err, db: name }, 'compaction failed'));
    return reply.code(202).send({ ok: true });
  });

  app.post('/:db/_compact/:ddoc', async (req, reply) => {
    const name = await maintenance(req);
    const ddoc = `_design/${(req.params as { ddoc: string }).ddoc}`;
    // Views are indexed incrementally; there is nothing to compact, but the design doc must exist.
    await registry.use(name, (h) =>
      h.db.get(ddoc).catch((e) => {
        throw toCouchError(e);
      }),
    );
    return reply.code(202).send({ ok: true });
  });

  app.post('/:db/_view_cleanup', async (req, reply) => {
    const name = await maintenance(req);
    void registry.use(name, (h) => h.db.viewCleanup()).catch(() => undefined);
    return reply.code(202).send({ ok: true });
  });

  app.post('/:db/_ensure_full_commit', async (req, reply) => {
    requireMember(req, registry.record(dbName(req)));
    requireJsonType(req);
    return reply.code(201).send({ ok: true, instance_start_time: '0' });
  });

  app.get('/:db/_revs_limit', async (req) => {
    requireMember(req, registry.record(dbName(req)));
    return 1000;
  });

  app.put('/:db/_revs_limit', async (req) => {
    requireDbAdmin(req, registry.record(dbName(req)));
    const limit = jsonBody(req);
    if (!Number.isSafeInteger(limit) || (limit as number) <= 0)
      throw errors.badRequest('Rev limit has to be an integer');
    return { ok: true };
  });

  app.post('/:db/_purge', async (req, reply) => {
    const name = dbName(req);
    // CouchDB 3.5 (chttpd_auth_request): `_purge` is for server admins, database admins included in the refusal.
    requireServerAdmin(req);
    registry.record(name);
    requireJsonType(req);
    const body = jsonObject(req);
    const entries = Object.entries(body);
    // CouchDB's [purge] max_document_id_number and max_revisions_number defaults.
    if (entries.length > 100) throw errors.badRequest('Exceeded maximum number of documents.');
    let revCount = 0;
    for (const [, revs] of entries) {
      if (!Array.isArray(revs)) throw errors.badRequest('Invalid rev format');
      revs.forEach(checkRev);
      revCount += revs.length;
    }
    if (revCount > 1000) throw errors.badRequest('Exceeded maximum number of revisions.');
    const purged = await purge(registry, name, body as Record<string, string[]>);
    return reply.code(201).send({ purge_seq: null, purged });
  });
}
