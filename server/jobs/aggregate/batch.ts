import type Nano from 'nano';
import type { Stored } from '../../couch/upsert.js';
import { getDoc } from '../../couch/upsert.js';
import {
  bucketDoc,
  bucketId,
  contributionId,
  DDOC,
  pendingId,
  type Bucket,
  type Contribution,
  type Pending,
} from './aggregates-db.js';
import { bulkWrite, fetchDocs, viewByKeys } from './couch-io.js';
import {
  linkOf,
  sharesOf,
  targetsOf,
  type BucketKey,
  type BucketValue,
  type Facts,
} from './rollups.js';

/**
 * One batch of changes of one source database, applied so that a crash at any point leaves
 * the next run able to finish it:
 *
 * 1. work out every document whose buckets may move (the changed ones, those linking to
 *    them, a status's request) and every bucket they count in now;
 * 2. write the journal (`pending:<db>`): those documents and buckets;
 * 3. write the documents' new contributions;
 * 4. recompute each touched bucket from its contributions (a `_sum` view), writing only
 *    buckets whose value changed;
 * 5. `commit` (the caller writes the `_changes` checkpoint), then drop the journal.
 *
 * A journal left by a crash is folded into the next batch of the same database, so its
 * documents are resolved again and its buckets recomputed. Nothing is ever incremented:
 * re-running any step gives the same documents.
 */

export interface BatchDeps {
  agg: Nano.DocumentScope<unknown>;
  /** Called between steps 3 and 4; tests throw here to crash a run half-way. */
  afterContributions?: (db: string) => void | Promise<void>;
}

export interface BatchStats {
  contributions: number;
  buckets: number;
}

type LinkMap = Map<string, Set<string>>;

