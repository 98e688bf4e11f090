import { setTimeout as sleep } from 'node:timers/promises';
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { fleetDesignDocs, rolloutTarget } from './fleet.js';
import { rollOutDesignDocs, type RolloutResult } from './rollout.js';
import { fleetDbs } from '../provisioning/fleet-dbs.js';

/**
 * At start-up, brings every user and team database to this build's design documents, in the
 * background: start-up never waits for it, however large the fleet. When the rollout record
 * says this build already went out everywhere, it costs one read. While CouchDB cannot be
 * reached it tries again, less and less often. Closing the service stops it between
 * databases. `app.designDocsStatus` says where it stands (for GET /ready).
 */

export type DesignDocsState =
  /** Not started, or waiting to retry after CouchDB could not be reached. */
  | 'pending'
  | 'running'
  /** Every database holds this build's design documents. */
  | 'current'
  /** The rollout ended with some databases failed; they are retried at the next start. */
  | 'incomplete'
  /** The service closed first. */
  | 'stopped';

export interface DesignDocsStatus {
  readonly state: DesignDocsState;
  /** Short hash of what this build rolls out. */
  readonly target: string;
  readonly result: RolloutResult | null;
  /** The last error that stopped a whole attempt (CouchDB unreachable, …). */
  readonly error: string | null;
  /** Resolves when the start-up rollout has ended, however it ended. */
  settled(): Promise<void>;
}

declare module 'fastify' {
  interface FastifyInstance {
    designDocsStatus: DesignDocsStatus;
  }
}

const RETRY = { firstMs: 5_000, maxMs: 5 * 60_000 };

export interface DesignDocsPluginOptions {
  concurrency?: number;
}

async function designDocsPlugin(
  app: FastifyInstance,
  opts: DesignDocsPluginOptions,
): Promise<void> {
  const built = app.syncRules.designDocs;
  const abort = new AbortController();
  let running: Promise<void> = Promise.resolve();
  const status = {
    state: 'pending' as DesignDocsState,
    target: rolloutTarget(fleetDesignDocs(built)).slice(0, 12),
    result: null as RolloutResult | null,
    error: null as string | null,
    settled: () => running,
  };
  app.decorate('designDocsStatus', status as DesignDocsStatus);

  async function attempt(): Promise<void> {
    status.state = 'running';
    const started = Date.now();
    const result = await rollOutDesignDocs(app.couch.nano, built, {
      from: 'start-up',
      fleet: fleetDbs(app.config),
      concurrency: opts.concurrency,
      signal: abort.signal,
      log: app.log,
      onProgress: (e) => {
        if (e.changes.length)
          app.log.debug({ db: e.db, changes: e.changes }, 'design docs updated');
      },
    });
    const { scanned, updated, unchanged, failed, total, resumedAfter, skipped } = result;
    status.result = result;
    status.error = null;
    status.state = result.aborted ? 'stopped' : failed.length ? 'incomplete' : 'current';
    const summary = {
      target: status.target,
      total,
      scanned,
      updated,
      unchanged,
      failed: failed.length,
    };
    if (skipped) app.log.info({ target: status.target }, 'design docs: current on every database');
    else
      app.log[failed.length ? 'warn' : 'info'](
        { ...summary, resumedAfter, ms: Date.now() - started },
        `design docs: rollout ${status.state}`,
      );
  }

  async function loop(): Promise<void> {
    for (
      let delay = RETRY.firstMs;
      !abort.signal.aborted;
      delay = Math.min(delay * 2, RETRY.maxMs)
    ) {
      try {
        return await attempt();
      } catch (err) {
        status.state = 'pending';
        status.error = err instanceof Error ? err.message : String(err);
        app.log.warn(
          { err: status.error, retryInMs: delay },
          'design docs: rollout could not start',
        );
      }
      await sleep(delay, undefined, { signal: abort.signal }).catch(() => undefined);
    }
    status.state = 'stopped';
  }

  app.addHook('onReady', async () => {
    // Not awaited: the service answers while the fleet is brought up to date.
    running = loop();
  });
  app.addHook('onClose', async () => {
    abort.abort();
    await running;
  });
}

export default fp(designDocsPlugin, { name: 'design-docs', dependencies: ['couch', 'sync-rules'] });
