import type { FastifyInstance, FastifyRequest } from 'fastify';
import { errors, toCouchError } from '../errors.js';
import { jsonObject, params, requireJsonType } from '../http.js';
import { formatSeq } from '../seq.js';
import { requireMember } from '../access.js';
import { queryView, reduceKeys } from '../views.js';
import { dbName } from './common.js';
import { own } from '../own.js';

const KEYS = ['key', 'startkey', 'start_key', 'endkey', 'end_key', 'keys'] as const;

function viewOptions(req: FastifyRequest, body: Record<string, unknown>): Record<string, unknown> {
  const q: Record<string, unknown> = {
    include_docs: params.bool(req, 'include_docs'),
    conflicts: params.bool(req, 'conflicts'),
    descending: params.bool(req, 'descending'),
    inclusive_end: params.bool(req, 'inclusive_end', true),
    update_seq: params.bool(req, 'update_seq'),
  };
  if (params.has(req, 'reduce')) q.reduce = params.bool(req, 'reduce');
  if (params.has(req, 'group')) q.group = params.bool(req, 'group');
  const groupLevel = params.int(req, 'group_level');
  if (groupLevel !== undefined) q.group_level = groupLevel;
  const limit = params.int(req, 'limit');
  if (limit !== undefined) q.limit = limit;
  const skip = params.int(req, 'skip');
  if (skip !== undefined) q.skip = skip;
  for (const k of KEYS) {
    const v = params.json(req, k);
    if (v !== undefined) q[k.replace('_key', 'key')] = v;
  }
  if (body.keys !== undefined) q.keys = body.keys;
  if (q.keys !== undefined && !Array.isArray(q.keys))
    throw errors.badRequest('`keys` must be an array');
  const stale =
    params.str(req, 'stale') ?? (params.str(req, 'update') === 'false' ? 'ok' : undefined);
  if (stale === 'ok' || stale === 'update_after') q.stale = stale;
  return q;
}

/** couch_mrview_util:validate_args: combinations CouchDB refuses before reading the index. */
function checkArgs(q: Record<string, unknown>, hasReduce: boolean): void {
  const fail = (reason: string) => {
    throw errors.queryParse(reason);
  };
  const grouping = q.group === true || (typeof q.group_level === 'number' && q.group_level > 0);
  if (!hasReduce) {
    if (q.reduce === true) fail('Reduce is invalid for map-only views.');
    if (grouping) fail('Invalid use of grouping on a map view.');
    return;
  }
  const reducing = q.reduce !== false;
  if (!reducing) {
    if (grouping) fail('Invalid use of grouping when reduce=false');
    return;
  }
  if (q.include_docs === true) fail('`include_docs` is invalid for reduce');
  // One key is a key range; several need exact grouping (a group_level is not enough).
  if (Array.isArray(q.keys) && q.keys.length > 1 && q.group !== true)
    fail('Multi-key fetches for reduce views must use `group=true`');
}

/** One key in `keys` on a view that reduces without grouping: CouchDB 3.5 answers one reduced row. */
function reducesKeys(q: Record<string, unknown>, reduce: unknown): reduce is string {
  const grouping = q.group === true || (typeof q.group_level === 'number' && q.group_level > 0);
  return typeof reduce === 'string' && q.reduce !== false && Array.isArray(q.keys) && !grouping;
}

/** `GET|POST /db/_design/d/_view/v`: sandboxed map/reduce with CouchDB's query parameters. */
export default async function viewRoutes(app: FastifyInstance): Promise<void> {
  const { registry } = app.store;
  const handler = async (req: FastifyRequest) => {
    const name = dbName(req);
    requireMember(req, registry.record(name));
    const { ddoc, view } = req.params as { ddoc: string; view: string };
    const body = req.method === 'POST' ? (requireJsonType(req), jsonObject(req)) : {};
    const opts = viewOptions(req, body);
    return registry.use(name, async (h) => {
      const design = (await h.db.get(`_design/${ddoc}`).catch((e) => {
        throw toCouchError(e);
      })) as { views?: Record<string, { map?: unknown; reduce?: unknown }> };
      const def = own(design.views, view);
      if (!def || typeof def.map !== 'string') throw errors.notFound('missing_named_view');
      checkArgs(opts, typeof def.reduce === 'string');
      try {
        const res = reducesKeys(opts, def.reduce)
          ? await reduceKeys(h.db, ddoc, view, def.reduce, opts)
          : await queryView(h.db, ddoc, view, opts);
        if (res.update_seq !== undefined) {
          res.update_seq = formatSeq(Number(res.update_seq), h.record.seq_offset);
        }
        return res;
      } catch (err) {
        const e = toCouchError(err);
        if (e.status === 404) throw errors.notFound(e.reason);
        if (e.status >= 500) throw errors.badRequest(e.reason);
        throw e;
      }
    });
  };
  app.get('/:db/_design/:ddoc/_view/:view', handler);
  app.post('/:db/_design/:ddoc/_view/:view', handler);
}
