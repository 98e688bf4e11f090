import type { FastifyInstance } from 'fastify';
import { errors, toCouchError } from '../errors.js';
import { jsonObject, requireJsonType } from '../http.js';
import { requireDbAdmin, requireMember } from '../access.js';
import { dbName } from './db.js';

/** Mango: `_find`, `_explain` and `_index`, served by pouchdb-find. */
export default async function findRoutes(app: FastifyInstance): Promise<void> {
  const { registry } = app.store;
  const call = <T>(name: string, fn: (db: import('../pouch.js').Db) => Promise<T>) =>
    registry.use(name, (h) =>
      fn(h.db).catch((err) => {
        const e = toCouchError(err);
        throw e.status >= 500 ? errors.badRequest(e.reason) : e;
      }),
    );

  app.post('/:db/_find', async (req) => {
    const name = dbName(req);
    requireMember(req, registry.record(name));
    requireJsonType(req);
    const body = jsonObject(req);
    if (typeof body.selector !== 'object' || body.selector === null)
      throw errors.badRequest('Missing required key: selector');
    return call(name, (db) => db.find(body as never));
  });

  app.post('/:db/_explain', async (req) => {
    const name = dbName(req);
    requireMember(req, registry.record(name));
    const body = jsonObject(req);
    return call(name, (db) =>
      (db as unknown as { explain: (b: unknown) => Promise<unknown> }).explain(body),
    );
  });

  app.get('/:db/_index', async (req) => {
    const name = dbName(req);
    requireMember(req, registry.record(name));
    return call(name, (db) => db.getIndexes());
  });

  app.post('/:db/_index', async (req) => {
    const name = dbName(req);
    requireDbAdmin(req, registry.record(name));
    requireJsonType(req);
    const body = jsonObject(req);
    if (typeof body.index !== 'object' || body.index === null)
      throw errors.badRequest('Missing required key: index');
    return call(name, (db) => db.createIndex(body as never));
  });

  app.delete('/:db/_index/:ddoc/:type/:index', async (req) => {
    const name = dbName(req);
    requireDbAdmin(req, registry.record(name));
    const { ddoc, index } = req.params as { ddoc: string; index: string };
    await call(name, (db) => db.deleteIndex({ ddoc, name: index } as never));
    return { ok: true };
  });
}
