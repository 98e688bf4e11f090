import { checkDocId } from './doc-shape.js';
import { CouchError } from './errors.js';
import { checkRev } from './revs.js';
import type { Db } from './pouch.js';
import { DocRevs, type Leaf } from './open-revs.js';

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
 * Entries for one document share one reader: its tree and each revision body
 * are read once, however many entries name them.
 */
export async function bulkGet(db: Db, wanted: unknown[], o: BulkGetOptions) {
  const readers = new Map<string, Promise<DocRevs>>();
  const readerFor = (id: string, attachments: boolean, rev: unknown) => {
    const key = `${attachments ? 1 : 0}${id}`;
    let reader = readers.get(key);
    if (!reader) {
      reader = DocRevs.open(db, id, attachments, typeof rev === 'string' ? rev : undefined);
      readers.set(key, reader);
    }
    return reader;
  };
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
      const withAtts = o.attachments || Array.isArray(attsSince);
      const reader = await readerFor(id as string, withAtts, rev);
      const leaves = await reader.read(rev === undefined ? 'all' : [rev as string], {
        ...o,
        attachments: withAtts,
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
