import type Nano from 'nano';
import type { Stored } from '../../couch/upsert.js';
import { fetchDocs } from './couch-io.js';

/**
 * Which documents of a source database link to a document (a farmer's visits, a request's
 * statuses): one `linkers:<db>:<target>` document per target, kept by the aggregator as it
 * writes contributions. It replaces a view over contributions, which a cluster may answer
 * from a shard copy that lacks the latest writes; a document read by id cannot be that stale.
 * An id is listed while its contribution links to the target; a batch re-sets the entries of
 * every document it touches, so repeating a batch gives the same documents.
 */

export interface LinkersDoc {
  kind: 'linkers';
  db: string;
  target: string;
  ids: string[];
}

export const linkersId = (db: string, target: string) => `linkers:${db}:${target}`;

/** The index documents of these targets that exist, by target. */
export async function readLinkers(
  agg: Nano.DocumentScope<unknown>,
  db: string,
  targets: Iterable<string>,
): Promise<Map<string, Stored<LinkersDoc>>> {
  const docs = await fetchDocs<LinkersDoc>(
    agg,
    [...targets].map((t) => linkersId(db, t)),
  );
  return new Map([...docs.values()].map((d) => [d.target, d]));
}

/**
 * The index writes that make each of `docs` listed under the target it links to now and
 * under no other of `targets` (its old link, or one a crashed batch recorded).
 */
export function linkerWrites(
  db: string,
  targets: Iterable<string>,
  docs: ReadonlyMap<string, string | undefined>,
  stored: ReadonlyMap<string, Stored<LinkersDoc>>,
): object[] {
  const writes: object[] = [];
  for (const target of new Set(targets)) {
    const old = stored.get(target);
    const ids = new Set(old?.ids ?? []);
    for (const [id, link] of docs) {
      if (link === target) ids.add(id);
      else ids.delete(id);
    }
    const next = [...ids].sort();
    if (old && next.join('\n') === [...old.ids].sort().join('\n')) continue;
    if (next.length === 0) {
      if (old) writes.push({ _id: old._id, _rev: old._rev, _deleted: true });
      continue;
    }
    const doc: LinkersDoc = { kind: 'linkers', db, target, ids: next };
    writes.push({ ...doc, _id: linkersId(db, target), ...(old && { _rev: old._rev }) });
  }
  return writes;
}
