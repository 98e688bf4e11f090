import { createHash } from 'node:crypto';
import type Nano from 'nano';
import { getDoc, upsert, type Stored } from '../../../couch/upsert.js';
import { couchStatus, cleanCouchError } from '../../../errors.js';

/**
 * An outbox claim: the jobs database's record that one request document is being acted on,
 * `outbox:<kind>:<key>`. It is created once (a second create answers 409), and every state
 * change is a write on its revision, so two instances can never both move it to `submitted`.
 */

export type ClaimState = 'queued' | 'submitted' | 'succeeded' | 'failed';

export interface LateOutcome {
  at: string;
  source: string;
  outcome: string;
  reference?: string;
}

export interface Claim<O = unknown> {
  kind: string;
  db: string;
  request_id: string;
  owner: string;
  external_id: string;
  state: ClaimState;
  attempts: number;
  queries: number;
  next_at: string;
  created_at: string;
  updated_at: string;
  /** What the provider needs from the request (immutable), or where to read it. */
  order: O;
  reference?: string;
  reason?: string;
  /** When `submitted`: the call's answer was never read, so only a status query may settle it. */
  unknown?: boolean;
  /** For a person: an outcome that disagrees with a final state, or one nobody can settle. */
  flagged?: boolean;
  late?: LateOutcome[];
}

export const TERMINAL: ReadonlySet<ClaimState> = new Set(['succeeded', 'failed']);

/** The key of a request: the same database and document id always give the same key. */
export function claimKey(db: string, requestId: string): string {
  return createHash('sha256').update(`${db}\n${requestId}`).digest('hex').slice(0, 32);
}

export const claimId = (kind: string, key: string) => `outbox:${kind}:${key}`;

/** The jobs database (JOBS_DB), where claims live beside the jobs' other state. */
export type JobsDb = Nano.DocumentScope<unknown>;

/**
 * A new claim of the request `requestId` in user database `db`: queued, due now, with the
 * idempotency key the provider is sent (`sawa-<key>`, the same on every retry or replay).
 */
export function newClaim<O>(
  kind: string,
  db: string,
  request: { _id: string; owner?: unknown },
  order: O,
  now: Date,
): { id: string; claim: Claim<O> } {
  const key = claimKey(db, request._id);
  const at = now.toISOString();
  return {
    id: claimId(kind, key),
    claim: {
      kind,
      db,
      request_id: request._id,
      owner: String(request.owner),
      external_id: `sawa-${key}`,
      state: 'queued',
      attempts: 0,
      queries: 0,
      next_at: at,
      created_at: at,
      updated_at: at,
      order,
    },
  };
}

/** Creates the claim unless one exists; true when this call created it. */
export async function createClaim(jobs: JobsDb, id: string, claim: Claim<unknown>) {
  try {
    await jobs.insert({ ...claim, _id: id } as Nano.MaybeDocument);
    return true;
  } catch (err) {
    if (couchStatus(err) === 409) return false;
    throw cleanCouchError(err);
  }
}

/**
 * Writes `next` over exactly the revision read; false when someone else wrote first (the
 * caller then leaves the claim to them). This is how a claim moves to `submitted` at most once.
 */
export async function moveClaim<C extends Claim<unknown>>(
  jobs: JobsDb,
  current: Stored<C>,
  next: C,
) {
  try {
    const res = await jobs.insert({
      ...next,
      _id: current._id,
      _rev: current._rev,
    } as Nano.MaybeDocument);
    return { ...next, _id: current._id, _rev: res.rev } as Stored<C>;
  } catch (err) {
    if (couchStatus(err) === 409) return null;
    throw cleanCouchError(err);
  }
}

export async function readClaim<C extends Claim<unknown>>(jobs: JobsDb, id: string) {
  return getDoc<C>(jobs, id);
}

/** Read-modify-write with retries, for changes that may be made by anyone (callbacks). */
export async function updateClaim<C extends Claim<unknown>>(
  jobs: JobsDb,
  id: string,
  diff: (c: Stored<C>) => C | false,
) {
  return upsert<C>(jobs, id, (cur) => (cur ? diff(cur) : false));
}

/** Every claim of a kind, in pages. */
export async function* listClaims<C extends Claim<unknown>>(
  jobs: JobsDb,
  kind: string,
  pageSize = 200,
): AsyncGenerator<Stored<C>> {
  const prefix = `outbox:${kind}:`;
  let startkey = prefix;
  let skip = 0;
  for (;;) {
    let res;
    try {
      res = await jobs.list({
        startkey,
        endkey: `${prefix}\ufff0`,
        include_docs: true,
        limit: pageSize,
        skip,
      });
    } catch (err) {
      // No jobs database yet: no job has run, so nothing was claimed.
      if (couchStatus(err) === 404) return;
      throw cleanCouchError(err);
    }
    for (const row of res.rows) if (row.doc) yield row.doc as unknown as Stored<C>;
    if (res.rows.length < pageSize) return;
    startkey = res.rows[res.rows.length - 1]!.id;
    skip = 1;
  }
}
