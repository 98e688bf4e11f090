import type Nano from 'nano';
import { bucketDoc, bucketId, type Bucket } from './aggregates-db.js';
import { bulkWrite, fetchDocs } from './couch-io.js';
import type { BucketKey, BucketValue, Share } from './rollups.js';

/**
 * Step 4 of a batch. Each bucket lists its members, the share of each source document that
 * counts in it, and its value is their sum. A batch sets, in every bucket it touches, the
 * entry of every document it handled to that document's share now (or removes it), and
 * writes the buckets that changed. Nothing is added to a total and nothing is read from a
 * view: re-running it gives the same buckets, and it never depends on an index that may not
 * have caught up with the contributions just written.
 */
export async function updateBuckets(
  agg: Nano.DocumentScope<unknown>,
  touched: readonly BucketKey[],
  shares: ReadonlyMap<string, readonly Share[]>,
): Promise<number> {
  if (touched.length === 0) return 0;
  const existing = await fetchDocs<Bucket>(agg, touched.map(bucketId));
  const writes: object[] = [];
  for (const key of touched) {
    const id = bucketId(key);
    const old = existing.get(id);
    // A Map, not an object: document ids such as `__proto__` are only keys here.
    const members = new Map<string, BucketValue>(Object.entries(old?.members ?? {}));
    for (const [doc, list] of shares) {
      const share = list.find((s) => bucketId(s.key) === id);
      if (share) members.set(doc, share.value);
      else members.delete(doc);
    }
    const value = total(members);
    if (members.size === 0) {
      if (old) writes.push({ _id: id, _rev: old._rev, _deleted: true });
      continue;
    }
    const next = sorted(members);
    if (old && same(old, value, next)) continue;
    writes.push({
      ...bucketDoc(key, value),
      members: next,
      _id: id,
      ...(old && { _rev: old._rev }),
    });
  }
  return (await bulkWrite(agg, writes)).length;
}

function total(members: Map<string, BucketValue>): BucketValue {
  let count = 0;
  let amount = 0;
  for (const [c, a] of members.values()) {
    count += c;
    amount += a;
  }
  return [count, amount];
}

function sorted(members: Map<string, BucketValue>): Record<string, BucketValue> {
  return Object.fromEntries([...members].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function same(old: Bucket, value: BucketValue, members: Record<string, BucketValue>): boolean {
  return (
    old.count === value[0] &&
    old.amount === value[1] &&
    JSON.stringify(old.members ?? null) === JSON.stringify(members)
  );
}
