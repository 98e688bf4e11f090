import type Nano from 'nano';
import { cleanCouchError, couchStatus } from '../errors.js';

/**
 * The conflicted documents of one database, from the `conflicts` view every provisioned
 * database carries (key `[type, id]`, only documents with `_conflicts`), so listing costs
 * what the conflicts cost, not what the database holds. A database without the view (not
 * provisioned by Sawa) is read whole instead.
 */

export interface ListedConflict {
  id: string;
  type: string | null;
  /** CouchDB's winning revision and the other live leaves. */
  rev: string;
  conflicts: string[];
}

interface ViewRow {
  id: string;
  key: [string | null, string];
  value: { rev: string; conflicts: string[] };
}

export async function conflictsIn(
  nano: Nano.ServerScope,
  db: string,
  opts: { type?: string } = {},
): Promise<{ conflicts: ListedConflict[]; via: 'view' | 'scan' } | null> {
  const range = opts.type !== undefined ? { startkey: [opts.type], endkey: [opts.type, {}] } : {};
  try {
    const res = (await nano.request({
      db,
      path: '_design/sawa/_view/conflicts',
      qs: { reduce: false, ...range },
    })) as { rows: ViewRow[] };
    const conflicts = res.rows.map((r) => ({
      id: r.id,
      type: r.key[0],
      rev: r.value.rev,
      conflicts: r.value.conflicts,
    }));
    return { conflicts, via: 'view' };
  } catch (err) {
    if (couchStatus(err) !== 404) throw cleanCouchError(err);
  }
  const scanned = await scan(nano, db);
  if (!scanned) return null;
  const conflicts = opts.type === undefined ? scanned : scanned.filter((c) => c.type === opts.type);
  return { conflicts, via: 'scan' };
}

/** Every document with `_conflicts`, or null when the database is gone. */
async function scan(nano: Nano.ServerScope, db: string): Promise<ListedConflict[] | null> {
  const out: ListedConflict[] = [];
  const pageSize = 500;
  let startkey: string | undefined;
  for (;;) {
    let res: { rows: Array<{ id: string; doc?: Record<string, unknown> }> };
    try {
      res = (await nano.request({
        db,
        path: '_all_docs',
        qs: {
          include_docs: true,
          conflicts: true,
          limit: pageSize + 1,
          ...(startkey !== undefined && { startkey }),
        },
      })) as typeof res;
    } catch (err) {
      if (couchStatus(err) === 404) return null;
      throw cleanCouchError(err);
    }
    const rows = res.rows.slice(0, pageSize);
    for (const r of rows) {
      const doc = r.doc as { _rev?: string; _conflicts?: string[]; type?: unknown } | undefined;
      if (!doc?._conflicts?.length || r.id.startsWith('_design/')) continue;
      const type = typeof doc.type === 'string' ? doc.type : null;
      out.push({ id: r.id, type, rev: doc._rev as string, conflicts: doc._conflicts });
    }
    if (res.rows.length <= pageSize) return out;
    startkey = res.rows[pageSize]?.id;
  }
}
