import { isDeepStrictEqual } from 'node:util';
import type { Body, Leaf } from '../../conflicts/leaves.js';
import { couchOrder } from '../../conflicts/leaves.js';
import type { TypeStrategy } from '../../conflicts/strategy.js';
import { own, threeWayMerge } from './merge.js';
import { Internal } from '../../errors.js';

/**
 * What to do with one conflicted document, decided from its live leaves alone, so every
 * instance decides the same. Pure: reading and writing are the caller's.
 */
export interface Plan {
  /** The leaf that stays: unchanged, or the parent of the merged revision. */
  keep: Leaf;
  /** field-merge: the document to write on top of `keep` (absent when it equals `keep`). */
  merged?: Body;
  /** Leaves to delete. */
  losers: Leaf[];
  /** field-merge: the common ancestor merged against, null when compacted away. */
  ancestor?: string | null;
  /** field-merge: field path → revision whose value was taken over another change. */
  contested?: Record<string, string>;
  /** One line for people: what was kept and why. */
  reason: string;
}

/** Revisions that `plan` replaces: the losers, and `keep` too when a merge is written over it. */
export const replaced = (plan: Plan): Leaf[] =>
  plan.merged ? [plan.keep, ...plan.losers] : plan.losers;

export function plan(
  how: TypeStrategy,
  live: readonly Leaf[],
  ancestor?: { rev: string; body: Body | null } | null,
): Plan {
  switch (how.strategy) {
    case 'last-write-wins': {
      const [keep, ...losers] = byTime(live, how.field, 'newest');
      return {
        keep: keep as Leaf,
        losers,
        reason: `kept the newest ${how.field} (${stamp(keep, how.field)})`,
      };
    }
    case 'immutable':
    case 'append-only': {
      // Which branch the server accepted first is not in any field a phone wrote (a forged
      // branch can carry any created_at): CouchDB's own winner stays, and the caller holds
      // the document for a person unless every branch says the same.
      const [keep, ...losers] = [...live].sort(couchOrder);
      return {
        keep: keep as Leaf,
        losers,
        reason: "the branches hold the same document; kept CouchDB's winner",
      };
    }
    case 'field-merge':
      return fieldMerge(how, live, ancestor ?? null);
    case 'manual':
      throw new Internal('manual conflicts are not planned: they are held for a person');
  }
}

function fieldMerge(
  how: TypeStrategy,
  live: readonly Leaf[],
  ancestor: { rev: string; body: Body | null } | null,
): Plan {
  const ranked = byTime(live, how.field, 'newest');
  const [keep, ...losers] = ranked as [Leaf, ...Leaf[]];
  const { body, contested } = threeWayMerge(
    ancestor?.body ?? null,
    ranked.map((l) => ({ rev: l.rev, body: l.body })),
  );
  const against = ancestor?.body ? `ancestor ${ancestor.rev}` : 'no common ancestor (compacted)';
  const fields = Object.keys(contested);
  const reason =
    `merged ${ranked.length} branches against ${against}` +
    (fields.length ? `; newest ${how.field} took ${fields.join(', ')}` : '');
  const unchanged = isDeepStrictEqual(body, own(keep.body));
  const merged = unchanged ? undefined : withCouchFields(body, keep);
  return {
    keep,
    merged,
    losers,
    ancestor: ancestor?.body ? ancestor.rev : null,
    contested,
    reason,
  };
}

/** The merged fields as a revision of `keep`: its id, and its attachments (not merged). */
function withCouchFields(body: Body, keep: Leaf): Body {
  const atts = keep.body._attachments as Record<string, Record<string, unknown>> | undefined;
  const stubs =
    atts &&
    Object.fromEntries(
      Object.entries(atts).map(([name, a]) => [
        name,
        {
          content_type: a.content_type,
          digest: a.digest,
          length: a.length,
          revpos: a.revpos,
          stub: true,
        },
      ]),
    );
  return { _id: keep.body._id, ...body, ...(stubs && { _attachments: stubs }) };
}

/** Leaves ranked by a date-time field; unreadable dates rank as oldest, ties in CouchDB's order. */
export function byTime(
  leaves: readonly Leaf[],
  field: string,
  first: 'newest' | 'earliest',
): Leaf[] {
  const time = (l: Leaf) => {
    const t = Date.parse(String(l.body[field] ?? ''));
    return Number.isNaN(t) ? (first === 'newest' ? -Infinity : Infinity) : t;
  };
  const sign = first === 'newest' ? -1 : 1;
  return [...leaves].sort((a, b) => sign * (time(a) - time(b)) || couchOrder(a, b));
}

function stamp(leaf: Leaf | undefined, field: string): string {
  const v = leaf?.body[field];
  return typeof v === 'string' ? v : 'no date';
}
