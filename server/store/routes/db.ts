import type { FastifyInstance, FastifyRequest } from 'fastify';
import { stat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { errors } from '../errors.js';
import { jsonObject, params, requireJsonType } from '../http.js';
import { requireDbAdmin, requireMember, requireServerAdmin, dbAdmin } from '../access.js';
import { securityShapeProblem, type SecurityObject } from '../security.js';
import { formatSeq } from '../seq.js';
import { writeDocs } from '../writes.js';
import { purge } from '../purge.js';
import { usersPrepare } from '../users.js';
import type { Handle } from '../registry.js';
import { deletedCount } from '../deleted-count.js';

export const dbName = (req: FastifyRequest) => (req.params as { db: string }).db;

/** Database-level endpoints: create, delete, info, `_security`, maintenance, POST of a new document. */
export default async function dbRoutes(app: FastifyInstance): Promise<void> {
  const { registry, validators, uuids, opts } = app.store;

  app.put('/:db', async (req, reply) => {
    requireServerAdmin(req);
    await registry.create(dbName(req));
    return reply
      .code(201)
      .header('location', `/${encodeURIComponent(dbName(req))}`)
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
    validators.forget(dbName(req));
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
    const rec = registry.record(name);
    requireMember(req, rec);
    requireJsonType(req);
    const doc = jsonObject(req);
    const [res] = await registry.use(name, (h) =>
      writeDocs(
        h,
        validators,
        [doc],
        {
          newEdits: true,
          userCtx: req.userCtx,
          dbAdmin: dbAdmin(req, rec),
          maxDocBytes: opts.maxDocBytes,
          security: rec.security,
          prepare: usersPrepare(name, req.userCtx, opts, rec.security),
        },
        () => uuids.next(),
      ),
    );
    return sendWriteResult(reply, res!, params.str(req, 'batch') === 'ok' ? 202 : 201);
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
    requireDbAdmin(req, registry.record(name));
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
    await maintenance(req);
    return reply.code(202).send({ ok: true });
  });

  app.post('/:db/_view_cleanup', async (req, reply) => {
    const name = await maintenance(req);
    void registry.use(name, (h) => h.db.viewCleanup()).catch(() => undefined);
    return reply.code(202).send({ ok: true });
  });

  app.post('/:db/_ensure_full_commit', async (req, reply) => {
    requireMember(req, registry.record(dbName(req)));
    return reply.code(201).send({ ok: true, instance_start_time: '0' });
  });

  app.get('/:db/_revs_limit', async (req) => {
    requireMember(req, registry.record(dbName(req)));
    return 1000;
  });

  app.put('/:db/_revs_limit', async (req) => {
    requireDbAdmin(req, registry.record(dbName(req)));
    return { ok: true };
  });

  app.post('/:db/_purge', async (req, reply) => {
    const name = dbName(req);
    requireDbAdmin(req, registry.record(name));
    requireJsonType(req);
    const body = jsonObject(req);
    for (const [id, revs] of Object.entries(body)) {
      if (!Array.isArray(revs) || revs.some((r) => typeof r !== 'string')) {
        throw errors.badRequest(`purge request for ${id} must be a list of revisions`);
      }
    }
    const purged = await purge(registry, name, body as Record<string, string[]>);
    validators.forget(name);
    return reply.code(201).send({ purge_seq: null, purged });
  });
}

export function sendWriteResult(
  reply: import('fastify').FastifyReply,
  res: import('../writes.js').WriteResult,
  okStatus: number,
) {
  if ('ok' in res) return reply.code(okStatus).header('etag', `"${res.rev}"`).send(res);
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
    case 'bad_request':
    case 'doc_validation':
      return 400;
    default:
      return 500;
  }
}

const sizes = new Map<string, { at: number; bytes: number }>();

/** On-disk size of a database, re-read at most once a second: replicators ask for info on every batch. */
async function dirSize(path: string): Promise<number> {
  const cached = sizes.get(path);
  if (cached && Date.now() - cached.at < 1000) return cached.bytes;
  const bytes = await measure(path);
  if (sizes.size > 1000) sizes.clear();
  sizes.set(path, { at: Date.now(), bytes });
  return bytes;
}

async function measure(path: string): Promise<number> {
  let total = 0;
  for (const f of await readdir(path).catch(() => [] as string[])) {
    total += (await stat(join(path, f)).catch(() => ({ size: 0 }))).size;
  }
  return total;
}

export async function dbInfo(h: Handle, dataDir: string) {
  const info = await h.db.info();
  const seq = Number(info.update_seq);
  const file = await dirSize(join(dataDir, 'dbs', h.record.dir));
  return {
    db_name: h.name,
    update_seq: formatSeq(seq, h.record.seq_offset),
    sizes: { file, external: file, active: file },
    purge_seq: 0,
    doc_del_count: await deletedCount(h, seq),
    doc_count: info.doc_count,
    disk_format_version: 8,
    compact_running: false,
    cluster: { q: 1, n: 1, w: 1, r: 1 },
    instance_start_time: '0',
    props: {},
  };
}
