import type Nano from 'nano';
import type { FastifyBaseLogger } from 'fastify';
import { couchStatus, JobFailed } from '../../errors.js';
import { changedDatabases, ensureJobsDb } from '../changed-dbs.js';
import { contributionId, DDOC, ensureAggregatesDb } from './aggregates-db.js';
import { idsWithPrefix } from './couch-io.js';
import { ensureFormat } from './format.js';
import type { FleetDbs } from '../../provisioning/fleet-dbs.js';
import { readRestrictions } from './restricted.js';
import { aggregateDatabase, dropDatabase, JOB_NAME, type DatabaseDeps } from './database.js';

export interface AggregateOptions {
  nano: Nano.ServerScope;
  /** The reporting database (config AGGREGATES_DB). */
  aggregatesDb: string;
  /** The jobs database and the fleet's databases (config JOBS_DB, FLEET_NAME_PREFIX). */
  fleet: FleetDbs;
  /** Changes read per page of a database's `_changes` (config AGGREGATE_BATCH_SIZE). */
  batchSize: number;
  /** Databases aggregated at once (config AGGREGATE_CONCURRENCY). */
  concurrency: number;
  /** How often a run looks at every database (config JOBS_SAFETY_PASS_MIN); default an hour. */
  safetyPassMs?: number;
  log?: FastifyBaseLogger;
  signal?: AbortSignal;
  /** Where restrictions of processing are kept (config PRIVACY_DB); none are honoured without it. */
  privacyDb?: string;
  /** Called after a batch's contributions are written, before its buckets; tests crash here. */
  afterContributions?: (db: string) => void | Promise<void>;
}

export interface AggregateResult {
  [key: string]: number;
  databases: number;
  changes: number;
  contributions: number;
  buckets: number;
  dropped: number;
  failed: number;
}

/**
 * One aggregation run: the databases `_db_updates` says changed since the last run, each from
 * its own `_changes` checkpoint; then the databases deleted since, taken out of the buckets.
 * The `_db_updates` checkpoint moves only when every database is done, so a database that
 * failed (or was cut short by shutdown) is looked at again next time.
 */
export async function aggregate(opts: AggregateOptions): Promise<AggregateResult> {
  const { nano } = opts;
  await ensureJobsDb(nano, opts.fleet.jobs);
  await ensureAggregatesDb(nano, opts.aggregatesDb);
  if (await ensureFormat(nano, nano.use(opts.aggregatesDb), opts.fleet.jobs, JOB_NAME)) {
    opts.log?.warn('the reporting database had an older layout: recounting every database');
  }
  const deps: DatabaseDeps = {
    nano,
    jobsDb: opts.fleet.jobs,
    agg: nano.use(opts.aggregatesDb),
    batchSize: opts.batchSize,
    signal: opts.signal,
    afterContributions: opts.afterContributions,
  };
  const restrictions = opts.privacyDb
    ? await readRestrictions(nano, deps.agg, opts.privacyDb, opts.fleet)
    : null;
  deps.restricted = restrictions?.names;
  const changed = await changedDatabases(nano, JOB_NAME, {
    fleet: opts.fleet,
    log: opts.log,
    safetyPassMs: opts.safetyPassMs ?? 60 * 60_000,
  });
  const names = [...new Set([...changed.names, ...(restrictions?.recount ?? [])])].sort();
  const result: AggregateResult = {
    databases: names.length,
    changes: 0,
    contributions: 0,
    buckets: 0,
    dropped: 0,
    failed: 0,
  };
  const errors: unknown[] = [];
  let cursor = 0;
  const worker = async () => {
    while (cursor < names.length && !opts.signal?.aborted) {
      const db = names[cursor++] as string;
      try {
        const s = await aggregateDatabase(deps, db);
        result.changes += s.changes;
        result.contributions += s.contributions;
        result.buckets += s.buckets;
      } catch (err) {
        // Deleted since _db_updates listed it: the sweep below takes it out.
        if (couchStatus(err) === 404) continue;
        result.failed++;
        errors.push(err);
        opts.log?.error({ db, err: String(err) }, 'aggregation of a database failed');
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.concurrency) }, worker));
  if (errors.length) {
    throw new JobFailed(
      `aggregation failed for ${errors.length} database(s); first: ${String(errors[0])}`,
    );
  }
  if (opts.signal?.aborted) return result;
  await changed.commit();
  await restrictions?.commit();
  for (const s of await dropVanished(deps, nano)) {
    result.dropped++;
    result.contributions += s.contributions;
    result.buckets += s.buckets;
  }
  return result;
}

/**
 * Databases the aggregates still count that no longer exist (a deleted user, say). The
 * `scopes` view only suggests them (a view may lag on a cluster; a database it misses now
 * is dropped by a later run); what is dropped is listed from the contributions' own ids.
 */
async function dropVanished(deps: DatabaseDeps, nano: Nano.ServerScope) {
  const scopes = (await deps.agg.view(DDOC, 'scopes', { group: true })).rows.map(
    (r) => r.key as string,
  );
  if (scopes.length === 0) return [];
  const live = new Set((await nano.db.list()) as string[]);
  const out = [];
  for (const db of scopes.filter((s) => !live.has(s))) {
    const prefix = contributionId(db, '');
    const docIds = (await idsWithPrefix(deps.agg, prefix)).map((id) => id.slice(prefix.length));
    out.push(await dropDatabase(deps, db, docIds));
  }
  return out;
}
