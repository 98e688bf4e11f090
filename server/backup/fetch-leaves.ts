import type Nano from 'nano';
import { cleanCouchError, couchStatus, CouchRequestError } from '../errors.js';
import type { Listing } from './listing.js';
import type { SkippedDoc } from './manifest.js';

/** A revision as CouchDB returns it with revs=true&attachments=true: body, history, attachment bytes. */
export type Leaf = Record<string, unknown> & { _id: string; _rev: string; _deleted?: boolean };

/** One line of a data file: a document with every leaf revision. */
export interface DocLine {
  id: string;
  leaves: Leaf[];
}

/** Fetched documents, and those that could not be read (with why). */
interface Fetched {
  lines: DocLine[];
  skipped: SkippedDoc[];
}

/** CouchDB's answer to `open_revs=all` broke off: it could not read the document. */
class CutShort extends Error {}

/**
 * Whether a failed read is about the document rather than the server: CouchDB answered, with
 * an error other than access, a missing database, or being busy or away. On CouchDB 3.5 an
 * attachment stored empty but marked gzip makes every read of its document with its bytes
 * fail 500 `data_error`, the whole `_bulk_get` with it.
 */
function documentFault(err: unknown): boolean {
  if (err instanceof CutShort) return true;
  const status = couchStatus(err);
  // A cluster that took too long answers 500 timeout: the server's trouble, not a document's.
  const clean = cleanCouchError(err);
  if (clean instanceof CouchRequestError && clean.couchError === 'timeout') return false;
  return status !== undefined && status >= 400 && !TRANSIENT.has(status);
}
const TRANSIENT = new Set([401, 403, 404, 408, 429, 502, 503, 504]);

function faultReason(err: unknown): string {
  if (err instanceof CutShort) return err.message;
  const e = cleanCouchError(err);
  const what =
    e instanceof CouchRequestError ? `${e.statusCode} ${e.couchError ?? ''} ${e.reason ?? ''}` : '';
  return `CouchDB could not read it: ${what.replace(/\s+/g, ' ').trim() || e.message}`;
}

/**
 * The listed leaves of each document with history and attachment bytes, in one `_bulk_get`;
 * a document whose listed leaves are no longer all there (changed and compacted since the
 * listing) is read again whole with `open_revs=all`. When the request fails for one of the
 * documents, each is read alone, and those that still fail are skipped.
 */
export async function fetchLeaves(
  nano: Nano.ServerScope,
  db: string,
  ids: string[],
  listing: Listing,
): Promise<Fetched> {
  const out: Fetched = { lines: [], skipped: [] };
  let got: Map<string, Leaf[]>;
  let retry: Set<string>;
  try {
    ({ got, retry } = await bulkGet(nano, db, ids, listing));
  } catch (err) {
    if (!documentFault(err)) throw cleanCouchError(err);
    if (ids.length === 1) {
      out.skipped.push({ id: ids[0]!, reason: faultReason(err) });
      return out;
    }
    for (const id of ids) {
      const one = await fetchLeaves(nano, db, [id], listing);
      out.lines.push(...one.lines);
      out.skipped.push(...one.skipped);
    }
    return out;
  }
  for (const id of ids) {
    let leaves = got.get(id) ?? [];
    if (retry.has(id)) {
      try {
        leaves = await openRevsAll(nano, db, id);
      } catch (err) {
        if (!documentFault(err)) throw cleanCouchError(err);
        out.skipped.push({ id, reason: faultReason(err) });
        continue;
      }
    }
    // A document purged since the listing has nothing left to keep.
    if (leaves.length) out.lines.push({ id, leaves });
  }
  return out;
}

async function bulkGet(
  nano: Nano.ServerScope,
  db: string,
  ids: string[],
  listing: Listing,
): Promise<{ got: Map<string, Leaf[]>; retry: Set<string> }> {
  const docs = ids.flatMap((id) => listing.get(id)!.leaves.map((rev) => ({ id, rev })));
  const res = (await nano.request({
    db,
    path: '_bulk_get',
    method: 'POST',
    qs: { revs: true, attachments: true },
    body: { docs },
  })) as { results: Array<{ id: string; docs: Array<{ ok?: Leaf; error?: unknown }> }> };
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
  return { got, retry };
}

async function openRevsAll(nano: Nano.ServerScope, db: string, id: string): Promise<Leaf[]> {
  let res: unknown;
  try {
    res = await nano.request({
      db,
      doc: id,
      qs: { open_revs: 'all', revs: true, attachments: true },
      headers: { accept: 'application/json' },
    });
  } catch (err) {
    if (couchStatus(err) === 404) return [];
    throw err;
  }
  // CouchDB starts the array, then stops when it cannot read a revision: nano hands back ''.
  if (!Array.isArray(res)) {
    throw new CutShort('CouchDB could not read it: its answer to open_revs=all broke off');
  }
  return (res as Array<{ ok?: Leaf }>).flatMap((r) => (r.ok ? [r.ok] : []));
}
