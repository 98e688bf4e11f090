import type Nano from 'nano';
import { cleanCouchError } from '../../errors.js';
import { getDoc, upsert } from '../../couch/upsert.js';
import { purgedSince } from '../../couch/sequences.js';
import { contributionId } from './aggregates-db.js';
import { applyBatch, type BatchDeps, type BatchStats } from './batch.js';
import { idsWithPrefix } from './couch-io.js';
import type { Facts } from './rollups.js';

/**
 * A purged document (retention, or erasure under the data protection act) leaves no trace
 * in `_changes`, so its contribution would count for ever. When a database's `purge_seq`
 * counts more purges in some shard range than when the aggregator last looked, its contributions are checked against the
 * database and those whose document is gone are taken out, like deletions.
 */

interface PurgeSeen {
  kind: 'purge_seen';
  db: string;
  purge_seq: string;
}

const seenId = (db: string) => `purge_seq:${db}`;

export async function sweepPurged(
  deps: BatchDeps & { nano: Nano.ServerScope },
  db: string,
): Promise<BatchStats & { purged: number }> {
  let info: { purge_seq?: unknown };
  try {
    info = (await deps.nano.request({ db })) as typeof info;
  } catch (err) {
    throw cleanCouchError(err);
  }
  const now = String(info.purge_seq ?? 0);
  const seen = await getDoc<PurgeSeen>(deps.agg, seenId(db));
  // Compared shard range by range: a cluster's purge_seq text changes between requests.
  if (!purgedSince(seen?.purge_seq ?? '0', now)) return { purged: 0, contributions: 0, buckets: 0 };

  const prefix = contributionId(db, '');
  const ids = (await idsWithPrefix(deps.agg, prefix)).map((id) => id.slice(prefix.length));
  const gone: string[] = [];
  for (let i = 0; i < ids.length; i += 500) {
    const keys = ids.slice(i, i + 500);
    let res: { rows: Array<{ key: string; error?: string }> };
    try {
      res = (await deps.nano.request({
        db,
        path: '_all_docs',
        method: 'POST',
        body: { keys },
      })) as typeof res;
    } catch (err) {
      throw cleanCouchError(err);
    }
    // Deleted documents still answer (with their tombstone); purged ones are not_found.
    for (const row of res.rows) if (row.error === 'not_found') gone.push(row.key);
  }
  const changed = new Map<string, Facts | null>(gone.map((id) => [id, null]));
  const stats = await applyBatch(deps, db, changed, async () => {
    await upsert<PurgeSeen>(deps.agg, seenId(db), () => ({
      kind: 'purge_seen',
      db,
      purge_seq: now,
    }));
  });
  return { purged: gone.length, ...stats };
}
