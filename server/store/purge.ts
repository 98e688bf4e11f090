import type { Registry } from './registry.js';
import type { Db } from './pouch.js';
import { localDocs } from './local-docs.js';
import { own } from './own.js';

type Leaf = Record<string, unknown> & { _rev: string };

const BATCH = 100;

/**
 * `_purge` for the LevelDB adapter, which cannot forget revisions in place: the
 * database is copied without the purged leaves into a new directory, and only
 * when the copy is complete does the registry switch to it. A crash mid-copy
 * leaves the old directory in use and the partial copy is swept at start-up.
 * Leaves, their revision histories, attachments and `_local` documents are
 * carried over; bodies of non-leaf revisions are not (as after a compaction).
 * Sequences keep growing, so replication checkpoints re-check from the start.
 */
export async function purge(
  registry: Registry,
  name: string,
  request: Record<string, string[]>,
): Promise<Record<string, string[]>> {
  // Keyed by document ids: no prototype, so `__proto__` or `constructor` is an id like any other.
  const purged: Record<string, string[]> = Object.create(null) as Record<string, string[]>;
  for (const id of Object.keys(request)) purged[id] = [];
  // Only leaves can be purged: when none of the named revisions is one, there is nothing to rebuild.
  const wanted = await registry.use(name, (h) => purgeableLeaves(h.db, request));
  if (wanted === 0) return purged;
  await registry.rebuild(name, async (old, fresh, rec) => {
    const info = await old.info();
    let since: number | string = 0;
    for (;;) {
      const page: { results: Array<{ id: string }>; last_seq: number | string } = await old.changes(
        { since, limit: BATCH, style: 'all_docs' },
      );
      if (page.results.length === 0) break;
      await copyBatch(
        old,
        fresh,
        page.results.map((r) => r.id),
        request,
        purged,
      );
      since = page.last_seq;
    }
    await copyLocalDocs(old, fresh, registry.path(rec.dir));
    return { seqOffset: Number(info.update_seq) + rec.seq_offset };
  });
  return purged;
}

async function leavesOf(db: Db, id: string): Promise<Leaf[]> {
  const leaves = (await db
    .get(id, { open_revs: 'all', revs: true, attachments: true } as never)
    .catch(() => [])) as unknown as Array<{ ok?: Leaf }>;
  return leaves.map((l) => l.ok).filter((l): l is Leaf => l !== undefined);
}

async function purgeableLeaves(db: Db, request: Record<string, string[]>): Promise<number> {
  let count = 0;
  for (const [id, revs] of Object.entries(request)) {
    const leaves = (
      (await db.get(id, { open_revs: 'all' } as never).catch(() => [])) as unknown as Array<{
        ok?: Leaf;
      }>
    ).map((l) => l.ok?._rev);
    count += revs.filter((r) => leaves.includes(r)).length;
  }
  return count;
}

async function copyBatch(
  old: Db,
  fresh: Db,
  ids: string[],
  request: Record<string, string[]>,
  purged: Record<string, string[]>,
): Promise<void> {
  const docs: Leaf[] = [];
  for (const id of ids) {
    const drop = new Set(own(request, id) ?? []);
    for (const leaf of await leavesOf(old, id)) {
      if (drop.has(leaf._rev)) own(purged, id)?.push(leaf._rev);
      else docs.push(leaf);
    }
  }
  if (docs.length > 0) await fresh.bulkDocs(docs as never, { new_edits: false });
}

/** Replication checkpoints and other `_local` documents survive a purge, as in CouchDB. */
async function copyLocalDocs(old: Db, fresh: Db, oldPath: string): Promise<void> {
  const { rows } = await localDocs(old, oldPath, {
    inclusive_end: true,
    descending: false,
    skip: 0,
    include_docs: true,
  });
  for (const row of rows) {
    const doc = (row as { doc?: Record<string, unknown> }).doc;
    if (!doc) continue;
    const { _rev: _r, ...body } = doc;
    await fresh.put(body as never);
  }
}
