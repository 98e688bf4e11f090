import type Nano from 'nano';
import { PURGE_TYPE, everyDoc, leavesOfIds, purge, tellPhones } from '../couch/purge.js';
import { sweepPurged } from '../jobs/aggregate/purged.js';
import { userDbName } from '../provisioning/names.js';
import type { RuleSet } from '../rules/load.js';
import { findSubjectDocs } from './subject.js';

export interface ErasureResult {
  /** Database → documents purged there. */
  databases: Record<string, number>;
  conflict_archive: number;
  aggregate_contributions: number;
}

/**
 * Erases a person (docs/data-protection.md, "Erasure"): `_purge` of their documents in
 * their own database (all of it, deleted documents and conflicts too) and of those they own
 * in team databases, an instruction to the phones of each database to purge them too, then
 * their conflict-archive entries, and their aggregate contributions: the aggregator's sweep
 * takes the purged documents out of the report buckets first, then the contribution records
 * are purged. Safe to run again: a second run finds nothing left.
 */
export async function eraseSubject(deps: {
  nano: Nano.ServerScope;
  rules: RuleSet;
  aggregatesDb: string;
  archiveDb: string;
  name: string;
  log?: { warn(obj: object, msg: string): void };
}): Promise<ErasureResult> {
  const { nano, name } = deps;
  const found = await findSubjectDocs(nano, deps.rules, name, {
    attachments: false,
    aggregatesDb: deps.aggregatesDb,
    archiveDb: deps.archiveDb,
  });
  const own = userDbName(name);
  const result: ErasureResult = { databases: {}, conflict_archive: 0, aggregate_contributions: 0 };
  const touched = new Set<string>([own, ...Object.keys(found.databases)]);
  for (const db of touched) {
    const leaves =
      db === own
        ? await everyDoc(nano, db)
        : await leavesOfIds(
            nano,
            db,
            (found.databases[db] ?? []).map((d) => d._id),
          );
    // The server's own instructions stay: phones still need them.
    for (const [id] of leaves) if (id.startsWith(`${PURGE_TYPE}:`)) leaves.delete(id);
    if (!leaves.size) continue;
    result.databases[db] = await purge(nano, db, leaves);
    await tellPhones(nano, db, [...leaves.keys()], 'erasure');
  }
  result.conflict_archive = await purge(
    nano,
    deps.archiveDb,
    await leavesOfIds(
      nano,
      deps.archiveDb,
      found.conflict_archive.map((d) => d._id),
    ),
  );
  // The buckets first (the sweep sees the documents gone), then the records themselves.
  const agg = nano.use(deps.aggregatesDb);
  for (const db of Object.keys(result.databases)) {
    try {
      await sweepPurged({ nano, agg }, db);
    } catch (err) {
      deps.log?.warn(
        { err: String(err) },
        'aggregate sweep after erasure failed: the job will do it',
      );
    }
  }
  const contributions = new Set(found.aggregate_contributions.map((d) => d._id));
  result.aggregate_contributions = await purge(
    nano,
    deps.aggregatesDb,
    await leavesOfIds(nano, deps.aggregatesDb, [...contributions]),
  );
  return result;
}
