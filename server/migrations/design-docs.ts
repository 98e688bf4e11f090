import type Nano from 'nano';
import type { DatabaseKind } from '../../sync-rules/types.js';
import { runBounded } from '../util/run-bounded.js';
import type { DesignDocSet } from '../rules/index.js';
import { applyPlan, describePlan, planDatabase } from './database.js';
import { listFleet } from './databases.js';
import { fleetDesignDocs, kindOfDb } from './fleet.js';
import type { FleetDbs } from '../provisioning/fleet-dbs.js';

/**
 * Rolls the built design documents out to every user and team database: each database is
 * checked with one small read and written only where it is behind, a few at a time. One bad
 * database is recorded and the run goes on. Stopping (the signal) lets the databases in hand
 * finish; running again finishes the job, since what is current costs only its check.
 */

export const DEPLOY_DEFAULTS = { concurrency: 4, dryRun: false, prune: true } as const;

export interface DeployLogger {
  warn(obj: object, msg: string): void;
}

export type DeployOutcome = 'updated' | 'unchanged' | 'failed';

export interface DeployProgress {
  db: string;
  kind: DatabaseKind;
  outcome: DeployOutcome;
  /** What was done (or, in a dry run, would be done): one line per design document. */
  changes: string[];
  error?: string;
  /** As DeployResult.doneThrough, now: what a checkpoint may record. */
  doneThrough: string | null;
  /** Databases finished so far, and in all. */
  done: number;
  total: number;
}

export interface DeployOptions {
  /** The jobs database (rollout record) and the fleet's databases (fleet-dbs.ts). */
  fleet: FleetDbs;
  /** Plan and report, write nothing. */
  dryRun?: boolean;
  /** Databases handled at once (default 4). */
  concurrency?: number;
  /** Remove Sawa's design documents the build no longer has (default true). */
  prune?: boolean;
  /** Resume: only databases whose names sort after this one. */
  startAfter?: string | null;
  /** Called once the databases are listed, before any is touched. */
  onListed?: (total: number) => void;
  onProgress?: (event: DeployProgress) => void;
  /** Stops taking new databases; those in hand finish. */
  signal?: AbortSignal;
  log?: DeployLogger;
}

export interface DeployResult {
  scanned: number;
  /** Databases written to (in a dry run: that would be). */
  updated: number;
  unchanged: number;
  failed: Array<{ db: string; error: string }>;
  /** True when the signal stopped the run before every database was scanned. */
  aborted: boolean;
  /**
   * The last database such that it and every one before it is done: where a resumed run
   * starts. Null when none is (or in a dry run, which finishes nothing).
   */
  doneThrough: string | null;
  total: number;
}

export async function deployDesignDocs(
  nano: Nano.ServerScope,
  ddocs: DesignDocSet,
  options: DeployOptions,
): Promise<DeployResult> {
  const opts = {
    ...options,
    concurrency: options.concurrency ?? DEPLOY_DEFAULTS.concurrency,
    dryRun: options.dryRun ?? DEPLOY_DEFAULTS.dryRun,
    prune: options.prune ?? DEPLOY_DEFAULTS.prune,
  };
  const wanted = fleetDesignDocs(ddocs);
  const names = await listFleet(nano, opts.fleet.scope, { startAfter: opts.startAfter });
  opts.onListed?.(names.length);
  const result: DeployResult = {
    scanned: 0,
    updated: 0,
    unchanged: 0,
    failed: [],
    aborted: false,
    doneThrough: opts.startAfter ?? null,
    total: names.length,
  };
  const watermark = new Watermark(names, result.doneThrough);

  async function one(index: number): Promise<void> {
    const db = names[index] as string;
    const kind = kindOfDb(db) as DatabaseKind;
    let outcome: DeployOutcome = 'unchanged';
    let changes: string[] = [];
    let error: string | undefined;
    try {
      const plan = await planDatabase(nano, db, wanted[kind], { prune: opts.prune });
      if (plan && (plan.install.length || plan.remove.length)) {
        changes = opts.dryRun ? describePlan(db, plan) : await applyPlan(nano, db, plan);
      }
      // Someone else may have got there between the plan and the write: then nothing changed.
      if (changes.length) outcome = 'updated';
    } catch (err) {
      outcome = 'failed';
      error = err instanceof Error ? err.message : String(err);
      result.failed.push({ db, error });
      opts.log?.warn({ db, err: error }, 'design docs: database failed');
    }
    result.scanned++;
    if (outcome === 'updated') result.updated++;
    if (outcome === 'unchanged') result.unchanged++;
    if (outcome !== 'failed' && !opts.dryRun) result.doneThrough = watermark.done(index);
    opts.onProgress?.({
      db,
      kind,
      outcome,
      changes,
      error,
      doneThrough: result.doneThrough,
      done: result.scanned,
      total: names.length,
    });
  }

  await runBounded(indices(names.length, opts.signal), opts.concurrency, one);
  result.aborted = result.scanned < names.length;
  return result;
}

/** 0…n-1, stopping early once the signal is aborted. */
async function* indices(n: number, signal?: AbortSignal): AsyncIterable<number> {
  for (let i = 0; i < n && !signal?.aborted; i++) yield i;
}

/**
 * Tracks the longest run of finished databases from the start of the (sorted) list, so a
 * checkpoint never claims a database that is still in hand or failed.
 */
class Watermark {
  private readonly finished = new Set<number>();
  private next = 0;

  constructor(
    private readonly names: readonly string[],
    private last: string | null,
  ) {}

  done(index: number): string | null {
    this.finished.add(index);
    while (this.finished.delete(this.next)) this.last = this.names[this.next++] as string;
    return this.last;
  }
}
