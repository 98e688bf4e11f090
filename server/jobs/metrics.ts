import type Nano from 'nano';
import { Gauge, type Registry } from 'prom-client';
import { couchStatus } from '../errors.js';
import type { JobHealth } from './job-health.js';
import { leaseId, type LeaseDoc, type RunRecord } from './lease.js';

const RECONCILE = 'reconcile';
/** What the reconciler's result counts for documents that were in conflict (clean ones were not). */
const CONFLICT_OUTCOMES = ['resolved', 'held', 'superseded'] as const;

export interface JobMetricsDeps {
  nano: Nano.ServerScope;
  /** JOBS_DB: the leases and held-conflict records. */
  jobsDb: string;
  /** The scheduled jobs' names. */
  jobs: readonly string[];
}

/**
 * Job gauges, read when Prometheus scrapes:
 * - `sawa_job_consecutive_failures{job}`: failed runs in this process since the job's last
 *   good one. Alert on it staying above 2.
 * - `sawa_job_lag_seconds{job}`: seconds since the job's last good run finished, on any
 *   instance (from the run records of `lease:<job>`; one `_all_docs` read per scrape). A job
 *   that never ran well has no series.
 * - `sawa_conflicts_held`: conflicts the reconciler left for a person (`held:` records; one
 *   key-only range read per scrape).
 * - `sawa_conflicts_found_last_run{outcome}`: conflicting documents the last good reconciler
 *   run found, by outcome, from the result in its run record (one more read of its lease).
 *   Conflicts pending right now are not counted: that would read every user database per
 *   scrape; those that arose since the last run wait at most its lag.
 * A CouchDB that does not answer leaves these two out of the scrape rather than failing it.
 */
export function jobMetrics(registry: Registry, health: JobHealth, deps?: JobMetricsDeps): void {
  const registers = [registry];
  new Gauge({
    name: 'sawa_job_consecutive_failures',
    help: "Failed runs of each job in this instance since its last good run (the reason is in /ready's jobs)",
    labelNames: ['job'] as const,
    registers,
    collect() {
      for (const s of health.states()) this.set({ job: s.job }, s.failures);
    },
  });
  if (!deps) return;
  const db = deps.nano.use(deps.jobsDb);
  new Gauge({
    name: 'sawa_job_lag_seconds',
    help: "Seconds since each job's last successful run finished, on any instance",
    labelNames: ['job'] as const,
    registers,
    async collect() {
      this.reset();
      const lastOk = await lastGoodRuns(db, deps.jobs).catch(() => null);
      if (!lastOk) return;
      const now = Date.now();
      for (const [job, run] of lastOk) {
        this.set({ job }, Math.max(0, (now - Date.parse(run.finished_at)) / 1000));
      }
    },
  });
  new Gauge({
    name: 'sawa_conflicts_found_last_run',
    help: 'Conflicting documents the last successful reconciler run found (pending when it began), by what it did with them',
    labelNames: ['outcome'] as const,
    registers,
    async collect() {
      this.reset();
      const run = (await lastGoodRuns(db, [RECONCILE]).catch(() => null))?.get(RECONCILE);
      if (!run?.result) return;
      for (const outcome of CONFLICT_OUTCOMES) {
        const n = run.result[outcome];
        if (typeof n === 'number') this.set({ outcome }, n);
      }
    },
  });
  new Gauge({
    name: 'sawa_conflicts_held',
    help: 'Conflicts the reconciler left for a person to resolve',
    registers,
    async collect() {
      this.reset();
      const n = await db
        .list({ startkey: 'held:', endkey: 'held:\ufff0' })
        .then((res) => res.rows.length)
        // No jobs database yet: nothing was ever held.
        .catch((err: unknown) => (couchStatus(err) === 404 ? 0 : null));
      if (n !== null) this.set(n);
    },
  });
}

/** Each job's newest successful run, from the run records of its lease. */
async function lastGoodRuns(db: Nano.DocumentScope<unknown>, jobs: readonly string[]) {
  const res = await db.fetch({ keys: jobs.map(leaseId) });
  const out = new Map<string, RunRecord>();
  for (const row of res.rows) {
    const doc = 'doc' in row ? (row.doc as unknown as LeaseDoc | null) : null;
    const ok = doc?.runs?.find((r) => r.ok);
    if (doc && ok) out.set(doc.job, ok);
  }
  return out;
}
