import type { FastifyBaseLogger } from 'fastify';
import type Nano from 'nano';
import type { Config } from '../config.js';
import type { RuleSet } from '../rules/index.js';

/** What a job gets to do its work; the scheduler owns timing, overlap and leadership. */
export interface JobContext {
  nano: Nano.ServerScope;
  config: Config;
  rules: RuleSet;
  log: FastifyBaseLogger;
  /** Aborted when the service shuts down: finish the current unit of work and return. */
  signal: AbortSignal;
}

/** What a run did, logged by the scheduler and printed by `npm run job`. */
export type JobResult = Record<string, number | string | boolean>;

export interface Job {
  name: string;
  /** node-cron expression (seconds field allowed), overridable by configuration. */
  schedule: string;
  run(ctx: JobContext): Promise<JobResult>;
}
