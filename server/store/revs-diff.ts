import type { Db } from './pouch.js';

type Diff = Record<string, { missing: string[]; possible_ancestors?: string[] }>;

/**
 * `_revs_diff` as couch_db:get_missing_revs: the revisions the database lacks
 * per document (documents lacking none are left out) and, for documents it
 * has, `possible_ancestors`: its leaves older than some missing revision.
 */
export async function revsDiff(db: Db, request: Record<string, string[]>): Promise<Diff> {
  const diff = (await db.revsDiff(request as never)) as unknown as Diff;
  const ids = Object.keys(diff).filter((id) => diff[id]!.missing.length > 0);
  for (const id of Object.keys(diff)) if (diff[id]!.missing.length === 0) delete diff[id];
  if (ids.length === 0) return diff;
  const known = await db.allDocs({ keys: ids });
  const existing = known.rows.filter((r) => !('error' in r)).map((r) => r.key);
  await Promise.all(
    existing.map(async (id) => {
      const entry = diff[id]!;
      const leaves = (await db.get(id, {
        open_revs: 'all',
        revs: true,
      } as never)) as unknown as Array<{
        ok?: { _rev: string; _revisions?: { start: number; ids: string[] } };
      }>;
      const newest = Math.max(...entry.missing.map((r) => Number(r.split('-')[0])));
      const ancestors = leaves
        .map((l) => l.ok?._rev)
        .filter((r): r is string => typeof r === 'string' && Number(r.split('-')[0]) < newest);
      if (ancestors.length > 0) entry.possible_ancestors = ancestors;
    }),
  );
  return diff;
}
