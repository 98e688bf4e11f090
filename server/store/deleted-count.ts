import type { Handle } from './registry.js';

interface Tally {
  seq: number;
  deleted: Set<string>;
}

const MAX_TRACKED_DBS = 500;
const tallies = new Map<string, Tally>();

/**
 * `doc_del_count` for database info. PouchDB does not keep it, so the store
 * tallies deleted ids from the changes feed: once from the start, then only the
 * changes since the last count (a change carries the document's current state,
 * so each id is simply added or removed). Keyed by directory, so a purge
 * rebuild starts a fresh tally.
 */
export async function deletedCount(h: Handle, updateSeq: number): Promise<number> {
  const key = h.record.dir;
  let tally = tallies.get(key);
  if (!tally || tally.seq > updateSeq) {
    tally = { seq: 0, deleted: new Set() };
    if (tallies.size >= MAX_TRACKED_DBS) tallies.delete(tallies.keys().next().value as string);
    tallies.set(key, tally);
  }
  if (tally.seq < updateSeq) {
    const res = await h.db.changes({ since: tally.seq, return_docs: true });
    for (const c of res.results as Array<{ id: string; deleted?: boolean }>) {
      if (c.deleted) tally.deleted.add(c.id);
      else tally.deleted.delete(c.id);
    }
    tally.seq = Math.max(tally.seq, Number(res.last_seq));
  }
  return tally.deleted.size;
}
