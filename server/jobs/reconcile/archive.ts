import { createHash } from 'node:crypto';
import type Nano from 'nano';
import { upsert } from '../../couch/upsert.js';
import { cleanCouchError, CouchWriteFailed } from '../../errors.js';
import { fetchRevision, type Body, type Leaf } from '../../conflicts/leaves.js';
import { teamFromDbName, userFromDbName } from '../../provisioning/names.js';
import { replaced, type Plan } from './decide.js';

/**
 * The archive (config CONFLICTS_ARCHIVE_DB, `sawa-conflicts-archive` by default): every revision the reconciler replaces, whole, written BEFORE the
 * resolution, and one record per resolution saying what was decided and what came of it.
 * Ids are readable and deterministic, so a retry after a crash writes nothing twice and ops
 * can list a document's history with one `_all_docs` range. Server admins only (CouchDB's
 * default for a new database): it holds every user's personal data.
 */
export const archivedRevisionId = (db: string, docId: string, rev: string) =>
  `rev:${db}:${docId}:${rev}`;

/** One per set of leaves: the same conflict decided twice is the same record. */
export function resolutionId(db: string, docId: string, leaves: readonly Leaf[]): string {
  const revs = leaves
    .map((l) => l.rev)
    .sort()
    .join('\n');
  return `resolution:${db}:${docId}:${createHash('sha256').update(revs).digest('hex').slice(0, 16)}`;
}

export interface ArchivedRevision {
  kind: 'revision';
  db: string;
  /** The database's user (`userdb-…` decoded) or team, for finding a person's data. */
  user: string | null;
  team: string | null;
  doc_id: string;
  rev: string;
  doc_type: string | null;
  strategy: string;
  resolution: string;
  /** The revision exactly as it was, `_id`, `_rev` and attachment stubs included. */
  doc: Body;
  /** Its branch, leaf first, to put it back under the right parent. */
  history: string[];
  archived_at: string;
  /** Attachment bodies, as real attachments of the archive document. */
  _attachments?: Record<string, { content_type: string; data: string }>;
}

export type ResolutionStatus = 'planned' | 'resolved' | 'superseded' | 'rejected';

export interface Resolution {
  kind: 'resolution';
  db: string;
  user: string | null;
  team: string | null;
  doc_id: string;
  doc_type: string | null;
  strategy: string;
  /** Every live leaf there was, sorted. */
  leaves: string[];
  /** The leaf that stayed, or the parent of the merged revision. */
  kept: string;
  /** The leaves deleted. */
  deleted: string[];
  ancestor?: string | null;
  contested?: Record<string, string>;
  reason: string;
  /** Archive ids of every replaced revision. */
  archived: string[];
  status: ResolutionStatus;
  /** field-merge: the revision written. */
  written_rev?: string;
  /** Why CouchDB refused, when `rejected`. */
  refused?: string;
  decided_at: string;
  finished_at?: string;
}

export interface Target {
  db: string;
  docId: string;
  docType: string | null;
  strategy: string;
}

/**
 * Writes the replaced revisions and the planned resolution in one `_bulk_docs`. A document
 * already there is a previous attempt's (same id, same content): fine. Anything else throws,
 * and nothing is resolved.
 */
export async function archive(
  nano: Nano.ServerScope,
  archiveDb: string,
  target: Target,
  live: readonly Leaf[],
  plan: Plan,
  now: Date,
): Promise<Resolution & { _id: string }> {
  const owner = ownerOf(target.db);
  const resolution = resolutionId(target.db, target.docId, live);
  const revisions: Array<ArchivedRevision & { _id: string }> = [];
  for (const leaf of replaced(plan)) {
    revisions.push({
      _id: archivedRevisionId(target.db, target.docId, leaf.rev),
      kind: 'revision',
      ...owner,
      db: target.db,
      doc_id: target.docId,
      rev: leaf.rev,
      doc_type: target.docType,
      strategy: target.strategy,
      resolution,
      doc: leaf.body,
      history: leaf.history,
      archived_at: now.toISOString(),
      ...(await attachmentsOf(nano, target, leaf)),
    });
  }
  const record: Resolution & { _id: string } = {
    _id: resolution,
    kind: 'resolution',
    ...owner,
    db: target.db,
    doc_id: target.docId,
    doc_type: target.docType,
    strategy: target.strategy,
    leaves: live.map((l) => l.rev).sort(),
    kept: plan.keep.rev,
    deleted: plan.losers.map((l) => l.rev),
    ...(plan.ancestor !== undefined && { ancestor: plan.ancestor }),
    ...(plan.contested && { contested: plan.contested }),
    reason: plan.reason,
    archived: revisions.map((r) => r._id),
    status: 'planned',
    decided_at: now.toISOString(),
  };
  type Row = { id: string; error?: string; reason?: string };
  const res = (await nano
    .use(archiveDb)
    .bulk({ docs: [...revisions, record] })
    .catch((err: unknown) => {
      // nano's error carries the request body: personal data stays out of logs.
      throw cleanCouchError(err);
    })) as Row[];
  const f = res.find((r) => r.error && r.error !== 'conflict');
  if (f) {
    throw new CouchWriteFailed(
      `archiving ${target.db}/${target.docId} failed: ${f.error} ${f.reason ?? ''} (${f.id})`,
    );
  }
  return record;
}

/** Records how the resolution ended. */
export async function finishResolution(
  nano: Nano.ServerScope,
  archiveDb: string,
  record: Resolution & { _id: string },
  outcome: { status: ResolutionStatus; written_rev?: string; refused?: string },
  now: Date,
): Promise<void> {
  const { _id, ...planned } = record;
  await upsert<Resolution>(nano.use(archiveDb), _id, (cur) => {
    if (cur && cur.status === outcome.status && cur.written_rev === outcome.written_rev)
      return false;
    const decided_at = cur?.decided_at ?? planned.decided_at;
    return { ...planned, ...outcome, decided_at, finished_at: now.toISOString() };
  });
}

function ownerOf(db: string): { user: string | null; team: string | null } {
  return { user: userFromDbName(db), team: teamFromDbName(db) };
}

/** A leaf's attachment bodies, read only when it has any (phones rarely send them). */
async function attachmentsOf(
  nano: Nano.ServerScope,
  target: Target,
  leaf: Leaf,
): Promise<Pick<ArchivedRevision, '_attachments'>> {
  if (!leaf.body._attachments) return {};
  const full = await fetchRevision(nano, target.db, target.docId, leaf.rev, { attachments: true });
  const atts = (full?._attachments ?? {}) as Record<
    string,
    { content_type: string; data?: string }
  >;
  const out: Record<string, { content_type: string; data: string }> = {};
  for (const [name, a] of Object.entries(atts)) {
    if (typeof a.data === 'string') out[name] = { content_type: a.content_type, data: a.data };
  }
  return Object.keys(out).length ? { _attachments: out } : {};
}
