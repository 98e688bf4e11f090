import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { jobs as registry } from './registry.js';
import { createScheduler, type Scheduler } from './scheduler.js';
import type { Job } from './types.js';
import { jobMetrics } from './metrics.js';
import { fleetDbs } from '../provisioning/fleet-dbs.js';

export interface JobsPluginOptions {
  /** The jobs to schedule; production passes none and gets the registry's. */
  jobs?: readonly Job[];
}

declare module 'fastify' {
  interface FastifyInstance {
    jobs: Scheduler;
  }
}

/**
 * The job scheduler as a plugin: its configuration is checked when the app is built (a bad
 * schedule stops start-up), the cron tasks start once the app is ready, and closing the app
 * stops them and waits for running jobs to finish their current unit of work.
 */
async function jobsPlugin(app: FastifyInstance, opts: JobsPluginOptions): Promise<void> {
  const scheduler = createScheduler({
    nano: app.couch.nano,
    config: app.config,
    rules: app.syncRules.ruleSet,
    log: app.log,
    jobs: opts.jobs ?? registry,
  });
  app.decorate('jobs', scheduler);
  if (app.hasDecorator('metrics')) {
    jobMetrics(app.metrics.registry, scheduler.health, {
      nano: app.couch.nano,
      jobsDb: fleetDbs(app.config).jobs,
      jobs: scheduler.plan.map((p) => p.job.name),
    });
  }
  app.addHook('onReady', async () => scheduler.start());
  app.addHook('onClose', async () => scheduler.stop());
}

export default fp(jobsPlugin, { name: 'jobs', dependencies: ['couch', 'sync-rules'] });
