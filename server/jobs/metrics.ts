import type Nano from 'nano';
import { Gauge, type Registry } from 'prom-client';
import { couchStatus } from '../errors.js';
import type { JobHealth } from './job-health.js';
import { leaseId, type LeaseDoc } from './lease.js';

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
      for (const [job, at] of lastOk) this.set({ job }, Math.max(0, (now - at) / 1000));
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

/** When each job's newest successful run finished (ms), from the run records of its lease. */
async function lastGoodRuns(db: Nano.DocumentScope<unknown>, jobs: readonly string[]) {
  const res = await db.fetch({ keys: jobs.map(leaseId) });
  const out = new Map<string, number>();
  for (const row of res.rows) {
    const doc = 'doc' in row ? (row.doc as unknown as LeaseDoc | null) : null;
    const ok = doc?.runs?.find((r) => r.ok);
    if (doc && ok) out.set(doc.job, Date.parse(ok.finished_at));
  }
  return out;
}
