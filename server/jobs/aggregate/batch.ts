import type Nano from 'nano';
import type { Stored } from '../../couch/upsert.js';
import { getDoc } from '../../couch/upsert.js';
import {
  bucketId,
  contributionId,
  pendingId,
  type Contribution,
  type Pending,
} from './aggregates-db.js';
import { updateBuckets } from './buckets.js';
import { bulkWrite } from './couch-io.js';
import { linkerWrites, readLinkers } from './linkers.js';
import { resolveBatch, type Resolved } from './resolve.js';
import { linkOf, sharesOf, type BucketKey, type Facts, type Share } from './rollups.js';

/**
 * One batch of changes of one source database, applied so that a crash at any point leaves
 * the next run able to finish it:
 *
 * 1. work out every document whose buckets may move (the changed ones, those linking to
 *    them, a status's request) and every bucket they count in now (resolve.ts);
 * 2. write the journal (`pending:<db>`): those documents, buckets and link targets;
 * 3. write the documents' new contributions, then the linker index (linkers.ts);
 * 4. set each touched bucket's entries for those documents and its value (buckets.ts);
 * 5. `commit` (the caller writes the `_changes` checkpoint), then drop the journal.
 *
 * A journal left by a crash is folded into the next batch of the same database, so its
 * documents are resolved again and its buckets and links set again. Nothing is ever
 * incremented, and nothing is decided from a view: every read is by document id, so it sees
 * every write acknowledged before it, on a cluster too.
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

/** What a batch will write, worked out from what it read (step 1). */
interface Plan {
  journal: Pending;
  contributions: object[];
  /** Each handled document's shares after the batch (none when it counts nowhere). */
  shares: Map<string, Share[]>;
  /** Each handled document's link after the batch. */
  links: Map<string, string | undefined>;
}

export async function applyBatch(
  deps: BatchDeps,
  db: string,
  changed: Map<string, Facts | null>,
  commit: () => Promise<void>,
): Promise<BatchStats> {
  const { agg } = deps;
  const pending = await getDoc<Pending>(agg, pendingId(db));
  const resolved = await resolveBatch(agg, db, changed, pending);
  const plan = planBatch(db, resolved, pending);

  // Nothing moved and no crashed batch to finish: the buckets are already right.
  if (plan.contributions.length === 0 && !pending) {
    await commit();
    return { contributions: 0, buckets: 0 };
  }

  // 2. The journal, before anything it describes is written.
  const [saved] = await bulkWrite(agg, [
    { ...plan.journal, _id: pendingId(db), ...(pending && { _rev: pending._rev }) },
  ]);

  // 3. Contributions, then who links to whom.
  const contributions = (await bulkWrite(agg, plan.contributions)).length;
  const targets = plan.journal.links ?? [];
  const indexed = new Map(resolved.linkers);
  const unread = targets.filter((t) => !indexed.has(t));
  for (const [t, doc] of await readLinkers(agg, db, unread)) indexed.set(t, doc);
  await bulkWrite(agg, linkerWrites(db, targets, plan.links, indexed));
  await deps.afterContributions?.(db);

  // 4. Buckets, from the shares just computed (never from a read of what was just written).
  const buckets = await updateBuckets(agg, plan.journal.buckets, plan.shares);

  // 5. Progress, then the journal goes.
  await commit();
  await bulkWrite(agg, [{ _id: saved!.id, _rev: saved!.rev, _deleted: true }]);
  return { contributions, buckets };
}

/** The new contributions, and every bucket and link target they leave or enter. */
function planBatch(db: string, r: Resolved, pending: Pending | null): Plan {
  const touched = new Map<string, BucketKey>((pending?.buckets ?? []).map((k) => [bucketId(k), k]));
  const targets = new Set<string>(pending?.links ?? []);
  const contributions: object[] = [];
  const shares = new Map<string, Share[]>();
  const links = new Map<string, string | undefined>();
  for (const id of r.affected) {
    const old = r.before.get(id);
    const facts = r.current(id);
    for (const s of old?.buckets ?? []) touched.set(bucketId(s.key), s.key);
    if (old?.link !== undefined) targets.add(old.link);
    if (!facts) {
      shares.set(id, []);
      links.set(id, undefined);
      if (old) contributions.push({ _id: old._id, _rev: old._rev, _deleted: true });
      continue;
    }
    const link = linkOf(facts);
    const next: Contribution = {
      kind: 'contribution',
      db,
      doc_id: id,
      facts,
      ...(link !== undefined && { link }),
      buckets: sharesOf(db, id, facts, r.lookup),
    };
    shares.set(id, next.buckets);
    links.set(id, link);
    if (link !== undefined) targets.add(link);
    for (const s of next.buckets) touched.set(bucketId(s.key), s.key);
    if (old && sameContribution(old, next)) continue;
    contributions.push({ ...next, _id: contributionId(db, id), ...(old && { _rev: old._rev }) });
  }
  const journal: Pending = {
    kind: 'pending',
    db,
    docs: r.affected,
    buckets: [...touched.values()],
    links: [...targets].sort(),
  };
  return { journal, contributions, shares, links };
}

function sameContribution(a: Stored<Contribution>, b: Contribution): boolean {
  return (
    JSON.stringify([a.facts, a.link ?? null, a.buckets]) ===
    JSON.stringify([b.facts, b.link ?? null, b.buckets])
  );
}
