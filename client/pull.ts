import { backoffMs, retrySleep } from './backoff.js';
import { SawaError } from './errors.js';
import { errorOf } from './http.js';
import type { LocalDb } from './local.js';
import { sameSeq } from './local.js';
import { ndjsonLines } from './ndjson.js';
import type { Session } from './session.js';

/**
 * Pull: the server's changes since the pull checkpoint, from the gateway's client feed
 * (`/sync/{db}/_sawa_feed`, one compressed stream of documents with their histories), stored
 * with `new_edits: false` page by page, each page followed by its checkpoint. A dropped link
 * resumes from the last page stored.
 */
export interface PullOptions {
  longpoll?: boolean;
  signal?: AbortSignal;
  attempts?: number;
}

export interface PullResult {
  pulled: number;
  conflicts: string[];
}

const LONGPOLL_MS = 25_000;

/** `total` gathers what was stored even when the pull ends in an error (a dropped link). */
export async function pull(
  session: Session,
  local: LocalDb,
  opts: PullOptions = {},
  total: PullResult = { pulled: 0, conflicts: [] },
): Promise<PullResult> {
  const attempts = opts.attempts ?? 4;
  for (let failures = 0; ;) {
    const before = total.pulled;
    try {
      await pullOnce(session, local, total, opts);
      return total;
    } catch (err) {
      if (!(err instanceof SawaError) || err.code !== 'offline' || opts.signal?.aborted) throw err;
      // Progress since the last failure earns a fresh set of attempts.
      failures = total.pulled > before ? 1 : failures + 1;
      if (failures >= attempts) throw err;
      await retrySleep(backoffMs(failures - 1, session.retryBaseMs), opts.signal);
    }
  }
}

async function pullOnce(
  session: Session,
  local: LocalDb,
  total: PullResult,
  opts: PullOptions,
): Promise<void> {
  const since = await local.getCheckpoint('pull');
  const query = new URLSearchParams({
    since: typeof since === 'string' ? since : JSON.stringify(since),
  });
  if (opts.longpoll) {
    query.set('feed', 'longpoll');
    query.set('timeout', String(LONGPOLL_MS));
  }
  const res = await session.fetch(`/sync/${encodeURIComponent(local.name)}/_sawa_feed?${query}`, {
    signal: opts.signal,
    timeoutMs: (opts.longpoll ? LONGPOLL_MS : 0) + 60_000,
  });
  if (!res.ok) throw await errorOf(res);
  let docs: Record<string, unknown>[] = [];
  for await (const line of ndjsonLines(res, (opts.longpoll ? LONGPOLL_MS : 0) + 45_000)) {
    if (typeof line._id === 'string') {
      docs.push(line);
      continue;
    }
    if (!('seq' in line)) throw new SawaError('protocol', 'the feed sent an unknown line');
    const page = docs;
    docs = [];
    await local.exclusive(() => storePage(local, page, line.seq, total));
    if (line.done === true) return;
  }
  throw new SawaError('offline', 'the feed ended before its last page');
}

async function storePage(
  local: LocalDb,
  docs: Record<string, unknown>[],
  seq: unknown,
  total: PullResult,
): Promise<void> {
  const { db } = local;
  if (docs.length > 0) {
    const received = new Map<string, Set<string>>();
    for (const doc of docs) {
      const revs = doc._revisions as { start: number; ids: string[] } | undefined;
      if (!revs?.ids?.length) throw new SawaError('protocol', 'a feed document has no history');
      doc._rev = `${revs.start}-${revs.ids[0]}`;
      const id = doc._id as string;
      if (!received.has(id)) received.set(id, new Set());
      received.get(id)?.add(doc._rev as string);
    }
    const ids = [...received.keys()];
    // The phone's own pushes come back in the feed (the server cannot tell whose they are):
    // only revisions the phone lacks are stored and counted.
    const missing = (await db.revsDiff(
      Object.fromEntries([...received].map(([id, revs]) => [id, [...revs]])),
    )) as Record<string, { missing?: string[] }>;
    const fresh = docs.filter((d) => missing[d._id as string]?.missing?.includes(d._rev as string));
    const existing = await db.allDocs({ keys: ids });
    const known = new Set<string>(
      existing.rows.filter((r: { value?: unknown }) => r.value).map((r: { id: string }) => r.id),
    );
    const pushSeq = await local.getCheckpoint('push');
    const seqBefore = (await db.info()).update_seq;
    if (fresh.length > 0) await db.bulkDocs(fresh, { new_edits: false });
    total.pulled += fresh.length;
    if (sameSeq(pushSeq, seqBefore)) await seedPushCheckpoint(local, seqBefore, received);
    // Conflicts can only show where a document had local revisions already, or where the
    // server sent more than one leaf.
    for (const id of ids) {
      if (!known.has(id) && (received.get(id)?.size ?? 0) < 2) continue;
      try {
        const doc = await db.get(id, { conflicts: true });
        if (doc._conflicts?.length) total.conflicts.push(id);
      } catch (err) {
        if ((err as { status?: number }).status !== 404) throw err; // deleted: no conflict
      }
    }
  }
  await local.setCheckpoint('pull', seq);
}

/**
 * Nothing was waiting to be pushed before this page was stored: if the page's documents are
 * all the database gained (no local write slipped in between), the push checkpoint moves
 * past them, so the next push does not offer the server what it just sent.
 */
async function seedPushCheckpoint(
  local: LocalDb,
  since: unknown,
  received: Map<string, Set<string>>,
): Promise<void> {
  const changes = await local.db.changes({ since, style: 'all_docs' });
  const onlyReceived = changes.results.every((row: { id: string; changes: { rev: string }[] }) =>
    row.changes.every((c) => received.get(row.id)?.has(c.rev)),
  );
  if (onlyReceived) await local.setCheckpoint('push', changes.last_seq);
}
