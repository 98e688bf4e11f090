import { createHash } from 'node:crypto';
import type Nano from 'nano';
import { cleanCouchError } from '../errors.js';
import { gzipLineWriter, readGzipLines } from './ndjson.js';
import type { BackupKey } from './crypto.js';

/**
 * The canonical listing of a database: for each document (design documents included, local
 * documents not), its id, its leaf revisions — every branch tip, conflicts and deleted
 * branches included — and whether the winner is deleted. One line per document:
 *
 *     JSON.stringify([id, leaves, deleted]) + "\n"
 *
 * with leaves sorted by revision number, then by hash, and lines sorted by id in UTF-8 byte
 * order. A database's checksum is "sha256:" + the hex SHA-256 of these lines, so it depends
 * on neither compression nor the order documents were written or read in, and it is the
 * same whether computed from a backup or from a live database's `_changes?style=all_docs`.
 * Revision ids hash their content, so equal leaves mean equal documents.
 */

export interface Entry {
  leaves: string[];
  deleted: boolean;
}

export type Listing = Map<string, Entry>;

type Line = [string, string[], boolean];

function revOrder(a: string, b: string): number {
  const [pa, ha] = [parseInt(a, 10), a.slice(a.indexOf('-') + 1)];
  const [pb, hb] = [parseInt(b, 10), b.slice(b.indexOf('-') + 1)];
  if (pa !== pb) return pa - pb;
  return ha < hb ? -1 : ha > hb ? 1 : 0;
}

export function entry(leaves: string[], deleted: boolean): Entry {
  return { leaves: [...new Set(leaves)].sort(revOrder), deleted };
}

function sortedIds(listing: Listing): string[] {
  return [...listing.keys()].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

export interface ListingSummary {
  checksum: string;
  /** Documents whose winning revision is live (CouchDB's doc_count). */
  docs: number;
  /** Documents whose winning revision is a deletion (doc_del_count). */
  deleted: number;
  /** Leaf revisions of all documents. */
  leaves: number;
}

export function summarize(listing: Listing): ListingSummary {
  const hash = createHash('sha256');
  let docs = 0;
  let deleted = 0;
  let leaves = 0;
  for (const id of sortedIds(listing)) {
    const e = listing.get(id)!;
    hash.update(JSON.stringify([id, e.leaves, e.deleted] satisfies Line) + '\n');
    if (e.deleted) deleted++;
    else docs++;
    leaves += e.leaves.length;
  }
  return { checksum: `sha256:${hash.digest('hex')}`, docs, deleted, leaves };
}

/** Writes the listing, canonical lines gzip-compressed, and returns its summary. */
export async function writeListing(
  path: string,
  listing: Listing,
  key?: BackupKey,
): Promise<ListingSummary> {
  const out = gzipLineWriter(path, key);
  for (const id of sortedIds(listing)) {
    const e = listing.get(id)!;
    await out.write(JSON.stringify([id, e.leaves, e.deleted] satisfies Line));
  }
  await out.close();
  return summarize(listing);
}

export async function readListing(path: string, key?: BackupKey): Promise<Listing> {
  const listing: Listing = new Map();
  for await (const [id, leaves, deleted] of readGzipLines<Line>(path, key)) {
    listing.set(id, { leaves, deleted });
  }
  return listing;
}

export interface ChangesRow {
  id: string;
  seq: unknown;
  changes: Array<{ rev: string }>;
  deleted?: boolean;
}

/**
 * Every document changed since `since`, with all its leaves, a page at a time; `last_seq` is
 * where the next incremental read starts. With `docIds`, only those documents.
 */
export async function readAllDocsChanges(
  nano: Nano.ServerScope,
  db: string,
  since: string,
  pageSize = 2000,
  docIds?: string[],
): Promise<{ listing: Listing; last_seq: string }> {
  const listing: Listing = new Map();
  let cursor = since;
  for (;;) {
    let res: { results: ChangesRow[]; last_seq: unknown };
    try {
      res = (await nano.request({
        db,
        path: '_changes',
        qs: {
          style: 'all_docs',
          since: cursor,
          limit: pageSize,
          ...(docIds && { filter: '_doc_ids' }),
        },
        ...(docIds && { method: 'POST', body: { doc_ids: docIds } }),
      })) as typeof res;
    } catch (err) {
      throw cleanCouchError(err);
    }
    for (const row of res.results) {
      if (row.id.startsWith('_local/')) continue;
      listing.set(
        row.id,
        entry(
          row.changes.map((c) => c.rev),
          row.deleted === true,
        ),
      );
    }
    cursor = String(res.last_seq);
    if (res.results.length < pageSize) return { listing, last_seq: cursor };
  }
}

/** The canonical listing of a live database. */
export async function liveListing(nano: Nano.ServerScope, db: string): Promise<Listing> {
  return (await readAllDocsChanges(nano, db, '0')).listing;
}
