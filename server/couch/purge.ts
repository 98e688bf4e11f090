import type Nano from 'nano';
import { randomBytes } from 'node:crypto';
import { cleanCouchError, couchStatus } from '../errors.js';

/**
 * Reading a database whole and purging documents from it (every revision, no tombstone),
 * plus the instruction that makes the phones syncing the database purge them too
 * (sync-rules/sawa-purge.ts, client/purge.ts). Used by erasure (server/privacy) and the
 * retention job (server/jobs/retention.ts).
 */

export type Doc = Record<string, unknown> & { _id: string; _rev: string };

const PAGE = 500;

/** Every non-design document of a database, page by page; none if it does not exist. */
export async function* allDocs(
  nano: Nano.ServerScope,
  db: string,
  opts: { attachments?: boolean; startkey?: string; endkey?: string } = {},
): AsyncGenerator<Doc> {
  let startkey = opts.startkey;
  let skip = 0;
  for (;;) {
    let res: { rows: Array<{ id: string; doc?: Doc | null }> };
    try {
      res = (await nano.request({
        db,
        path: '_all_docs',
        qs: {
          include_docs: true,
          attachments: opts.attachments ?? false,
          limit: PAGE,
          skip,
          ...(startkey !== undefined ? { startkey } : {}),
          ...(opts.endkey !== undefined ? { endkey: opts.endkey } : {}),
        },
      })) as typeof res;
    } catch (err) {
      if (couchStatus(err) === 404) return;
      throw cleanCouchError(err);
    }
    for (const row of res.rows) {
      if (!row.id.startsWith('_design/') && row.doc) yield row.doc;
    }
    if (res.rows.length < PAGE) return;
    startkey = res.rows[res.rows.length - 1]!.id;
    skip = 1;
  }
}

/** The type of the server's purge instructions to phones (sync-rules/sawa-purge.ts). */
export const PURGE_TYPE = 'sawa_purge';
/** The owner the server writes its instructions as. */
export const SERVER_OWNER = 'sawa';
const BATCH = 100;

export type Leaves = Map<string, string[]>;

/** Every leaf revision (deleted ones and conflicts too) of a document; none when unknown. */
export async function leavesOf(nano: Nano.ServerScope, db: string, id: string): Promise<string[]> {
  try {
    const res = (await nano.request({
      db,
      doc: id,
      qs: { open_revs: 'all' },
      headers: { accept: 'application/json' },
    })) as Array<{ ok?: { _rev: string } }>;
    return res.flatMap((r) => (r.ok ? [r.ok._rev] : []));
  } catch (err) {
    if (couchStatus(err) === 404) return [];
    throw cleanCouchError(err);
  }
}

/** Every document of a database (deleted ones too) with all its leaves, from `_changes`. */
export async function everyDoc(nano: Nano.ServerScope, db: string): Promise<Leaves> {
  const leaves: Leaves = new Map();
  try {
    const res = (await nano.request({
      db,
      path: '_changes',
      qs: { style: 'all_docs' },
    })) as { results: Array<{ id: string; changes: Array<{ rev: string }> }> };
    for (const r of res.results) {
      if (r.id.startsWith('_design/')) continue;
      leaves.set(
        r.id,
        r.changes.map((c) => c.rev),
      );
    }
  } catch (err) {
    if (couchStatus(err) !== 404) throw cleanCouchError(err);
  }
  return leaves;
}

export async function leavesOfIds(
  nano: Nano.ServerScope,
  db: string,
  ids: string[],
): Promise<Leaves> {
  const leaves: Leaves = new Map();
  for (const id of ids) {
    const revs = await leavesOf(nano, db, id);
    if (revs.length) leaves.set(id, revs);
  }
  return leaves;
}

/** `_purge`: every revision of the documents, gone (no tombstone), in batches. */
export async function purge(nano: Nano.ServerScope, db: string, leaves: Leaves): Promise<number> {
  const entries = [...leaves];
  for (let i = 0; i < entries.length; i += BATCH) {
    try {
      await nano.request({
        db,
        path: '_purge',
        method: 'POST',
        body: Object.fromEntries(entries.slice(i, i + BATCH)),
      });
    } catch (err) {
      throw cleanCouchError(err);
    }
  }
  return entries.length;
}

/** Why the phones purge: the server purged too (erasure, retention) or keeps them (phone-retention). */
export type PurgeReason = 'erasure' | 'retention' | 'phone-retention';

/** Writes the instruction that makes the phones syncing `db` purge `ids` (client/purge.ts). */
export async function tellPhones(
  nano: Nano.ServerScope,
  db: string,
  ids: string[],
  reason: PurgeReason,
): Promise<void> {
  const now = new Date().toISOString();
  for (let i = 0; i < ids.length; i += 10_000) {
    try {
      await nano.use<Record<string, unknown>>(db).insert({
        _id: `${PURGE_TYPE}:${now}:${randomBytes(6).toString('hex')}`,
        type: PURGE_TYPE,
        owner: SERVER_OWNER,
        created_at: now,
        updated_at: now,
        ids: ids.slice(i, i + 10_000),
        reason,
      });
    } catch (err) {
      throw cleanCouchError(err);
    }
  }
}
