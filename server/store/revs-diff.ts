import type { Db } from './pouch.js';
import { Revisions } from './rev-tree.js';

type Diff = Record<string, { missing: string[]; possible_ancestors?: string[] }>;

/**
 * `_revs_diff` as couch_db:get_missing_revs (checked on CouchDB 3.5.0): the revisions the
 * database lacks per document (documents lacking none are left out) and, for documents it
 * has, `possible_ancestors`: its leaves older than some missing revision. A revision is
 * known when the document's tree holds it, body or not (an ancestor named only in a
 * replicated `_revisions`); each known revision answers one mention of it (couch_key_tree's
 * `--`), and a known document's missing revisions come sorted, an unknown one's as asked.
 * One read of each document's revision tree answers it all: asking PouchDB, then
 * `_all_docs` by key for which documents exist, then every leaf's body, cost a
 * replicator's push more than the write itself.
 */
export async function revsDiff(db: Db, request: Record<string, string[]>): Promise<Diff> {
  const diff: Diff = {};
  const ids = Object.keys(request);
  const trees = await Promise.all(ids.map((id) => Revisions.read(db, id)));
  ids.forEach((id, i) => {
    const asked = request[id] as string[];
    const tree = trees[i];
    if (!tree) {
      if (asked.length > 0) set(diff, id, { missing: [...asked] });
      return;
    }
    const found = new Set<string>();
    const missing = asked.filter((rev) => {
      if (found.has(rev) || !tree.has(rev)) return true;
      found.add(rev);
      return false;
    });
    if (missing.length === 0) return;
    missing.sort(byPosition);
    const newest = position(missing[missing.length - 1] as string);
    const ancestors = tree.leaves().filter((rev) => position(rev) < newest);
    set(diff, id, ancestors.length > 0 ? { missing, possible_ancestors: ancestors } : { missing });
  });
  return diff;
}

/** An own property whatever the id (`__proto__` is an id like any other). */
function set(diff: Diff, id: string, entry: Diff[string]): void {
  Object.defineProperty(diff, id, { value: entry, enumerable: true, writable: true });
}

function position(rev: string): number {
  return Number(rev.slice(0, rev.indexOf('-')));
}

function byPosition(a: string, b: string): number {
  const d = position(a) - position(b);
  if (d !== 0) return d;
  const ha = a.slice(a.indexOf('-') + 1);
  const hb = b.slice(b.indexOf('-') + 1);
  return ha < hb ? -1 : ha > hb ? 1 : 0;
}
