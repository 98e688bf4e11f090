import type Nano from 'nano';
import { upsert } from '../couch/upsert.js';
import { cleanCouchError, couchStatus } from '../errors.js';

/**
 * Conflicts the reconciler left for a person (a `manual` type, a merge the schema refuses, a
 * type no rule names), one record each in the jobs database with why and since when. The
 * report reads them for the age and the reason; the reconciler drops a record once the
 * document has a single branch again, and retries the records whose rule has changed.
 */

export interface HeldConflict {
  type: 'held-conflict';
  db: string;
  doc_id: string;
  doc_type: string | null;
  strategy: string | null;
  /** Why it was left, for the person who resolves it. */
  reason: string;
  /** The leaves when it was left, sorted. */
  leaves: string[];
  /** Hash of the rule it was judged by (see ruleHash): a changed rule means "try again". */
  rule_hash: string | null;
  /** When the reconciler first left this conflict (kept across later visits). */
  first_seen: string;
  last_seen: string;
}

export type StoredHeld = HeldConflict & { _id: string; _rev: string };

/** Readable ids, so ops can find one with `_all_docs?startkey="held:<db>:"`. */
export const heldId = (db: string, docId: string) => `held:${db}:${docId}`;

/** Records (or updates) a held conflict; a record that says the same is not rewritten. */
export async function holdConflict(
  nano: Nano.ServerScope,
  jobsDb: string,
  held: Omit<HeldConflict, 'type' | 'first_seen' | 'last_seen'>,
  now: Date = new Date(),
): Promise<void> {
  await upsert<HeldConflict>(nano.use(jobsDb), heldId(held.db, held.doc_id), (cur) => {
    const same =
      cur &&
      cur.reason === held.reason &&
      cur.rule_hash === held.rule_hash &&
      cur.leaves.join() === held.leaves.join();
    if (same) return false;
    return {
      type: 'held-conflict',
      ...held,
      first_seen: cur?.first_seen ?? now.toISOString(),
      last_seen: now.toISOString(),
    };
  });
}

/** Deletes the record, if there is one. */
export async function releaseHeld(
  nano: Nano.ServerScope,
  jobsDb: string,
  db: string,
  docId: string,
): Promise<void> {
  await upsert<{ _deleted?: boolean }>(nano.use(jobsDb), heldId(db, docId), (cur) =>
    cur ? { _deleted: true } : false,
  );
}

/** Every held record, or those of one database: one range read. */
export async function readHeld(
  nano: Nano.ServerScope,
  jobsDb: string,
  db?: string,
): Promise<StoredHeld[]> {
  const prefix = db === undefined ? 'held:' : heldId(db, '');
  try {
    const res = await nano.use(jobsDb).list({
      startkey: prefix,
      endkey: `${prefix}\ufff0`,
      include_docs: true,
    });
    return res.rows.flatMap((r) => (r.doc ? [r.doc as unknown as StoredHeld] : []));
  } catch (err) {
    // No jobs database yet: nothing was ever held.
    if (couchStatus(err) === 404) return [];
    throw cleanCouchError(err);
  }
}
