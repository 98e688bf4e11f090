import { checkDocId } from './doc-shape.js';
import { CouchError } from './errors.js';
import { checkRev } from './revs.js';
import type { Db } from './pouch.js';
import { openRevs, type Leaf } from './routes/doc-read.js';

type Doc = Record<string, unknown>;
type Entry =
  { ok: Doc } | { error: { id: string | null; rev: string | null; error: string; reason: string } };

export interface BulkGetOptions {
  revs: boolean;
  attachments: boolean;
  latest: boolean;
}

/** A request entry the store cannot read, answered in place as chttpd_db:bulk_get_json_error. */
const failed = (id: unknown, rev: unknown, e: CouchError): Entry => ({
  error: {
    id: typeof id === 'string' ? id : null,
    rev: typeof rev === 'string' ? rev : null,
    error: e.error,
    reason: e.reason,
  },
});

/**
 * `_bulk_get`, as chttpd_db: one result per requested entry, in request
 * order, each `{id, docs: [{ok} | {error}]}`; a missing document or revision
 * is an error entry (`rev: "undefined"` when none was named), never a failed request.
 */
export async function bulkGet(db: Db, wanted: unknown[], o: BulkGetOptions) {
  return Promise.all(
    wanted.map(async (raw) => {
      const entry = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
      const { id, rev, atts_since: attsSince } = entry;
      if (id === undefined || id === null) {
        return {
          id: null,
          docs: [failed(null, null, new CouchError(400, 'bad_request', 'document id missed'))],
        };
      }
      try {
        checkDocId(id);
      } catch (err) {
        return { id, docs: [failed(id, null, err as CouchError)] };
      }
      try {
        if (rev !== undefined) checkRev(rev);
        if (attsSince !== undefined) {
          if (!Array.isArray(attsSince)) {
            throw new CouchError(400, 'bad_request', 'att_since value must be array of revs.');
          }
          attsSince.forEach(checkRev);
        }
      } catch (err) {
        return { id, docs: [failed(id, rev, err as CouchError)] };
      }
      const leaves = await openRevs(db, id as string, rev === undefined ? 'all' : [rev as string], {
        ...o,
        ...(Array.isArray(attsSince) ? { attsSince: attsSince as string[] } : {}),
      });
      if (leaves.length === 0) {
        return {
          id,
          docs: [failed(id, rev ?? 'undefined', new CouchError(404, 'not_found', 'missing'))],
        };
      }
      return {
        id,
        docs: leaves.map((l: Leaf) =>
          l.ok ? { ok: l.ok } : failed(id, l.missing, new CouchError(404, 'not_found', 'missing')),
        ),
      };
    }),
  );
}
