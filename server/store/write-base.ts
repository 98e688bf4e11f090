import type { Handle } from './registry.js';
import type { Doc } from './write-types.js';

/**
 * What a write builds on, as CouchDB passes it to validate_doc_update as `oldDoc`: a body,
 * null (a create), `conflict` (an interactive edit naming no current leaf, found before
 * validation as in couch_db:prep_and_validate_update) or `exists` (a replicated revision the
 * database already has: CouchDB does not validate it again).
 */
export type Previous = Doc | null | 'conflict' | 'exists';

export async function previousRevisions(
  h: Handle,
  docs: readonly Doc[],
  newEdits: boolean,
): Promise<Previous[]> {
  return Promise.all(
    docs.map((doc) => (newEdits ? editedLeaf(h, doc) : nearestOnDisk(h, doc._id as string, doc))),
  );
}

async function editedLeaf(h: Handle, doc: Doc): Promise<Previous> {
  const id = doc._id as string;
  const leaves = (
    (await h.db.get(id, { open_revs: 'all' } as never).catch(() => [])) as unknown as Array<{
      ok?: Doc;
    }>
  )
    .map((l) => l.ok)
    .filter((d): d is Doc => d !== undefined);
  if (typeof doc._rev !== 'string') {
    return leaves.some((d) => d._deleted !== true) ? 'conflict' : null;
  }
  const leaf = leaves.find((d) => d._rev === doc._rev);
  if (!leaf) return 'conflict';
  return leaf._deleted === true ? null : leaf;
}

/**
 * For a replicated revision, `oldDoc` is the nearest ancestor whose body the database still
 * has (couch_db's make_first_doc_on_disk), not just the parent: a phone that edited a
 * document three times offline sends one revision whose parent the server never saw.
 */
async function nearestOnDisk(h: Handle, id: string, doc: Doc): Promise<Previous> {
  const revs = doc._revisions as { start?: number; ids?: string[] } | undefined;
  if (!revs?.ids || typeof revs.start !== 'number') return null;
  const leaves = (await h.db
    .get(id, { open_revs: 'all', revs: true } as never)
    .catch(() => [])) as unknown as Array<{ ok?: Doc }>;
  const known = new Set<string>();
  for (const l of leaves) {
    const path = l.ok?._revisions as { start: number; ids: string[] } | undefined;
    path?.ids.forEach((hash, i) => known.add(`${path.start - i}-${hash}`));
  }
  if (known.size === 0) return null;
  if (known.has(doc._rev as string)) return 'exists';
  for (let i = 1; i < revs.ids.length; i++) {
    const rev = `${revs.start - i}-${revs.ids[i]}`;
    if (!known.has(rev)) continue;
    const body = (await h.db.get(id, { rev }).catch(() => null)) as Doc | null;
    if (body) return body._deleted === true ? null : body;
  }
  return null;
}
