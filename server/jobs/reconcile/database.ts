import type Nano from 'nano';
import { readCheckpoint, writeCheckpoint } from '../changed-dbs.js';
import { cleanCouchError, couchStatus } from '../../errors.js';
import { reconcileDocument, type DbScope, type DocOutcome } from './document.js';

export const JOB = 'reconcile';

interface ChangesPage {
  results: Array<{ id: string; deleted?: boolean; changes: Array<{ rev: string }> }>;
  last_seq: string | number;
  /** Changes left after this page (CouchDB 2+; a cluster's page can be short before the end). */
  pending?: number;
}

/**
 * One database's changes since its checkpoint, a page at a time. `style=all_docs` lists
 * every leaf of each changed document without its body, so only documents with more than
 * one leaf are read. The checkpoint moves after each page is done: a crash repeats at most a
 * page, never skips one.
 */
export async function reconcileDatabase(
  s: DbScope,
  opts: { pageSize: number; signal: AbortSignal },
  count: (outcome: DocOutcome) => void,
): Promise<'done' | 'gone' | 'stopped'> {
  let since = await readCheckpoint(s.nano, s.fleet.jobs, JOB, s.db);
  for (;;) {
    const page = await changes(s.nano, s.db, since, opts.pageSize);
    if (!page) return 'gone';
    for (const row of page.results) {
      if (row.deleted || row.changes.length < 2 || row.id.startsWith('_design/')) continue;
      if (opts.signal.aborted) return 'stopped';
      count(await reconcileDocument(s, row.id));
    }
    const next = String(page.last_seq);
    if (next !== since) await writeCheckpoint(s.nano, s.fleet.jobs, JOB, s.db, next);
    since = next;
    const done =
      page.pending !== undefined ? page.pending === 0 : page.results.length < opts.pageSize;
    if (done) return 'done';
    if (opts.signal.aborted) return 'stopped';
  }
}

async function changes(
  nano: Nano.ServerScope,
  db: string,
  since: string,
  limit: number,
): Promise<ChangesPage | null> {
  try {
    return (await nano.request({
      db,
      path: '_changes',
      qs: { style: 'all_docs', since, limit },
    })) as ChangesPage;
  } catch (err) {
    // Deleted since _db_updates named it: nothing left to reconcile.
    if (couchStatus(err) === 404) return null;
    throw cleanCouchError(err);
  }
}
