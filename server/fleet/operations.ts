import type Nano from 'nano';
import type { Registry } from 'prom-client';
import { couchStatus } from '../errors.js';
import { leaseId, type LeaseDoc } from '../jobs/lease.js';
import type { Scheduler } from '../jobs/scheduler.js';
import { paymentsReport, type PaymentSummary } from '../jobs/integrations/payments/report.js';

export interface JobStatus {
  job: string;
  enabled: boolean;
  schedule: string;
  /** The newest run on any instance (the lease's run records). */
  last_run_at: string | null;
  last_run_ok: boolean | null;
  last_error: string | null;
  last_ok_at: string | null;
  /** Seconds since the last good run finished (as `sawa_job_lag_seconds`); null if none. */
  lag_seconds: number | null;
  /** Failed runs in this instance since its last good one. */
  failures_here: number;
}

export interface ProviderCallCount {
  provider: string;
  kind: string;
  outcome: string;
  count: number;
}

export interface Operations {
  jobs: JobStatus[];
  payments: PaymentSummary;
  provider_calls: ProviderCallCount[];
}

/** Job status and lag, payment requests by state, provider call outcomes: for `/ops/`. */
export async function operations(deps: {
  nano: Nano.ServerScope;
  jobsDb: string;
  scheduler: Scheduler;
  registry: Registry | null;
  now: Date;
  stuckAfterMs: number;
}): Promise<Operations> {
  const { nano, jobsDb, scheduler, now } = deps;
  const names = scheduler.plan.map((p) => p.job.name);
  const leases = new Map<string, LeaseDoc>();
  try {
    const res = await nano.use(jobsDb).fetch({ keys: names.map(leaseId) });
    for (const row of res.rows) {
      const doc = 'doc' in row ? (row.doc as unknown as LeaseDoc | null) : null;
      if (doc) leases.set(doc.job, doc);
    }
  } catch (err) {
    if (couchStatus(err) !== 404) throw err;
  }
  const here = new Map(scheduler.health.states().map((s) => [s.job, s.failures]));
  const jobs = scheduler.plan.map(({ job, schedule, enabled }): JobStatus => {
    const runs = leases.get(job.name)?.runs ?? [];
    const last = runs[0];
    const ok = runs.find((r) => r.ok);
    return {
      job: job.name,
      enabled,
      schedule,
      last_run_at: last?.finished_at ?? null,
      last_run_ok: last ? last.ok : null,
      last_error: last && !last.ok ? (last.error ?? null) : null,
      last_ok_at: ok?.finished_at ?? null,
      lag_seconds: ok
        ? Math.max(0, Math.round((now.getTime() - Date.parse(ok.finished_at)) / 1000))
        : null,
      failures_here: here.get(job.name) ?? 0,
    };
  });
  const payments = await paymentsReport(nano, { jobsDb, now, stuckAfterMs: deps.stuckAfterMs })
    .then((r) => r.summary)
    .catch((err: unknown) => {
      if (couchStatus(err) !== 404) throw err;
      const zero = () => ({ count: 0, amount: 0 });
      return {
        by_state: { queued: zero(), submitted: zero(), succeeded: zero(), failed: zero() },
        stuck: 0,
        flagged: 0,
      };
    });
  const counter = deps.registry?.getSingleMetric('sawa_provider_calls_total');
  const values = counter ? (await counter.get()).values : [];
  const provider_calls = values
    .filter((v) => v.value > 0)
    .map((v) => ({
      provider: String(v.labels.provider),
      kind: String(v.labels.kind),
      outcome: String(v.labels.outcome),
      count: v.value,
    }));
  return { jobs, payments, provider_calls };
}
