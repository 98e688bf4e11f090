import type Nano from 'nano';
import { cleanCouchError, CouchWriteFailed } from '../../errors.js';
import type { Stored } from '../../couch/upsert.js';

/** Batched reads and writes the aggregator makes; each turns nano's errors into safe ones. */

const CHUNK = 500;

function chunks<T>(items: readonly T[], size = CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

async function call<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw cleanCouchError(err);
  }
}

/** The live documents among `ids` (absent and deleted ones are left out). */
export async function fetchDocs<T>(
  db: Nano.DocumentScope<unknown>,
  ids: Iterable<string>,
): Promise<Map<string, Stored<T>>> {
  const found = new Map<string, Stored<T>>();
  for (const keys of chunks([...new Set(ids)])) {
    const res = await call(() => db.fetch({ keys }, { include_docs: true }));
    for (const row of res.rows as Array<{ id?: string; doc?: Stored<T> | null }>) {
      if (row.doc) found.set(row.doc._id, row.doc);
    }
  }
  return found;
}

export interface ViewRow<K, V> {
  id?: string;
  key: K;
  value: V;
}

/** A view queried with exact `keys`, in chunks (POST, so long keys never hit a URL limit). */
export async function viewByKeys<K, V>(
  db: Nano.DocumentScope<unknown>,
  ddoc: string,
  view: string,
  keys: readonly K[],
  params: Record<string, unknown> = {},
): Promise<Array<ViewRow<K, V>>> {
  const rows: Array<ViewRow<K, V>> = [];
  for (const part of chunks(keys)) {
    const res = await call(() => db.view(ddoc, view, { ...params, keys: part } as never));
    rows.push(...(res.rows as unknown as Array<ViewRow<K, V>>));
  }
  return rows;
}

/** Writes documents (each with the `_rev` it was read at); throws if any write failed. */
export async function bulkWrite(
  db: Nano.DocumentScope<unknown>,
  docs: object[],
): Promise<Array<{ id: string; rev: string }>> {
  const written: Array<{ id: string; rev: string }> = [];
  for (const part of chunks(docs)) {
    const res = (await call(() => db.bulk({ docs: part as never[] }))) as Array<{
      id: string;
      rev?: string;
      error?: string;
      reason?: string;
    }>;
    const failed = res.filter((r) => r.error);
    if (failed.length) {
      const f = failed[0]!;
      throw new CouchWriteFailed(
        `${failed.length} aggregate writes failed, first ${f.id}: ${f.error} ${f.reason ?? ''}`,
      );
    }
    for (const r of res) written.push({ id: r.id, rev: r.rev as string });
  }
  return written;
}

export interface Change {
  id: string;
  seq: string;
  deleted?: boolean;
  doc?: Record<string, unknown>;
}

/** One page of a database's changes (winning revisions, with their documents). */
export async function readChanges(
  nano: Nano.ServerScope,
  db: string,
  since: string,
  limit: number,
): Promise<{ results: Change[]; last_seq: string; pending: number }> {
  const res = (await call(() =>
    nano.request({ db, path: '_changes', qs: { since, limit, include_docs: true } }),
  )) as { results: Change[]; last_seq: unknown; pending?: number };
  return { results: res.results, last_seq: String(res.last_seq), pending: res.pending ?? 0 };
}

/**
 * The ids of the documents whose id starts with `prefix`, from `_all_docs` (the database's
 * own id index, written with each document, unlike a view that is built later).
 */
export async function idsWithPrefix(
  db: Nano.DocumentScope<unknown>,
  prefix: string,
): Promise<string[]> {
  const ids: string[] = [];
  let startkey = prefix;
  for (;;) {
    const res = await call(() =>
      db.list({ startkey, endkey: `${prefix}\ufff0`, limit: CHUNK + 1 } as never),
    );
    const rows = res.rows as Array<{ id: string }>;
    ids.push(...rows.slice(0, CHUNK).map((r) => r.id));
    if (rows.length <= CHUNK) return ids;
    startkey = rows[CHUNK]!.id;
  }
}
