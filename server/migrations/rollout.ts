import type Nano from 'nano';
import type { DesignDocSet } from '../rules/index.js';
import {
  ensureJobsDb,
  KEPT_FAILURES,
  readRollout,
  saveRollout,
  type RolloutRecord,
} from './checkpoint.js';
import {
  deployDesignDocs,
  type DeployLogger,
  type DeployOptions,
  type DeployProgress,
  type DeployResult,
} from './design-docs.js';
import { fleetDesignDocs, rolloutTarget } from './fleet.js';

/**
 * A rollout as the service and `npm run deploy-design-docs` run it: deployDesignDocs plus the
 * rollout record (checkpoint.ts), read before and written during and after the run.
 *
 * - `start-up`: nothing to do when the record says this build is out everywhere; resume an
 *   unfinished rollout of this build; otherwise every database.
 * - `resume`: resume an unfinished rollout of this build; otherwise every database.
 * - `full`: every database, whatever the record says.
 *
 * A dry run neither reads nor writes the record, and always looks at every database.
 */

export type RolloutFrom = 'start-up' | 'resume' | 'full';

export interface RolloutOptions extends Omit<DeployOptions, 'startAfter'> {
  from: RolloutFrom;
  /** Save the checkpoint after every this many databases (default 100). */
  checkpointEvery?: number;
  log?: DeployLogger;
}

export interface RolloutResult extends DeployResult {
  /** rolloutTarget() of the build. */
  target: string;
  /** True at start-up when the record showed nothing to do. */
  skipped: boolean;
  /** Where this run resumed, when it did. */
  resumedAfter: string | null;
  /** The record as this run left it (null in a dry run). */
  record: RolloutRecord | null;
}

export async function rollOutDesignDocs(
  nano: Nano.ServerScope,
  built: DesignDocSet,
  opts: RolloutOptions,
): Promise<RolloutResult> {
  const target = rolloutTarget(fleetDesignDocs(built));
  if (opts.dryRun) {
    const result = await deployDesignDocs(nano, built, opts);
    return { ...result, target, skipped: false, resumedAfter: null, record: null };
  }

  const { jobs } = opts.fleet;
  await ensureJobsDb(nano, jobs);
  const previous = await readRollout(nano, jobs);
  const same = previous?.target === target;
  if (opts.from === 'start-up' && same && previous.state === 'complete') {
    return { ...nothing(previous), target, skipped: true, resumedAfter: null, record: previous };
  }
  const resumedAfter =
    opts.from !== 'full' && same && previous.state !== 'complete' ? previous.done_through : null;

  const now = () => new Date().toISOString();
  const record: RolloutRecord = {
    type: 'design-docs-rollout',
    target,
    state: 'running',
    done_through: resumedAfter,
    started_at: now(),
    updated_at: now(),
    scanned: 0,
    updated: 0,
    failed: 0,
    failures: [],
  };
  await saveRollout(nano, jobs, record);

  // Checkpoints are saved one at a time, never awaited by the run; a failed save only warns.
  let saving: Promise<void> = Promise.resolve();
  const save = () => {
    const snapshot = { ...record, failures: [...record.failures], updated_at: now() };
    saving = saving
      .then(() => saveRollout(nano, jobs, snapshot))
      .catch((err: unknown) =>
        opts.log?.warn({ err: String(err) }, 'design docs: checkpoint not saved'),
      );
  };
  const every = opts.checkpointEvery ?? 100;
  const onProgress = (event: DeployProgress) => {
    record.done_through = event.doneThrough;
    record.scanned++;
    if (event.outcome === 'updated') record.updated++;
    if (event.outcome === 'failed') {
      record.failed++;
      if (record.failures.length < KEPT_FAILURES)
        record.failures.push({ db: event.db, error: event.error ?? '' });
    }
    if (event.done % every === 0) save();
    opts.onProgress?.(event);
  };

  const result = await deployDesignDocs(nano, built, {
    ...opts,
    startAfter: resumedAfter,
    onProgress,
  });
  record.done_through = result.doneThrough;
  record.state = result.aborted ? 'running' : result.failed.length ? 'incomplete' : 'complete';
  save();
  await saving;
  return { ...result, target, skipped: false, resumedAfter, record };
}

function nothing(record: RolloutRecord): DeployResult {
  return {
    scanned: 0,
    updated: 0,
    unchanged: 0,
    failed: [],
    aborted: false,
    doneThrough: record.done_through,
    total: 0,
  };
}