export async function applyBatch(
  deps: BatchDeps,
  db: string,
  changed: Map<string, Facts | null>,
  commit: () => Promise<void>,
): Promise<BatchStats> {
  const { agg } = deps;
  const pending = await getDoc<Pending>(agg, pendingId(db));
  const state = new Map<string, Stored<Contribution>>();
  const loaded = new Set<string>();
  const load = async (ids: Iterable<string>) => {
    const missing = [...ids].filter((id) => !loaded.has(id));
    missing.forEach((id) => loaded.add(id));
    const docs = await fetchDocs<Contribution>(
      agg,
      missing.map((id) => contributionId(db, id)),
    );
    for (const doc of docs.values()) state.set(doc.doc_id, doc);
  };
  const current = (id: string): Facts | null =>
    changed.has(id) ? (changed.get(id) ?? null) : (state.get(id)?.facts ?? null);

  // 1. Who may move: the changed, the journal's, a status's request (before and after), and
  // whoever links to a changed document.
  const affected = new Set<string>([...(pending?.docs ?? []), ...changed.keys()]);
  await load(affected);
  for (const [id, facts] of changed) {
    for (const t of [...targetsOf(state.get(id)?.facts ?? null), ...targetsOf(facts)])
      affected.add(t);
  }
  const links: LinkMap = new Map();
  const queried = new Set<string>();
  const findLinkers = async (targets: string[]) => {
    const keys = targets.filter((t) => !queried.has(t));
    keys.forEach((k) => queried.add(k));
    const rows = await viewByKeys<[string, string], null>(
      agg,
      DDOC,
      'links',
      keys.map((k) => [db, k] as [string, string]),
      { reduce: false },
    );
    for (const row of rows) {
      const target = row.key[1];
      const id = (row.id as string).slice(contributionId(db, '').length);
      if (!links.has(target)) links.set(target, new Set());
      links.get(target)!.add(id);
    }
  };
  await findLinkers([...changed.keys()]);
  for (const ids of links.values()) ids.forEach((id) => affected.add(id));
  await load(affected);

  // What resolving needs: farmers of visits, statuses of requests (linkers of any affected).
  await findLinkers([...affected]);
  const needed = new Set<string>();
  for (const id of affected) {
    const f = current(id);
    const link = f && linkOf(f);
    if (link) needed.add(link);
    for (const l of links.get(id) ?? []) needed.add(l);
  }
  await load(needed);

  // Linkers as they are after this batch: the view's (from before it) re-checked, plus changed
  // documents that now link.
  const changedLinks: LinkMap = new Map();
  for (const [id, f] of changed) {
    const link = f && linkOf(f);
    if (!link) continue;
    if (!changedLinks.has(link)) changedLinks.set(link, new Set());
    changedLinks.get(link)!.add(id);
  }
  const lookup = {
    facts: current,
    linkers(target: string) {
      const ids = new Set([...(links.get(target) ?? []), ...(changedLinks.get(target) ?? [])]);
      return [...ids]
        .sort()
        .map((id) => ({ id, facts: current(id) }))
        .filter((l): l is { id: string; facts: Facts } => !!l.facts && linkOf(l.facts) === target);
    },
  };

  // New contributions, and every bucket they leave or enter.
  const touched = new Map<string, BucketKey>((pending?.buckets ?? []).map((k) => [bucketId(k), k]));
  const writes: object[] = [];
  for (const id of [...affected].sort()) {
    const old = state.get(id);
    const facts = current(id);
    for (const s of old?.buckets ?? []) touched.set(bucketId(s.key), s.key);
    if (!facts) {
      if (old) writes.push({ _id: old._id, _rev: old._rev, _deleted: true });
      continue;
    }
    const link = linkOf(facts);
    const next: Contribution = {
      kind: 'contribution',
      db,
      doc_id: id,
      facts,
      ...(link !== undefined && { link }),
      buckets: sharesOf(db, id, facts, lookup),
    };
    for (const s of next.buckets) touched.set(bucketId(s.key), s.key);
    if (old && sameContribution(old, next)) continue;
    writes.push({ ...next, _id: contributionId(db, id), ...(old && { _rev: old._rev }) });
  }

  // Nothing moved and no crashed batch to finish: the buckets are already right.
  if (writes.length === 0 && !pending) {
    await commit();
    return { contributions: 0, buckets: 0 };
  }

  // 2. The journal, before anything it describes is written.
  const journal: Pending = {
    kind: 'pending',
    db,
    docs: [...affected].sort(),
    buckets: [...touched.values()],
  };
  const [saved] = await bulkWrite(agg, [
    { ...journal, _id: pendingId(db), ...(pending && { _rev: pending._rev }) },
  ]);

  // 3. Contributions.
  const contributions = (await bulkWrite(agg, writes)).length;
  await deps.afterContributions?.(db);

  // 4. Buckets, each recomputed whole from its contributions.
  const buckets = await recomputeBuckets(agg, [...touched.values()]);

  // 5. Progress, then the journal goes.
  await commit();
  await bulkWrite(agg, [{ _id: saved!.id, _rev: saved!.rev, _deleted: true }]);
  return { contributions, buckets };
}

function sameContribution(a: Contribution, b: Contribution): boolean {
  return (
    JSON.stringify([a.facts, a.link ?? null, a.buckets]) ===
    JSON.stringify([b.facts, b.link ?? null, b.buckets])
  );
}

/** Sets each bucket to the `_sum` of its contributions; deletes buckets nothing counts in. */
export async function recomputeBuckets(
  agg: Nano.DocumentScope<unknown>,
  keys: BucketKey[],
): Promise<number> {
  if (keys.length === 0) return 0;
  const rows = await viewByKeys<BucketKey, BucketValue>(agg, DDOC, 'buckets', keys, {
    group: true,
  });
  const sums = new Map(rows.map((r) => [bucketId(r.key), r.value]));
  const existing = await fetchDocs<Bucket>(agg, keys.map(bucketId));
  const writes: object[] = [];
  for (const key of keys) {
    const id = bucketId(key);
    const sum = sums.get(id);
    const old = existing.get(id);
    if (!sum || sum[0] === 0) {
      if (old) writes.push({ _id: id, _rev: old._rev, _deleted: true });
      continue;
    }
    if (old && old.count === sum[0] && old.amount === sum[1]) continue;
    writes.push({ ...bucketDoc(key, sum), _id: id, ...(old && { _rev: old._rev }) });
  }
  return (await bulkWrite(agg, writes)).length;
}
