import type Nano from 'nano';
import { cleanCouchError, couchStatus } from '../errors.js';

/**
 * The leaf revisions of one document, read in one request (`open_revs=all&revs=true`): every
 * branch's current body with its history, deleted branches included. The reconciler decides
 * from them; the report dates and counts them.
 */

export type Body = Record<string, unknown>;

export interface Leaf {
  rev: string;
  /** Generation: the number before the dash. */
  pos: number;
  deleted: boolean;
  /** The leaf as stored, `_id` and `_rev` included, `_revisions` left out. */
  body: Body;
  /** Full revision ids of this branch, the leaf first, back to the oldest CouchDB still knows. */
  history: string[];
}

interface OpenRev {
  ok?: Body & { _rev: string; _deleted?: boolean; _revisions?: { start: number; ids: string[] } };
  missing?: string;
}

/** Every leaf of the document, or [] when the database or the document does not exist. */
export async function fetchLeaves(nano: Nano.ServerScope, db: string, id: string): Promise<Leaf[]> {
  let res: OpenRev[];
  try {
    res = (await nano.request({ db, doc: id, qs: { open_revs: 'all', revs: true } })) as OpenRev[];
  } catch (err) {
    if (couchStatus(err) === 404) return [];
    throw cleanCouchError(err);
  }
  const leaves: Leaf[] = [];
  for (const r of res) {
    if (!r.ok) continue;
    const { _revisions, ...body } = r.ok;
    const pos = revPos(r.ok._rev);
    const history = _revisions
      ? _revisions.ids.map((hash, i) => `${_revisions.start - i}-${hash}`)
      : [r.ok._rev];
    leaves.push({ rev: r.ok._rev, pos, deleted: r.ok._deleted === true, body, history });
  }
  return leaves;
}

/** The body of one earlier revision, or null once compaction has dropped it. */
export async function fetchRevision(
  nano: Nano.ServerScope,
  db: string,
  id: string,
  rev: string,
  opts: { attachments?: boolean } = {},
): Promise<Body | null> {
  try {
    const qs = { rev, ...(opts.attachments && { attachments: true }) };
    return (await nano.request({ db, doc: id, qs })) as Body;
  } catch (err) {
    if (couchStatus(err) === 404) return null;
    throw cleanCouchError(err);
  }
}

export const revPos = (rev: string): number => Number.parseInt(rev, 10);

/**
 * CouchDB's own order of leaves, best first: higher generation, then the greater revision
 * hash. Every instance (and CouchDB itself) ranks a set of leaves the same way with it.
 */
export function couchOrder(a: Leaf, b: Leaf): number {
  if (a.pos !== b.pos) return b.pos - a.pos;
  const ha = a.rev.slice(a.rev.indexOf('-') + 1);
  const hb = b.rev.slice(b.rev.indexOf('-') + 1);
  return ha < hb ? 1 : ha > hb ? -1 : 0;
}

/** The newest revision every leaf descends from, or null when their known histories never meet. */
export function commonAncestor(leaves: readonly Leaf[]): string | null {
  const [first, ...rest] = leaves;
  if (!first) return null;
  const others = rest.map((l) => new Set(l.history));
  // Start below the leaf itself: a leaf is never its own branch's ancestor here.
  for (const rev of first.history.slice(1)) {
    if (others.every((s) => s.has(rev))) return rev;
  }
  return null;
}
