import type { RunOutcome } from './leased-run.js';

/**
 * How each job's runs in this process went, for `/ready` and `/metrics`: a job whose last
 * runs all failed is reported with the reason, so a CouchDB that breaks every run (no
 * `_global_changes`, lost rights) is seen without reading logs.
 */

/** Consecutive failed runs after which a job counts as failing: one failure may be a blip. */
export const FAILING_AFTER = 3;

export interface JobHealthState {
  job: string;
  /** Failed runs since the last one that succeeded. */
  failures: number;
  /** When the first of those failures happened (ISO). */
  failing_since?: string;
  /** The last failure's message. */
  reason?: string;
  last_run_at?: string;
  last_ok_at?: string;
}

export interface JobHealth {
  record(job: string, outcome: RunOutcome, at: number): void;
  states(): JobHealthState[];
  /** The jobs whose last FAILING_AFTER runs or more failed. */
  failing(): JobHealthState[];
}

export function jobHealth(names: readonly string[]): JobHealth {
  const states = new Map<string, JobHealthState>(names.map((job) => [job, { job, failures: 0 }]));
  return {
    record(job, outcome, at) {
      if (!outcome.ran) return;
      const when = new Date(at).toISOString();
      const prev = states.get(job) ?? { job, failures: 0 };
      states.set(
        job,
        outcome.ok
          ? { job, failures: 0, last_run_at: when, last_ok_at: when }
          : {
              ...prev,
              failures: prev.failures + 1,
              failing_since: prev.failing_since ?? when,
              reason: outcome.error,
              last_run_at: when,
            },
      );
    },
    states: () => [...states.values()].map((s) => ({ ...s })),
    failing: () =>
      [...states.values()].filter((s) => s.failures >= FAILING_AFTER).map((s) => ({ ...s })),
  };
}
