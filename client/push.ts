import { SawaError } from './errors.js';
import { errorOf } from './http.js';
import { forgetKept, withoutKept, type Change } from './kept.js';
import type { LocalDb } from './local.js';
import type { Session } from './session.js';
import type { Rejection } from './types.js';

/**
 * Push: local changes since the push checkpoint, in batches. The server is asked which
 * revisions it lacks (`_revs_diff`), then gets only those, with their histories
 * (`_bulk_docs`, `new_edits: false`), both bodies gzipped. Writes the sync rules refuse come
 * back per document with the rule's reason; they stay on the phone and the checkpoint moves
 * on, as PouchDB's replicator does (`denied`).
 */
export interface PushResult {
  pushed: number;
  rejected: Rejection[];
}

interface WriteFailure {
  id: string;
  rev?: string;
  error: string;
  reason?: string;
}

export async function push(
  session: Session,
  local: LocalDb,
  batchSize: number,
  signal?: AbortSignal,
  total: PushResult = { pushed: 0, rejected: [] },
): Promise<PushResult> {
  for (;;) {
    const more = await local.exclusive(() => pushBatch(session, local, batchSize, total, signal));
    if (!more) return total;
  }
}

/**
 * Local changes not yet pushed: design documents, which phones may not write, and removals
 * the server must not hear of (client/kept.ts) left out.
 */
export async function pendingChanges(local: LocalDb): Promise<Change[]> {
  const since = await local.getCheckpoint('push');
  const changes = await local.db.changes({ since, style: 'all_docs' });
  const rows = (changes.results as Change[]).filter((row) => !row.id.startsWith('_design/'));
  return (await withoutKept(local.db, rows)).rows;
}

async function pushBatch(
  session: Session,
  local: LocalDb,
  batchSize: number,
  total: PushResult,
  signal?: AbortSignal,
): Promise<boolean> {
  const since = await local.getCheckpoint('push');
  const changes = await local.db.changes({ since, limit: batchSize, style: 'all_docs' });
  const own = (changes.results as Change[]).filter((row) => !row.id.startsWith('_design/'));
  if (changes.results.length === 0) return false;
  const { rows, passed } = await withoutKept(local.db, own);
  if (rows.length > 0) {
    const path = `/sync/${encodeURIComponent(local.name)}`;
    const revs: Record<string, string[]> = {};
    for (const row of rows) revs[row.id] = row.changes.map((c) => c.rev);
    const diffRes = await session.fetch(`${path}/_revs_diff`, { json: revs, signal });
    if (!diffRes.ok) throw await errorOf(diffRes);
    const diff = (await diffRes.json()) as Record<string, { missing?: string[] }>;
    const wanted = Object.entries(diff).flatMap(([id, d]) =>
      (d.missing ?? []).map((rev) => ({ id, rev })),
    );
    if (wanted.length > 0) {
      const got = await local.db.bulkGet({ docs: wanted, revs: true, attachments: true });
      const docs = got.results.flatMap((r: { docs: { ok?: unknown }[] }) =>
        r.docs.filter((d) => d.ok).map((d) => d.ok),
      );
      await send(session, local.name, path, docs, total, signal);
    }
  }
  await local.setCheckpoint('push', changes.last_seq);
  await forgetKept(local.db, passed);
  return changes.results.length >= batchSize;
}

async function send(
  session: Session,
  db: string,
  path: string,
  docs: unknown[],
  total: PushResult,
  signal?: AbortSignal,
): Promise<void> {
  const res = await session.fetch(`${path}/_bulk_docs`, {
    json: { docs, new_edits: false },
    signal,
  });
  if (res.status === 413 && docs.length > 1) {
    // Over the server's request limit: halve until it fits.
    void res.body?.cancel().catch(() => {});
    const half = Math.ceil(docs.length / 2);
    await send(session, db, path, docs.slice(0, half), total, signal);
    await send(session, db, path, docs.slice(half), total, signal);
    return;
  }
  if (res.status === 403 || res.status === 413) {
    // The database is read-only for this user, or one document alone is over the server's
    // limit: refused like a rule refusal, so it never blocks the writes after it.
    const err = await errorOf(res);
    for (const doc of docs as { _id: string; _rev: string }[]) {
      total.rejected.push({ db, id: doc._id, rev: doc._rev, reason: err.message });
    }
    return;
  }
  if (res.status !== 201 && res.status !== 202) throw await errorOf(res);
  const failures = (await res.json()) as WriteFailure[];
  if (!Array.isArray(failures)) throw new SawaError('protocol', '_bulk_docs did not answer a list');
  let failed = 0;
  for (const f of failures) {
    if (!f.error) continue;
    failed++;
    total.rejected.push({ db, id: f.id, rev: f.rev, reason: f.reason ?? f.error });
  }
  total.pushed += docs.length - failed;
}
