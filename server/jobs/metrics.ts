import { Gauge, type Registry } from 'prom-client';
import type { JobHealth } from './job-health.js';

/**
 * `sawa_job_consecutive_failures{job}`: failed runs in this process since the job's last
 * good one, read from the scheduler when Prometheus scrapes. Alert on it staying above 2.
 */
export function jobMetrics(registry: Registry, health: JobHealth): void {
  new Gauge({
    name: 'sawa_job_consecutive_failures',
    help: "Failed runs of each job in this instance since its last good run (the reason is in /ready's jobs)",
    labelNames: ['job'] as const,
    registers: [registry],
    collect() {
      for (const s of health.states()) this.set({ job: s.job }, s.failures);
    },
  });
}
