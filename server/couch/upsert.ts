import type Nano from 'nano';
import { cleanCouchError, couchStatus } from '../errors.js';

/**
 * The one read-modify-write against CouchDB (after pouchdb-upsert): read the document, let
 * `diff` decide the new version from the current one, write it with the read `_rev`, and on
 * 409 (someone wrote in between) read again and decide again. `diff` may run several times,
 * so it must be pure apart from what it returns; it may throw to abort.
 */

export type Stored<T> = T & { _id: string; _rev: string };

/** The new document (without `_id`/`_rev`, which upsert sets), or `false` for "leave it". */
export type Diff<T> = (current: Stored<T> | null) => T | false;

export interface UpsertResult<T> {
  /** The document as it now stands (null when absent and diff left it so). */
  doc: Stored<T> | null;
  /** True when this call wrote a new revision. */
  written: boolean;
}

const MAX_ATTEMPTS = 20;

export async function upsert<T extends object>(
  db: Nano.DocumentScope<unknown>,
  id: string,
  diff: Diff<T>,
): Promise<UpsertResult<T>> {
  for (let attempt = 1; ; attempt++) {
    const current = await getDoc<T>(db, id);
    const next = diff(current);
    if (next === false) return { doc: current, written: false };
    const doc = { ...next, _id: id, ...(current && { _rev: current._rev }) } as Stored<T>;
    try {
      const res = await db.insert(doc as Nano.MaybeDocument);
      return { doc: { ...doc, _rev: res.rev }, written: true };
    } catch (err) {
      if (couchStatus(err) !== 409 || attempt >= MAX_ATTEMPTS) throw cleanCouchError(err);
      // Back off a little, with jitter, so writers racing on one document spread out.
      await new Promise((r) => setTimeout(r, Math.random() * 5 * attempt));
    }
  }
}

/**
 * The document, or null when it does not exist (or is deleted). A missing database is an
 * error, not a missing document: nobody should be told "no such user" because a database
 * is gone.
 */
export async function getDoc<T>(
  db: Nano.DocumentScope<unknown>,
  id: string,
): Promise<Stored<T> | null> {
  try {
    return (await db.get(id)) as unknown as Stored<T>;
  } catch (err) {
    const reason = (err as { reason?: unknown }).reason;
    if (couchStatus(err) === 404 && reason !== 'Database does not exist.') return null;
    throw cleanCouchError(err);
  }
}
