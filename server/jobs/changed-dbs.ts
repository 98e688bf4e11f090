import { createHash } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type Nano from 'nano';
import { upsert, getDoc } from '../couch/upsert.js';
import { cleanCouchError, couchStatus, CouchRequestError } from '../errors.js';
import type { FleetDbs } from '../provisioning/fleet-dbs.js';
import type { FleetScope } from '../provisioning/names.js';
import { ensureDb, ensureSecurity } from '../provisioning/steps.js';
import { adminOnlySecurity } from '../provisioning/security.js';
import { listPeopleDbs, updateSeqs } from './db-scan.js';

interface Checkpoint {
  since: string;
  updated_at: string;
}

const checkpointId = (job: string, scope: string) => `checkpoint:${job}:${scope}`;

/** Creates the jobs database, server admins only, unless it exists; safe to call on every run. */
export async function ensureJobsDb(nano: Nano.ServerScope, jobsDb: string): Promise<void> {
  await ensureDb(nano, jobsDb);
  await ensureSecurity(nano, jobsDb, adminOnlySecurity());
}

export async function readCheckpoint(
  nano: Nano.ServerScope,
  jobsDb: string,
  job: string,
  scope: string,
): Promise<string> {
  const doc = await getDoc<Checkpoint>(nano.use(jobsDb), checkpointId(job, scope));
  return doc?.since ?? '0';
}

/** Records progress only after the work up to `since` is done, so a crash repeats work rather than skipping it. */
export async function writeCheckpoint(
  nano: Nano.ServerScope,
  jobsDb: string,
  job: string,
  scope: string,
  since: string,
): Promise<void> {
  await upsert<Checkpoint>(nano.use(jobsDb), checkpointId(job, scope), (cur) =>
    cur?.since === since ? false : { ...cur, since, updated_at: new Date().toISOString() },
  );
}

/** A job's record of which databases it has seen: `checkpoint:<job>:_db_updates`. */
interface DbsCheckpoint extends Checkpoint {
  /** When a run last looked at every database (a first run, or a safety pass). */
  full_at?: string;
  /** Without `_db_updates`: a hash of each database's `update_seq` when last handled. */
  seen?: Record<string, string>;
}

export interface ChangedDbs {
  /** User and team databases that may have changed since the job last committed, sorted. */
  names: string[];
  /** `_db_updates`, or `scan` (every database's `update_seq`) when CouchDB has no `_global_changes`. */
  source: 'db_updates' | 'scan';
  /** Every user and team database is listed: a first run, or a periodic safety pass. */
  full: boolean;
  /** Records that every one of `names` is handled; call only then. */
  commit(): Promise<void>;
}

export interface ChangedOptions {
  /** Where the checkpoint lives, and which databases are the fleet's. */
  fleet: FleetDbs;
  log?: FastifyBaseLogger;
  /** How often a run looks at every database whatever `_db_updates` says (ms). */
  safetyPassMs: number;
  now?: () => number;
}

const warned = new Set<string>();

/**
 * The databases a job must look at. With `_db_updates` (CouchDB's `_global_changes`
 * database): those it reports since the job's checkpoint, so a run costs in proportion to
 * what changed. Without it (404, as on a single node set up without `_global_changes`): the
 * `userdb-`/`team-` ranges of `_all_dbs`, keeping those whose `update_seq` differs from
 * when the job last handled them. A first run and a periodic safety pass take every
 * database: `_db_updates` lists only databases written since `_global_changes` was created,
 * reports a write some hundreds of milliseconds after it is acknowledged, and may drop one.
 * Either way a job's own `_changes` checkpoint per database decides what is new in it.
 */
export async function changedDatabases(
  nano: Nano.ServerScope,
  job: string,
  opts: ChangedOptions,
): Promise<ChangedDbs> {
  const jobs = nano.use(opts.fleet.jobs);
  const { scope } = opts.fleet;
  const id = checkpointId(job, '_db_updates');
  const state = await getDoc<DbsCheckpoint>(jobs, id);
  const now = (opts.now ?? Date.now)();
  const fullAt = state?.full_at ? Date.parse(state.full_at) : NaN;
  const full = !(now - fullAt < opts.safetyPassMs);
  const updates = await readDbUpdates(nano, scope, state?.since ?? '0');
  if (!updates && !warned.has(job)) {
    warned.add(job);
    opts.log?.warn(
      { job },
      '_db_updates answered 404: this CouchDB has no _global_changes database, so the job ' +
        'finds changed databases by reading the update_seq of every userdb-/team- database ' +
        'instead (create _global_changes to make runs cheaper)',
    );
  }
  const save = (fields: Partial<DbsCheckpoint>) => async () => {
    await upsert<DbsCheckpoint>(jobs, id, (cur) => ({
      ...cur,
      since: updates?.last_seq ?? cur?.since ?? '0',
      updated_at: new Date(now).toISOString(),
      ...(full && { full_at: new Date(now).toISOString() }),
      ...fields,
    }));
  };
  if (updates && !full) {
    return { names: updates.names, source: 'db_updates', full, commit: save({}) };
  }
  const all = await listPeopleDbs(nano, scope);
  if (updates) {
    const names = [...new Set([...all, ...updates.names])].sort();
    return { names, source: 'db_updates', full, commit: save({ seen: undefined }) };
  }
  const seqs = await updateSeqs(nano, all);
  const seen: Record<string, string> = {};
  for (const [db, seq] of seqs) seen[db] = hashSeq(seq);
  const names = full
    ? [...seqs.keys()]
    : [...seqs.keys()].filter((db) => state?.seen?.[db] !== seen[db]);
  return { names: names.sort(), source: 'scan', full, commit: save({ seen }) };
}

/** Cluster sequences run to hundreds of characters; a short hash tells two apart as well. */
const hashSeq = (seq: string) => createHash('sha256').update(seq).digest('base64url').slice(0, 16);

/** The user and team databases `_db_updates` lists since `since`, or null when it is missing. */
async function readDbUpdates(
  nano: Nano.ServerScope,
  scope: FleetScope,
  since: string,
): Promise<{ names: string[]; last_seq: string } | null> {
  let res: { results: Array<{ db_name: string; type: string }>; last_seq: unknown };
  try {
    res = (await nano.request({
      path: '_db_updates',
      qs: { since, feed: 'normal' },
    })) as typeof res;
  } catch (err) {
    if (couchStatus(err) === 404) return null;
    const e = cleanCouchError(err);
    const reason = e instanceof CouchRequestError ? (e.reason ?? e.couchError) : e.message;
    throw new CouchRequestError(
      couchStatus(err),
      e instanceof CouchRequestError ? e.couchError : undefined,
      `reading _db_updates (served from CouchDB's _global_changes database) failed: ${reason ?? ''}`,
    );
  }
  const names = new Set<string>();
  for (const r of res.results) {
    if (r.type === 'deleted') names.delete(r.db_name);
    else if (scope.has(r.db_name)) names.add(r.db_name);
  }
  return { names: [...names].sort(), last_seq: String(res.last_seq) };
}
