import { CouchError, errors } from './errors.js';
import { checkAttachments } from './attachment-shape.js';
import { checkRev } from './revs.js';

type Doc = Record<string, unknown>;

/** Special members CouchDB accepts in a written document and then drops (couch_doc:transfer_fields). */
const IGNORED = ['_revs_info', '_local_seq', '_conflicts', '_deleted_conflicts'];
const KEPT = [
  '_id',
  '_rev',
  '_revisions',
  '_deleted',
  '_attachments',
  // The replicator's own members, kept in the body (couch_doc:transfer_fields).
  '_replication_state',
  '_replication_state_time',
  '_replication_state_reason',
  '_replication_id',
  '_replication_stats',
];

const invalid = (reason: string) => new CouchError(400, 'doc_validation', reason);

/**
 * couch_doc:from_json_obj_validate: a document CouchDB could not even parse
 * fails the whole request (400), before any document of it is written.
 * Returns the document as it will be stored (ignored members dropped).
 */
export function checkDocShape(doc: unknown, newEdits: boolean): Doc {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw errors.badRequest('Document must be a JSON object');
  }
  const d = doc as Doc;
  if (d._id !== undefined) checkDocId(d._id);
  if (d._rev !== undefined) checkRev(d._rev);
  const local = typeof d._id === 'string' && d._id.startsWith('_local/');
  if (d._revisions !== undefined) checkRevisions(d._revisions, local);
  if (d._deleted !== undefined && typeof d._deleted !== 'boolean') {
    throw invalid('Bad special document member: _deleted');
  }
  if (d._attachments !== undefined) d._attachments = checkAttachments(d._attachments);
  for (const key of Object.keys(d)) {
    if (key.startsWith('_') && !KEPT.includes(key) && !IGNORED.includes(key)) {
      throw invalid(`Bad special document member: ${key}`);
    }
  }
  // fromEntries, not assignment: a member named `__proto__` stays a member.
  const out: Doc = Object.fromEntries(Object.entries(d).filter(([k]) => !IGNORED.includes(k)));
  // CouchDB stores only the body of a `_local` document: attachments are dropped.
  if (local) delete out._attachments;
  if (!newEdits && out._rev === undefined) {
    const revs = out._revisions as { start: number; ids: string[] } | undefined;
    if (revs && revs.ids.length > 0) out._rev = `${revs.start}-${revs.ids[0]}`;
    else if (!(typeof out._id === 'string' && out._id.startsWith('_local/'))) {
      throw errors.badRequest(
        'When `new_edits: false`, the document needs `_rev` or `_revisions` specified',
      );
    }
  }
  return out;
}

export function checkDocId(id: unknown): string {
  if (typeof id !== 'string') throw errors.illegalDocId('Document id must be a string');
  if (id === '_design/' || id === '_local/')
    throw errors.illegalDocId(`Illegal document id \`${id}\``);
  if (id.startsWith('_') && !id.startsWith('_design/') && !id.startsWith('_local/')) {
    throw errors.illegalDocId('Only reserved document ids may start with underscore.');
  }
  return id;
}

function checkRevisions(revs: unknown, local: boolean): void {
  if (typeof revs !== 'object' || revs === null || Array.isArray(revs)) {
    throw invalid('_revisions must be a JSON object');
  }
  const { start, ids } = revs as { start?: unknown; ids?: unknown };
  if (!Number.isInteger(start)) throw invalid("_revisions.start isn't an integer.");
  if (!Array.isArray(ids)) throw invalid("_revisions.ids isn't a array.");
  if (ids.some((x) => typeof x !== 'string')) throw invalid("RevId isn't a string");
  // CouchDB makes no such check; PouchDB's revision tree needs it, and a `_local` document has none.
  if (!local && ids.length > (start as number))
    throw invalid('_revisions.start is smaller than the number of ids');
}
