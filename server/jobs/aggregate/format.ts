import type Nano from 'nano';
import { getDoc, upsert } from '../../couch/upsert.js';
import { bulkWrite, idsWithPrefix } from './couch-io.js';

/**
 * The layout of the reporting database's documents. Version 2 keeps each bucket's members
 * and a linker index (buckets.ts, linkers.ts) instead of reading views right after writing;
 * buckets of version 1 may have been computed from a stale view read on a cluster, and they
 * lack what version 2 updates. So a database of an older layout is rebuilt once: its derived
 * documents and the aggregator's checkpoints are removed, and this run recounts everything.
 */
export const FORMAT = 2;
const FORMAT_ID = 'format:aggregates';
const DERIVED = ['bucket:', 'contribution:', 'linkers:', 'pending:', 'purge_seq:'];

export async function ensureFormat(
  nano: Nano.ServerScope,
  agg: Nano.DocumentScope<unknown>,
  jobsDb: string,
  job: string,
): Promise<boolean> {
  const doc = await getDoc<{ format: number }>(agg, FORMAT_ID);
  if (doc?.format === FORMAT) return false;
  const jobs = nano.use(jobsDb);
  // Checkpoints first: if this is cut short, the next run finds no format and starts again.
  await remove(jobs, await idsWithPrefix(jobs, `checkpoint:${job}:`));
  for (const prefix of DERIVED) await remove(agg, await idsWithPrefix(agg, prefix));
  await upsert(agg, FORMAT_ID, () => ({ kind: 'format', format: FORMAT }));
  return true;
}

async function remove(db: Nano.DocumentScope<unknown>, ids: string[]): Promise<void> {
  for (let i = 0; i < ids.length; i += 500) {
    const keys = ids.slice(i, i + 500);
    const res = await db.fetchRevs({ keys });
    const docs = (res.rows as Array<{ id?: string; value?: { rev: string; deleted?: boolean } }>)
      .filter((r) => r.id && r.value && !r.value.deleted)
      .map((r) => ({ _id: r.id, _rev: r.value!.rev, _deleted: true }));
    await bulkWrite(db, docs);
  }
}
