import cron from 'node-cron';
import { ConfigError, type Config } from '../config.js';
import type { Job } from './types.js';

export interface PlannedJob {
  job: Job;
  /** The configured cron expression, or the job's own. */
  schedule: string;
  /** Scheduled in this process (JOBS_ENABLED); any job can still be run by hand. */
  enabled: boolean;
}

/** `JOB_<NAME>_SCHEDULE`: the setting that overrides a job's schedule. */
export const scheduleKey = (name: string) =>
  `JOB_${name.toUpperCase().replace(/[^A-Z0-9]+/g, '_')}_SCHEDULE`;

/**
 * The jobs with their schedules and whether this process schedules them, from JOBS_ENABLED
 * and JOB_<NAME>_SCHEDULE; throws ConfigError naming every bad setting, at start-up.
 */
export function planJobs(config: Config, jobs: readonly Job[]): PlannedJob[] {
  const problems: string[] = [];
  const settings = config as unknown as Record<string, unknown>;
  const names = jobs.map((j) => j.name);
  const enabled = enabledJobs(config, names, problems);
  const planned = jobs.map((job) => {
    const key = scheduleKey(job.name);
    const configured = typeof settings[key] === 'string' ? (settings[key] as string) : undefined;
    const schedule = configured ?? job.schedule;
    const { errors } = cron.validateDetailed(schedule);
    if (errors.length) {
      problems.push(
        `${configured ? key : `the ${job.name} job's own schedule`} is not a cron expression ` +
          `(got ${JSON.stringify(schedule)}): ${errors.map((e) => e.message).join('; ')} — ` +
          'e.g. "*/5 * * * *" every five minutes, "0 2 * * *" daily at 02:00, a sixth leading field for seconds',
      );
    }
    return { job, schedule, enabled: enabled.has(job.name) };
  });
  for (const [key, value] of Object.entries(settings)) {
    const m = /^JOB_(.+)_SCHEDULE$/.exec(key);
    if (m && value !== undefined && !jobs.some((j) => scheduleKey(j.name) === key)) {
      problems.push(
        `${key} is set, but there is no job ${m[1]?.toLowerCase()}; jobs: ${names.join(', ')}`,
      );
    }
  }
  if (problems.length) throw new ConfigError(problems);
  return planned;
}

function enabledJobs(config: Config, names: readonly string[], problems: string[]): Set<string> {
  const setting = config.JOBS_ENABLED;
  const wanted = setting
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (wanted.length === 1 && wanted[0] === 'all') return new Set(names);
  if (wanted.length === 1 && wanted[0] === 'none') return new Set();
  for (const name of wanted) {
    if (!names.includes(name)) {
      problems.push(
        `JOBS_ENABLED names no job ${JSON.stringify(name)} (got ${JSON.stringify(setting)}): ` +
          `give all, none, or a comma-separated list of ${names.join(', ')}`,
      );
    }
  }
  return new Set(wanted);
}
