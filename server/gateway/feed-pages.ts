import { readBody } from './body.js';
import type { UpstreamCall } from './context.js';
import { SyncError, syncErrors } from './errors.js';

/**
 * The pages of the client feed (`GET /sync/{db}/_sawa_feed`): CouchDB's `_changes` with
 * every leaf revision, then one `_bulk_get` of those revisions with their histories, both as
 * the user. The phone then needs one request for what the replicator spends three on
 * (`_changes`, `_bulk_get` with every id and revision going up, and its answer).
 */

/**
 * Changes per page: a dropped link loses at most one page (~4 KB on the wire for visits, 2 %
 * of a first sync of 3,000); each page costs one brotli flush (a few bytes).
 */
export const PAGE_SIZE = 50;

// A page of 200 documents with their revision histories and inline attachments.
const PAGE_LIMIT_BYTES = 64 * 1024 * 1024;

interface ChangesAnswer {
  results: { id: string; changes: { rev: string }[] }[];
  last_seq: unknown;
}

interface BulkGetAnswer {
  results: { id: string; docs: ({ ok: Record<string, unknown> } | { error: unknown })[] }[];
}

export interface Page {
  /** Documents with `_revisions` and without `_rev` (the phone rebuilds it from the history). */
  docs: Record<string, unknown>[];
  seq: unknown;
  /** Fewer changes than a page: the feed has caught up. */
  last: boolean;
}

export interface PageQuery {
  since: string;
  longpoll?: { timeoutMs: number };
}

export async function readPage(call: UpstreamCall, q: PageQuery): Promise<Page> {
  const { dbPath } = call.endpoint;
  const params = new URLSearchParams({
    style: 'all_docs',
    since: q.since,
    limit: String(PAGE_SIZE),
  });
  if (q.longpoll) {
    params.set('feed', 'longpoll');
    params.set('timeout', String(q.longpoll.timeoutMs));
  }
  const changes = await json<ChangesAnswer>(
    call.send({ method: 'GET', path: `${dbPath}/_changes`, query: params.toString() }),
  );
  const wanted = changes.results
    // Design documents stay on the server: PouchDB never runs their validators and the
    // phone's app does not query their views; on a phone they are ~10 KB of dead weight.
    .filter((row) => !row.id.startsWith('_design/'))
    .flatMap((row) => row.changes.map((c) => ({ id: row.id, rev: c.rev })));
  const docs: Record<string, unknown>[] = [];
  if (wanted.length > 0) {
    const got = await json<BulkGetAnswer>(
      call.send({
        method: 'POST',
        path: `${dbPath}/_bulk_get`,
        query: 'revs=true&attachments=true',
        json: { docs: wanted },
      }),
    );
    for (const result of got.results ?? []) {
      for (const entry of result.docs ?? []) {
        // A revision compacted or purged since the _changes read: nothing to send.
        if (!('ok' in entry)) continue;
        const { _rev: _dropped, ...doc } = entry.ok;
        docs.push(doc);
      }
    }
  }
  return { docs, seq: changes.last_seq, last: changes.results.length < PAGE_SIZE };
}

async function json<T>(pending: ReturnType<UpstreamCall['send']>): Promise<T> {
  const res = await pending;
  const body = await readBody(res.body, PAGE_LIMIT_BYTES);
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw syncErrors.upstreamBadAnswer();
  }
  if (res.status !== 200) {
    const e = parsed as { error?: string; reason?: string };
    throw new SyncError(
      res.status >= 400 && res.status < 600 ? res.status : 502,
      e.error ?? 'bad_gateway',
      e.reason ?? 'the database refused the feed',
      'SAWA_SYNC_FEED_UPSTREAM',
    );
  }
  return parsed as T;
}
