import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import type Nano from 'nano';
import { cleanCouchError, couchStatus } from '../errors.js';
import { purgedSince, startedOver } from '../couch/sequences.js';
import { entry, readAllDocsChanges, readListing, writeListing, type Listing } from './listing.js';
import { dbFileBase, type DbEntry, type SkippedDoc } from './manifest.js';
import { gzipLineWriter } from './ndjson.js';
import { isEncrypted, type BackupKey } from './crypto.js';
import { fetchLeaves } from './fetch-leaves.js';

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
  crypt: { key?: BackupKey; encrypt?: boolean } = {},
): Promise<DbEntry | null> {
  const info = await dbInfo(nano, db);
  if (!info) return null;
  const security = (await call(() => nano.request({ db, path: '_security' }))) as Record<
    string,
    unknown
  >;
  const purgeSeq = String(info.purge_seq ?? '0');
  const base = dbFileBase(db);
  const enc = crypt.encrypt ? '.enc' : '';
  const files = { data: `${base}.ndjson.gz${enc}`, listing: `${base}.listing.ndjson.gz${enc}` };
  const target = {
    nano,
    db,
    dir,
    files,
    purgeSeq,
    security,
    readKey: crypt.key,
    writeKey: crypt.encrypt ? crypt.key : undefined,
  };
  if (prev && (await continues(nano, db, prev, purgeSeq))) {
    const entry = await copyChanged(target, prev);
    // A listing that names more documents than the database holds kept some that are gone
    // (a recreated database CouchDB replayed from its start): copy it whole instead.
    const now = await dbInfo(nano, db);
    if (!now || entry.docs + entry.deleted <= now.doc_count + now.doc_del_count) return entry;
  }
  return copyChanged(target, null);
}

interface Target {
  nano: Nano.ServerScope;
  db: string;
  dir: string;
  files: { data: string; listing: string };
  purgeSeq: string;
  security: Record<string, unknown>;
  /** For reading the previous set's files (when they are encrypted). */
  readKey?: BackupKey;
  /** This set's files are encrypted with it (crypto.ts). */
  writeKey?: BackupKey;
}

interface DbInfo {
  purge_seq?: unknown;
  doc_count: number;
  doc_del_count: number;
}

async function dbInfo(nano: Nano.ServerScope, db: string): Promise<DbInfo | null> {
  try {
    return (await nano.request({ db })) as DbInfo;
  } catch (err) {
    // Deleted since the list of databases was read: nothing to keep.
    if (couchStatus(err) === 404) return null;
    throw cleanCouchError(err);
  }
}

/**
 * Whether an incremental copy can continue the previous one, decided from what CouchDB
 * guarantees: no shard range counts more purges than then (purge sequences compared range
 * by range, never as text: a cluster's text changes with the copy that answers), and the
 * database's changes sequence, read now, continues the saved one (same shard files).
 */
async function continues(
  nano: Nano.ServerScope,
  db: string,
  prev: Previous,
  purgeSeq: string,
): Promise<boolean> {
  if (purgedSince(prev.entry.purge_seq, purgeSeq)) return false;
  const now = (await call(() =>
    nano.request({ db, path: '_changes', qs: { since: 'now', feed: 'normal' } }),
  )) as { last_seq: unknown };
  return !startedOver(prev.entry.seq, now.last_seq);
}

/** Copies the documents changed since `prev` (or all of them) and writes the listing. */
async function copyChanged(t: Target, prev: Previous | null): Promise<DbEntry> {
  const { nano, db } = t;
  const since = prev ? prev.entry.seq : '0';
  const { listing: changed, last_seq } = await readAllDocsChanges(nano, db, since);
  // Documents the previous set could not read are tried again, changed or not.
  const retry = (prev?.entry.skipped ?? []).map((s) => s.id).filter((id) => !changed.has(id));
  if (retry.length) {
    for (const [id, e] of (await readAllDocsChanges(nano, db, '0', 2000, retry)).listing) {
      changed.set(id, e);
    }
  }
  const mode = prev ? 'incremental' : 'full';
  // Nothing written since the previous set: its listing stands, no data file.
  if (prev && changed.size === 0) {
    const from = join(prev.dir, prev.entry.files.listing);
    const to = join(t.dir, t.files.listing);
    // Copied as it is only when neither file is encrypted; else read and written again.
    if (!t.writeKey && !(await isEncrypted(from))) await copyFile(from, to);
    else await writeListing(to, await readListing(from, t.readKey), t.writeKey);
    return {
      ...prev.entry,
      mode,
      since,
      seq: last_seq,
      purge_seq: t.purgeSeq,
      written: 0,
      skipped: undefined,
      security: t.security,
      files: { data: null, listing: t.files.listing },
    };
  }
  const listing: Listing = prev
    ? await readListing(join(prev.dir, prev.entry.files.listing), t.readKey)
    : new Map();
  const { written, skipped } = await writeData(
    nano,
    db,
    join(t.dir, t.files.data),
    changed,
    listing,
    t.writeKey,
  );
  const summary = await writeListing(join(t.dir, t.files.listing), listing, t.writeKey);
  return {
    mode,
    since,
    seq: last_seq,
    purge_seq: t.purgeSeq,
    ...summary,
    written,
    ...(skipped.length && { skipped }),
    security: t.security,
    files: t.files,
  };
}

/**
 * Writes every changed document's leaves to the data file and records them in `listing`. A
 * document that cannot be read or written is skipped and returned with the reason; the
 * listing keeps what it had of it (an earlier set's copy, or nothing).
 */
async function writeData(
  nano: Nano.ServerScope,
  db: string,
  path: string,
  changed: Listing,
  listing: Listing,
  key?: BackupKey,
): Promise<{ written: number; skipped: SkippedDoc[] }> {
  const out = gzipLineWriter(path, key);
  let written = 0;
  const skipped: SkippedDoc[] = [];
  try {
    const ids = [...changed.keys()];
    for (let i = 0; i < ids.length; i += FETCH_BATCH) {
      const batch = ids.slice(i, i + FETCH_BATCH);
      const got = await fetchLeaves(nano, db, batch, changed);
      skipped.push(...got.skipped);
      for (const line of got.lines) {
        let text: string;
        try {
          text = JSON.stringify(line);
        } catch (err) {
          // A body nested thousands deep (CouchDB takes one; the embedded store refuses it).
          if (!(err instanceof RangeError)) throw err;
          skipped.push({
            id: line.id,
            reason: `too deeply nested to write as JSON (${err.message})`,
          });
          continue;
        }
        // The listing says what the data file holds: the leaves actually fetched.
        listing.set(
          line.id,
          entry(
            line.leaves.map((l) => l._rev),
            line.leaves.every((l) => l._deleted === true),
          ),
        );
        await out.write(text);
        written++;
      }
    }
  } finally {
    await out.close();
  }
  return { written, skipped: skipped.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)) };
}
