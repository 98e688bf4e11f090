import { isDeepStrictEqual } from 'node:util';
import type { Body } from '../../conflicts/leaves.js';

/**
 * Three-way merge of a document's branches against their common ancestor. A field changed on
 * one branch only takes that change; a field changed on several to different values takes
 * the value of the newest branch (the first given) and is reported as contested. Plain
 * objects merge key by key, so two phones editing `location.lat` and `location.lon` both win;
 * arrays and other values are taken whole. A field a branch removed counts as a change.
 *
 * Without the ancestor (compacted away) the merge runs against an empty document: a field
 * only some branches have is kept, since a removal cannot be told from an addition and
 * keeping it loses nothing; a field the branches disagree on goes to the newest.
 *
 * Fields starting with `_` are CouchDB's and are not merged.
 */

export interface Branch {
  rev: string;
  body: Body;
}

export interface Merged {
  body: Body;
  /** Field path → the revision whose value was taken over other changes to it. */
  contested: Record<string, string>;
}

/** `branches` newest first: ties go to the first. */
export function threeWayMerge(ancestor: Body | null, branches: readonly Branch[]): Merged {
  const contested: Record<string, string> = {};
  const values = branches.map((b) => ({ rev: b.rev, value: own(b.body) as unknown }));
  const body = mergeValue('', own(ancestor ?? {}), values, contested) as Body;
  return { body, contested };
}

/** Only the document's own fields: CouchDB's `_` fields are set by the caller. */
export function own(body: Body): Body {
  return Object.fromEntries(Object.entries(body).filter(([k]) => !k.startsWith('_')));
}

type Value = { rev: string; value: unknown };

function mergeValue(
  path: string,
  ancestor: unknown,
  values: Value[],
  contested: Record<string, string>,
): unknown {
  const changed = values.filter((v) => !isDeepStrictEqual(v.value, ancestor));
  const newest = changed[0];
  if (!newest) return ancestor;
  if (changed.every((v) => isDeepStrictEqual(v.value, newest.value))) return newest.value;
  if (
    (ancestor === undefined || isPlainObject(ancestor)) &&
    changed.every((v) => isPlainObject(v.value))
  ) {
    return mergeObjects(path, ancestor as Body | undefined, values, contested);
  }
  contested[path] = newest.rev;
  return newest.value;
}

function mergeObjects(
  path: string,
  ancestor: Body | undefined,
  values: Value[],
  contested: Record<string, string>,
): Body {
  // Keys in the order the newest branch has them, then any others: every instance builds the
  // same document, so racing reconcilers write the same bytes.
  const keys = new Set<string>();
  for (const v of values)
    if (isPlainObject(v.value)) for (const k of Object.keys(v.value)) keys.add(k);
  for (const k of Object.keys(ancestor ?? {})) keys.add(k);
  const out: Body = {};
  for (const key of keys) {
    const at = (v: unknown) => (isPlainObject(v) ? v[key] : undefined);
    const merged = mergeValue(
      path ? `${path}.${key}` : key,
      at(ancestor),
      values.map((v) => ({ rev: v.rev, value: at(v.value) })),
      contested,
    );
    if (merged !== undefined) out[key] = merged;
  }
  return out;
}

function isPlainObject(v: unknown): v is Body {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
