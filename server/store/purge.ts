import type { Registry } from './registry.js';
import type { Db } from './pouch.js';

type Leaf = Record<string, unknown> & { _rev: string };

const BATCH = 100;

/**
 * `_purge` for the LevelDB adapter, which cannot forget revisions in place: the
 * database is copied without the purged leaves into a new directory, and only
 * when the copy is complete does the registry switch to it. A crash mid-copy
 * leaves the old directory in use and the partial copy is swept at start-up.
 * Non-leaf revision bodies and `_local` checkpoints are not carried over (as
 * after a compaction; replicators then re-check from the start, losing nothing).
 */
export async function purge(
  registry: Registry,
  name: string,
  request: Record<string, string[]>,
): Promise<Record<string, string[]>> {
  const purged: Record<string, string[]> = {};
  for (const id of Object.keys(request)) purged[id] = [];
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
    return { seqOffset: Number(info.update_seq) + rec.seq_offset };
  });
  return purged;
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
    const leaves = (await old.get(id, {
      open_revs: 'all',
      revs: true,
      attachments: true,
    } as never)) as unknown as Array<{ ok?: Leaf }>;
    const drop = new Set(request[id] ?? []);
    for (const leaf of leaves) {
      if (!leaf.ok) continue;
      if (drop.has(leaf.ok._rev)) purged[id]?.push(leaf.ok._rev);
      else docs.push(leaf.ok);
    }
  }
  if (docs.length > 0) await fresh.bulkDocs(docs as never, { new_edits: false });
}
