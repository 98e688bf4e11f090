import type { FastifyRequest } from 'fastify';
import { errors, toCouchError } from '../errors.js';
import { params } from '../http.js';
import { checkRev } from '../revs.js';
import type { Db } from '../pouch.js';
import type { Doc } from '../writes.js';
import { Revisions } from '../rev-tree.js';
import { DocRevs, stubOlderAttachments, type Leaf } from '../open-revs.js';

/** A document query flag: CouchDB's document endpoints read `true` and ignore anything else. */
export const flag = (req: FastifyRequest, key: string) => params.str(req, key) === 'true';

/**
 * `GET /db/doc` with CouchDB's read options (`rev`, `revs`, `revs_info`,
 * `conflicts`, `deleted_conflicts`, `meta`, `latest`, `attachments`,
 * `atts_since`, `local_seq`); `open_revs` is answered by {@link openRevsOf}.
 * Histories come from the revision tree, not PouchDB's `revs`, which loses
 * its way when a hash is reused at a later generation.
 */
export async function readDoc(req: FastifyRequest, db: Db, id: string): Promise<Doc> {
  const meta = flag(req, 'meta');
  const latest = flag(req, 'latest');
  const revsInfo = flag(req, 'revs_info') || meta;
  const opts: Record<string, unknown> = {
    conflicts: flag(req, 'conflicts') || meta,
    attachments: flag(req, 'attachments'),
    local_seq: flag(req, 'local_seq'),
  };
  const rawRev = params.str(req, 'rev');
  let rev = rawRev === undefined ? undefined : checkRev(rawRev);
  const attsSince = params.json(req, 'atts_since');
  if (attsSince !== undefined) {
    if (!Array.isArray(attsSince))
      throw errors.badRequest('atts_since must be a JSON array of revisions');
    attsSince.forEach(checkRev);
    opts.attachments = true;
  }
  const revs = flag(req, 'revs') || attsSince !== undefined;
  const local = id.startsWith('_local/');
  const tree = !local && (revs || revsInfo) ? await Revisions.read(db, id) : null;
  // CouchDB 3.5 answers `rev=X&latest=true` with the winning revision, whatever X is (even
  // one the document never had); only `open_revs` and `_bulk_get` follow X's branch.
  if (latest && !local) rev = undefined;
  if (rev !== undefined) opts.rev = rev;
  const doc = (await db.get(id, opts as never).catch((e) => {
    throw toCouchError(e);
  })) as unknown as Doc;
  const history = tree?.history(doc._rev as string);
  if (history && revs) doc._revisions = { start: history.start, ids: history.ids };
  if (history && revsInfo) {
    doc._revs_info = history.ids.map((hash, i) => ({
      rev: `${history.start - i}-${hash}`,
      status: history.status[i],
    }));
  }
  if (flag(req, 'deleted_conflicts') || meta) {
    const deleted = await deletedConflicts(db, id, doc._rev as string);
    if (deleted.length > 0) doc._deleted_conflicts = deleted;
  }
  if (Array.isArray(attsSince)) {
    stubOlderAttachments(doc, attsSince as string[]);
    if (!flag(req, 'revs')) delete doc._revisions;
  }
  return doc;
}

async function deletedConflicts(db: Db, id: string, winner: string): Promise<string[]> {
  const leaves = (await db.get(id, { open_revs: 'all' } as never)) as unknown as Leaf[];
  return leaves
    .map((l) => l.ok)
    .filter((d): d is Doc => !!d && d._deleted === true && d._rev !== winner)
    .map((d) => d._rev as string);
}

function parseOpenRevs(value: string): 'all' | string[] {
  if (value === 'all') return 'all';
  let revs: unknown;
  try {
    revs = JSON.parse(value);
  } catch {
    throw errors.badRequest('open_revs must be "all" or a JSON array of revisions');
  }
  if (!Array.isArray(revs))
    throw errors.badRequest('open_revs must be "all" or a JSON array of revisions');
  return revs.map(checkRev);
}

/**
 * `GET /db/doc?open_revs=…`: the leaves asked for, in CouchDB's order; none of `all` is a 404.
 * Leaves sent as multipart carry their attachments' bytes whatever `attachments` says, as
 * chttpd's send_docs_multipart does.
 */
export async function openRevsOf(
  req: FastifyRequest,
  db: Db,
  id: string,
  value: string,
  multipart: boolean,
) {
  const wanted = parseOpenRevs(value);
  const attachments = multipart || flag(req, 'attachments');
  const reader = await DocRevs.open(db, id, attachments);
  const result = await reader.read(wanted, {
    revs: flag(req, 'revs'),
    attachments,
    latest: flag(req, 'latest'),
  });
  if (wanted === 'all' && result.length === 0) throw errors.missing();
  return result;
}
