import { createHash } from 'node:crypto';
import { readHeld } from '../../conflicts/held.js';
import { strategyFor } from '../../conflicts/strategy.js';
import { runBounded } from '../../util/run-bounded.js';
import { ensureDb } from '../../provisioning/steps.js';
import type { RuleSet } from '../../rules/index.js';
import { changedDatabases, ensureJobsDb, readCheckpoint, writeCheckpoint } from '../changed-dbs.js';
import type { Job, JobContext, JobResult } from '../types.js';
import { fleetDbs } from '../../provisioning/fleet-dbs.js';
import { JOB, reconcileDatabase } from './database.js';
import {
  heldIndex,
  reconcileDocument,
  type DbScope,
  type DocOutcome,
  type ReconcileHooks,
} from './document.js';

/**
 * The conflict reconciler: in every user and team database that changed since the last run
 * (`_db_updates`), the documents with more than one live branch are settled by their type's
 * strategy (see docs/conflicts.md). Cost follows what changed, not the number of databases.
 */

export interface ReconcileOptions extends ReconcileHooks {
  /** `_changes` rows per request. */
  pageSize?: number;
  /** Databases reconciled at once. */
  concurrency?: number;
  now?: () => Date;
}

const DEFAULTS = { pageSize: 500, concurrency: 4, now: () => new Date() };

export function createReconcileJob(opts: ReconcileOptions = {}): Job {
  return { name: JOB, schedule: '* * * * *', run: (ctx) => reconcile(ctx, opts) };
}

export const reconcileJob = createReconcileJob();

export async function reconcile(
  ctx: JobContext,
  options: ReconcileOptions = {},
): Promise<JobResult> {
  const { nano, rules, log, signal } = ctx;
  const opts = { ...DEFAULTS, ...options };
  const fleet = fleetDbs(ctx.config);
  await ensureJobsDb(nano, fleet.jobs);
  const counts: Record<DocOutcome, number> = { clean: 0, resolved: 0, held: 0, superseded: 0 };
  const count = (o: DocOutcome) => void counts[o]++;
  let archiveReady: Promise<void> | undefined;
  const scope = (db: string): DbScope => ({
    nano,
    rules,
    log,
    db,
    fleet,
    hooks: opts,
    now: opts.now,
    archiveReady: () => (archiveReady ??= ensureDb(nano, fleet.archive).then(() => undefined)),
    isHeld: heldIndex(nano, fleet.jobs, db),
  });

  const changed = await changedDatabases(nano, JOB, {
    fleet,
    log,
    safetyPassMs: ctx.config.JOBS_SAFETY_PASS_MIN * 60_000,
  });
  let failed = 0;
  let stopped = false;
  await runBounded(list(changed.names), opts.concurrency, async (db) => {
    if (signal.aborted) return void (stopped = true);
    try {
      const end = await reconcileDatabase(scope(db), { pageSize: opts.pageSize, signal }, count);
      if (end === 'stopped') stopped = true;
    } catch (err) {
      failed++;
      log.error({ db, err: String(err) }, 'reconciling a database failed; the next run retries it');
    }
  });
  const retried = stopped || failed ? 0 : await retryAfterRuleChange(ctx, scope, count);
  // Only a complete pass moves past these databases; the ones done cost one request next time.
  if (!failed && !stopped) await changed.commit();
  return {
    databases: changed.names.length,
    ...(changed.source === 'scan' && { found_by: 'scan' }),
    ...counts,
    retried,
    failed_databases: failed,
    ...(stopped ? { stopped: true } : {}),
  };
}

/**
 * Held conflicts are judged again when the rules change (a type moved from `manual` to
 * `field-merge`, a schema loosened): nothing else would bring them back, since their
 * databases' checkpoints have moved on. One small read per run when nothing changed.
 */
async function retryAfterRuleChange(
  ctx: JobContext,
  scope: (db: string) => DbScope,
  count: (o: DocOutcome) => void,
): Promise<number> {
  const hash = rulesHash(ctx.rules);
  const { jobs } = fleetDbs(ctx.config);
  if ((await readCheckpoint(ctx.nano, jobs, JOB, 'rules')) === hash) return 0;
  let retried = 0;
  for (const held of await readHeld(ctx.nano, jobs)) {
    if ((strategyFor(ctx.rules, held.doc_type)?.ruleHash ?? null) === held.rule_hash) continue;
    if (ctx.signal.aborted) return retried;
    count(await reconcileDocument(scope(held.db), held.doc_id));
    retried++;
  }
  await writeCheckpoint(ctx.nano, jobs, JOB, 'rules', hash);
  return retried;
}

function rulesHash(rules: RuleSet): string {
  return createHash('sha256').update(JSON.stringify(rules.rules)).digest('hex').slice(0, 16);
}

async function* list<T>(items: readonly T[]): AsyncIterable<T> {
  yield* items;
}
