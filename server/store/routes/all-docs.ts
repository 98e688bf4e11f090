import type { FastifyInstance, FastifyRequest } from 'fastify';
import { errors } from '../errors.js';
import { jsonObject, params, requireJsonType } from '../http.js';
import { requireMember } from '../access.js';
import { formatSeq } from '../seq.js';
import { localDocs } from '../local-docs.js';
import { dbName } from './common.js';

type Namespace = 'all' | 'design' | 'local';

/** `_all_docs`, `_design_docs` and `_local_docs`, by GET (keys in the query) or POST (keys in the body). */
export default async function allDocsRoutes(app: FastifyInstance): Promise<void> {
  const { registry } = app.store;

  const list = async (req: FastifyRequest, ns: Namespace) => {
    const name = dbName(req);
    requireMember(req, registry.record(name));
    const q = allDocsOptions(req);
    if (req.method === 'POST') {
      requireJsonType(req);
      const keys = jsonObject(req).keys;
      if (keys !== undefined && !Array.isArray(keys)) {
        throw errors.badRequest('`keys` body member must be an array.');
      }
      if (keys !== undefined) q.keys = keys;
    }
    return registry.use(name, async (h) => {
      if (ns === 'local') {
        return localDocs(h.db, registry.path(h.record.dir), {
          startkey: typeof q.startkey === 'string' ? q.startkey : undefined,
          endkey: typeof q.endkey === 'string' ? q.endkey : undefined,
          inclusive_end: q.inclusive_end as boolean,
          descending: q.descending as boolean,
          limit: q.limit as number | undefined,
          skip: (q.skip as number | undefined) ?? 0,
          include_docs: q.include_docs as boolean,
          keys: q.keys as unknown[] | undefined,
        });
      }
      if (ns === 'design' && q.keys === undefined) designRange(q);
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

  for (const [path, ns] of [
    ['_all_docs', 'all'],
    ['_design_docs', 'design'],
    ['_local_docs', 'local'],
  ] as const) {
    app.route({
      method: ['GET', 'HEAD', 'POST'],
      url: `/:db/${path}`,
      handler: (req) => list(req, ns),
    });
  }
}

/** `_design_docs`: the asked-for range, kept inside `_design/`. */
function designRange(q: Record<string, unknown>): void {
  const [lo, hi] = ['_design/', '_design0'];
  const clamp = (v: unknown, dflt: string, max: boolean) =>
    typeof v !== 'string' ? dflt : max ? (v > dflt ? dflt : v) : v < dflt ? dflt : v;
  if (q.descending) {
    q.startkey = clamp(q.startkey, hi, true);
    q.endkey = clamp(q.endkey, lo, false);
  } else {
    q.startkey = clamp(q.startkey, lo, false);
    q.endkey = clamp(q.endkey, hi, true);
  }
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
    if (!Array.isArray(keys)) throw errors.badRequest('`keys` parameter must be an array.');
    q.keys = keys;
  }
  return q;
}
