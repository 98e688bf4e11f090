import type Nano from 'nano';
import type { Stored } from '../../couch/upsert.js';
import { contributionId, type Contribution, type Pending } from './aggregates-db.js';
import { fetchDocs } from './couch-io.js';
import { readLinkers, type LinkersDoc } from './linkers.js';
import { linkOf, targetsOf, type Facts, type Lookup } from './rollups.js';

/**
 * Step 1 of a batch: every document whose buckets may move, what each counted as before,
 * and what resolving their buckets looks up. Everything is read by document id, which a
 * cluster answers from a quorum of copies, so it includes every write acknowledged before.
 */

export interface Resolved {
  /** The documents whose contributions this batch rewrites, sorted. */
  affected: string[];
  /** Their contributions as stored before this batch (and those of documents looked up). */
  before: Map<string, Stored<Contribution>>;
  /** The linker index documents read, by target. */
  linkers: Map<string, Stored<LinkersDoc>>;
  /** Facts as they are after this batch. */
  current(id: string): Facts | null;
  lookup: Lookup;
}

export async function resolveBatch(
  agg: Nano.DocumentScope<unknown>,
  db: string,
  changed: Map<string, Facts | null>,
  pending: Pending | null,
): Promise<Resolved> {
  const before = new Map<string, Stored<Contribution>>();
  const loaded = new Set<string>();
  const load = async (ids: Iterable<string>) => {
    const missing = [...ids].filter((id) => !loaded.has(id));
    missing.forEach((id) => loaded.add(id));
    const docs = await fetchDocs<Contribution>(
      agg,
      missing.map((id) => contributionId(db, id)),
    );
    for (const doc of docs.values()) before.set(doc.doc_id, doc);
  };
  const current = (id: string): Facts | null =>
    changed.has(id) ? (changed.get(id) ?? null) : (before.get(id)?.facts ?? null);
  const linkers = new Map<string, Stored<LinkersDoc>>();
  const queried = new Set<string>();
  const findLinkers = async (targets: Iterable<string>) => {
    const ids = [...targets].filter((t) => !queried.has(t));
    ids.forEach((id) => queried.add(id));
    for (const [target, doc] of await readLinkers(agg, db, ids)) linkers.set(target, doc);
  };

  // Who may move: the changed, the journal's, a status's request (before and after), and
  // whoever links to a changed document.
  const affected = new Set<string>([...(pending?.docs ?? []), ...changed.keys()]);
  await load(affected);
  for (const [id, facts] of changed) {
    for (const t of [...targetsOf(before.get(id)?.facts ?? null), ...targetsOf(facts)])
      affected.add(t);
  }
  await findLinkers(changed.keys());
  for (const id of changed.keys()) linkers.get(id)?.ids.forEach((l) => affected.add(l));
  await load(affected);

  // What resolving needs: farmers of visits, statuses of requests (linkers of any affected).
  await findLinkers(affected);
  const needed = new Set<string>();
  for (const id of affected) {
    const link = linkOf(current(id) ?? NO_FACTS);
    if (link) needed.add(link);
    linkers.get(id)?.ids.forEach((l) => needed.add(l));
  }
  await load(needed);

  // Linkers as they are after this batch: the index's, plus any document read here whose
  // facts now link (a changed one, or one a crashed batch moved before indexing it), each
  // checked against its current facts.
  const linkingNow = new Map<string, Set<string>>();
  for (const id of new Set([...loaded, ...changed.keys()])) {
    const link = linkOf(current(id) ?? NO_FACTS);
    if (!link) continue;
    if (!linkingNow.has(link)) linkingNow.set(link, new Set());
    linkingNow.get(link)!.add(id);
  }
  const lookup: Lookup = {
    facts: current,
    linkers(target) {
      const ids = new Set([...(linkers.get(target)?.ids ?? []), ...(linkingNow.get(target) ?? [])]);
      return [...ids]
        .sort()
        .map((id) => ({ id, facts: current(id) }))
        .filter((l): l is { id: string; facts: Facts } => !!l.facts && linkOf(l.facts) === target);
    },
  };
  return { affected: [...affected].sort(), before, linkers, current, lookup };
}

/** Facts that link nowhere, for asking `linkOf` about a document that counts nowhere. */
const NO_FACTS = { type: 'farmer', day: '', district: '' } as const satisfies Facts;
