import type { FastifyInstance } from 'fastify';
import { CouchError, errors, toCouchError } from '../errors.js';
import { jsonObject, requireJsonType } from '../http.js';
import { requireDbAdmin, requireMember } from '../access.js';
import type { Db } from '../pouch.js';
import { dbName } from './common.js';

/** CouchDB's default `limit` for `_find`. */
const FIND_LIMIT = 25;

/** pouchdb-find's errors in mango_error's words. */
function mangoError(err: unknown): CouchError {
  const e = toCouchError(err);
  const op = /unknown operator "([^"]+)"/.exec(e.reason);
  if (op) return new CouchError(400, 'invalid_operator', `Invalid operator: ${op[1]}`);
  if (/Cannot sort on field/.test(e.reason)) {
    return new CouchError(
      400,
      'no_usable_index',
      'No index exists for this sort, try indexing by the sort fields.',
    );
  }
  return e.status >= 500 ? errors.badRequest(e.reason) : e;
}

const missingKey = (key: string) =>
  new CouchError(400, 'missing_required_key', `Missing required key: ${key}`);

/** `bookmark`: an opaque position for the next page, here the number of rows already read. */
const bookmarkFor = (skip: number) => Buffer.from(JSON.stringify({ skip })).toString('base64url');
function skipFrom(bookmark: unknown): number {
  if (bookmark === undefined || bookmark === 'nil') return 0;
  try {
    const { skip } = JSON.parse(Buffer.from(String(bookmark), 'base64url').toString()) as {
      skip?: unknown;
    };
    if (Number.isSafeInteger(skip) && (skip as number) >= 0) return skip as number;
  } catch {
    // fall through
  }
  throw new CouchError(
    400,
    'invalid_bookmark',
    `Invalid bookmark value: ${JSON.stringify(bookmark)}`,
  );
}

/** Mango: `_find`, `_explain` and `_index`, served by pouchdb-find. */
export default async function findRoutes(app: FastifyInstance): Promise<void> {
  const { registry } = app.store;
  const call = <T>(name: string, fn: (db: Db) => Promise<T>) =>
    registry.use(name, (h) =>
      fn(h.db).catch((err) => {
        throw mangoError(err);
      }),
    );

  /** The `_find` request as pouchdb-find takes it, checked as mango_opts checks it. */
  function findRequest(body: Record<string, unknown>) {
    if (body.selector === undefined) throw missingKey('selector');
    if (
      typeof body.selector !== 'object' ||
      body.selector === null ||
      Array.isArray(body.selector)
    ) {
      throw new CouchError(400, 'invalid_selector_json', 'Selector must be a JSON object');
    }
    for (const key of ['limit', 'skip'] as const) {
      const v = body[key];
      if (v !== undefined && !(Number.isSafeInteger(v) && (v as number) >= 0)) {
        throw new CouchError(
          400,
          'invalid_value',
          `Invalid value for ${key}: ${JSON.stringify(v)}`,
        );
      }
    }
    const { bookmark, execution_stats: _s, ...rest } = body;
    const skip = ((rest.skip as number | undefined) ?? 0) + skipFrom(bookmark);
    return { ...rest, skip, limit: (rest.limit as number | undefined) ?? FIND_LIMIT };
  }

  app.post('/:db/_find', async (req) => {
    const name = dbName(req);
    requireMember(req, registry.record(name));
    requireJsonType(req);
    const body = jsonObject(req);
    const request = findRequest(body);
    const started = process.hrtime.bigint();
    const res = (await call(name, (db) => db.find(request as never))) as {
      docs: unknown[];
      warning?: string;
    };
    const out: Record<string, unknown> = {
      docs: res.docs,
      bookmark: res.docs.length > 0 ? bookmarkFor(request.skip + res.docs.length) : 'nil',
    };
    if (res.warning) out.warning = res.warning;
    if (body.execution_stats === true) {
      out.execution_stats = {
        results_returned: res.docs.length,
        execution_time_ms: Number(process.hrtime.bigint() - started) / 1e6,
      };
    }
    return out;
  });

  app.post('/:db/_explain', async (req) => {
    const name = dbName(req);
    requireMember(req, registry.record(name));
    requireJsonType(req);
    const request = findRequest(jsonObject(req));
    const plan = (await call(name, (db) =>
      (db as unknown as { explain: (b: unknown) => Promise<Record<string, unknown>> }).explain(
        request,
      ),
    )) as Record<string, unknown>;
    // pouchdb-find names the database by its path on disk; CouchDB by its name.
    return { ...plan, dbname: name };
  });

  app.get('/:db/_index', async (req) => {
    const name = dbName(req);
    requireMember(req, registry.record(name));
    return call(name, (db) => db.getIndexes());
  });

  app.post('/:db/_index', async (req) => {
    const name = dbName(req);
    const rec = registry.record(name);
    requireMember(req, rec);
    requireDbAdmin(req, rec);
    requireJsonType(req);
    const body = jsonObject(req);
    if (body.index === undefined) throw missingKey('index');
    if (typeof body.index !== 'object' || body.index === null || Array.isArray(body.index)) {
      throw new CouchError(400, 'invalid_index_json', 'JSON indexes must be an object');
    }
    return call(name, (db) => db.createIndex(body as never));
  });

  const deleteIndex = async (req: import('fastify').FastifyRequest) => {
    const name = dbName(req);
    const rec = registry.record(name);
    requireMember(req, rec);
    requireDbAdmin(req, rec);
    const { ddoc, index } = req.params as { ddoc: string; index: string };
    const id = ddoc.startsWith('_design/') ? ddoc : `_design/${ddoc}`;
    await call(name, async (db) => {
      const { indexes } = await db.getIndexes();
      if (
        !indexes.some(
          (i: { ddoc: string | null; name: string }) => i.ddoc === id && i.name === index,
        )
      ) {
        throw errors.missing();
      }
      return db.deleteIndex({ ddoc: id, name: index } as never);
    });
    return { ok: true };
  };
  app.delete('/:db/_index/:ddoc/:type/:index', deleteIndex);
  app.delete('/:db/_index/_design/:ddoc/:type/:index', deleteIndex);
}
