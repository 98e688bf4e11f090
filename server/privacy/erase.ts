import type Nano from 'nano';
import { randomBytes } from 'node:crypto';
import { cleanCouchError, couchStatus } from '../errors.js';
import { ARCHIVE_DB } from '../jobs/reconcile/archive.js';
import { sweepPurged } from '../jobs/aggregate/purged.js';
import { userDbName } from '../provisioning/names.js';
import type { RuleSet } from '../rules/load.js';
import { findSubjectDocs } from './subject.js';

/** The type of the server's purge instructions to phones (sync-rules/sawa-purge.ts). */
export const PURGE_TYPE = 'sawa_purge';
/** The owner the server writes its instructions as. */
export const SERVER_OWNER = 'sawa';
const BATCH = 100;

type Leaves = Map<string, string[]>;

/** Every leaf revision (deleted ones and conflicts too) of a document; none when unknown. */
export async function leavesOf(nano: Nano.ServerScope, db: string, id: string): Promise<string[]> {
  try {
    const res = (await nano.request({
      db,
      doc: id,
      qs: { open_revs: 'all' },
      headers: { accept: 'application/json' },
    })) as Array<{ ok?: { _rev: string } }>;
    return res.flatMap((r) => (r.ok ? [r.ok._rev] : []));
  } catch (err) {
    if (couchStatus(err) === 404) return [];
    throw cleanCouchError(err);
  }
}

/** Every document of a database (deleted ones too) with all its leaves, from `_changes`. */
async function everyDoc(nano: Nano.ServerScope, db: string): Promise<Leaves> {
  const leaves: Leaves = new Map();
  try {
    const res = (await nano.request({
      db,
      path: '_changes',
      qs: { style: 'all_docs' },
    })) as { results: Array<{ id: string; changes: Array<{ rev: string }> }> };
    for (const r of res.results) {
      if (r.id.startsWith('_design/')) continue;
      leaves.set(
        r.id,
        r.changes.map((c) => c.rev),
      );
    }
  } catch (err) {
    if (couchStatus(err) !== 404) throw cleanCouchError(err);
  }
  return leaves;
}

async function leavesOfIds(nano: Nano.ServerScope, db: string, ids: string[]): Promise<Leaves> {
  const leaves: Leaves = new Map();
  for (const id of ids) {
    const revs = await leavesOf(nano, db, id);
    if (revs.length) leaves.set(id, revs);
  }
  return leaves;
}

/** `_purge`: every revision of the documents, gone (no tombstone), in batches. */
export async function purge(nano: Nano.ServerScope, db: string, leaves: Leaves): Promise<number> {
  const entries = [...leaves];
  for (let i = 0; i < entries.length; i += BATCH) {
    try {
      await nano.request({
        db,
        path: '_purge',
        method: 'POST',
        body: Object.fromEntries(entries.slice(i, i + BATCH)),
      });
    } catch (err) {
      throw cleanCouchError(err);
    }
  }
  return entries.length;
}

/** Writes the instruction that makes the phones syncing `db` purge `ids` (client/purge.ts). */
export async function tellPhones(
  nano: Nano.ServerScope,
  db: string,
  ids: string[],
  reason: 'erasure' | 'retention',
): Promise<void> {
  const now = new Date().toISOString();
  for (let i = 0; i < ids.length; i += 10_000) {
    try {
      await nano.use<Record<string, unknown>>(db).insert({
        _id: `${PURGE_TYPE}:${now}:${randomBytes(6).toString('hex')}`,
        type: PURGE_TYPE,
        owner: SERVER_OWNER,
        created_at: now,
        updated_at: now,
        ids: ids.slice(i, i + 10_000),
        reason,
      });
    } catch (err) {
      throw cleanCouchError(err);
    }
  }
}

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
  name: string;
  log?: { warn(obj: object, msg: string): void };
}): Promise<ErasureResult> {
  const { nano, name } = deps;
  const found = await findSubjectDocs(nano, deps.rules, name, {
    attachments: false,
    aggregatesDb: deps.aggregatesDb,
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
    ARCHIVE_DB,
    await leavesOfIds(
      nano,
      ARCHIVE_DB,
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
