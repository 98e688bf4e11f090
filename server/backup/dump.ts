import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import type Nano from 'nano';
import { cleanCouchError } from '../errors.js';
import { entry, readAllDocsChanges, readListing, writeListing, type Listing } from './listing.js';
import { dbFileBase, type DbEntry } from './manifest.js';
import { gzipLineWriter } from './ndjson.js';

/** A revision as CouchDB returns it with revs=true&attachments=true: body, history, attachment bytes. */
export type Leaf = Record<string, unknown> & { _id: string; _rev: string; _deleted?: boolean };

/** One line of a data file: a document with every leaf revision. */
export interface DocLine {
  id: string;
  leaves: Leaf[];
}

export interface Previous {
  entry: DbEntry;
  /** The set directory the previous entry's files are in. */
  dir: string;
}

const FETCH_BATCH = 100;

async function call<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw cleanCouchError(err);
  }
}

/**
 * Backs up one database into `dir`: everything (no previous entry, or the database was
 * recreated or purged since) or the documents changed since the previous set. Writes the
 * data file and the canonical listing; returns the manifest entry (null: the database is gone).
 */
export async function dumpDatabase(
  nano: Nano.ServerScope,
  db: string,
  dir: string,
  prev: Previous | null,
): Promise<DbEntry | null> {
  let info: { update_seq: unknown; purge_seq?: unknown };
  try {
    info = (await nano.request({ db })) as typeof info;
  } catch (err) {
    // Deleted since the list of databases was read: nothing to keep.
    if ((err as { statusCode?: number }).statusCode === 404) return null;
    throw cleanCouchError(err);
  }
  const security = (await call(() => nano.request({ db, path: '_security' }))) as Record<
    string,
    unknown
  >;
  const purgeSeq = String(info.purge_seq ?? '0');
  const base = dbFileBase(db);
  const files = { data: `${base}.ndjson.gz`, listing: `${base}.listing.ndjson.gz` };
  const incremental =
    prev !== null &&
    prev.entry.purge_seq === purgeSeq &&
    seqNumber(String(info.update_seq)) >= seqNumber(prev.entry.seq);

  // Nothing written since the previous set: its listing stands, no data file.
  if (incremental && String(info.update_seq) === prev.entry.seq) {
    await copyFile(join(prev.dir, prev.entry.files.listing), join(dir, files.listing));
    return {
      ...prev.entry,
      mode: 'incremental',
      since: prev.entry.seq,
      written: 0,
      security,
      files: { data: null, listing: files.listing },
    };
  }

  const since = incremental ? prev.entry.seq : '0';
  const { listing: changed, last_seq } = await readAllDocsChanges(nano, db, since);
  const listing: Listing = incremental
    ? await readListing(join(prev.dir, prev.entry.files.listing))
    : new Map();

  const out = gzipLineWriter(join(dir, files.data));
  let written = 0;
  try {
    const ids = [...changed.keys()];
    for (let i = 0; i < ids.length; i += FETCH_BATCH) {
      const batch = ids.slice(i, i + FETCH_BATCH);
      for (const line of await fetchLeaves(nano, db, batch, changed)) {
        // The listing says what the data file holds: the leaves actually fetched.
        listing.set(
          line.id,
          entry(
            line.leaves.map((l) => l._rev),
            line.leaves.every((l) => l._deleted === true),
          ),
        );
        await out.write(JSON.stringify(line));
        written++;
      }
    }
  } finally {
    await out.close();
  }
  const summary = await writeListing(join(dir, files.listing), listing);
  return {
    mode: incremental ? 'incremental' : 'full',
    since,
    seq: last_seq,
    purge_seq: purgeSeq,
    ...summary,
    written,
    security,
    files,
  };
}

/**
 * The listed leaves of each document with history and attachment bytes, in one `_bulk_get`;
 * a document whose listed leaves are no longer all there (changed and compacted since the
 * listing) is read again whole with `open_revs=all`.
 */
async function fetchLeaves(
  nano: Nano.ServerScope,
  db: string,
  ids: string[],
  listing: Listing,
): Promise<DocLine[]> {
  const docs = ids.flatMap((id) => listing.get(id)!.leaves.map((rev) => ({ id, rev })));
  const res = (await call(() =>
    nano.request({
      db,
      path: '_bulk_get',
      method: 'POST',
      qs: { revs: true, attachments: true },
      body: { docs },
    }),
  )) as { results: Array<{ id: string; docs: Array<{ ok?: Leaf; error?: unknown }> }> };
  const got = new Map<string, Leaf[]>();
  const retry = new Set<string>();
  for (const r of res.results) {
    for (const d of r.docs) {
      if (d.ok) {
        if (!got.has(r.id)) got.set(r.id, []);
        got.get(r.id)!.push(d.ok);
      } else retry.add(r.id);
    }
  }
  const lines: DocLine[] = [];
  for (const id of ids) {
    const leaves = retry.has(id) ? await openRevsAll(nano, db, id) : (got.get(id) ?? []);
    // A document purged since the listing has nothing left to keep.
    if (leaves.length) lines.push({ id, leaves });
  }
  return lines;
}

async function openRevsAll(nano: Nano.ServerScope, db: string, id: string): Promise<Leaf[]> {
  try {
    const res = (await nano.request({
      db,
      doc: id,
      qs: { open_revs: 'all', revs: true, attachments: true },
      headers: { accept: 'application/json' },
    })) as Array<{ ok?: Leaf }>;
    return res.flatMap((r) => (r.ok ? [r.ok] : []));
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return [];
    throw cleanCouchError(err);
  }
}

/** The number in front of a CouchDB sequence ("42-g1AA…" or 42): a recreated database starts lower. */
export function seqNumber(seq: string): number {
  const n = parseInt(seq, 10);
  return Number.isNaN(n) ? 0 : n;
}
