import Fastify, { type FastifyInstance } from 'fastify';
import type { Test } from 'tap';
import { loadConfig, type Config } from '../../server/config.js';
import app, { serverOptions } from '../../server/app.js';
import { quietConnections } from '../../server/util/drain.js';
import type { TestCouch } from './store.js';
import { unique } from './fixtures.js';
import { testFleet } from './fleet.js';

export interface TestService {
  app: FastifyInstance;
  /** Base URL of the listening service, e.g. http://127.0.0.1:41234 */
  url: string;
  config: Config;
}

/**
 * The Sawa service as production builds it (same server options, same app
 * plugin), on a free loopback port, against the test CouchDB.
 */
export async function testService(
  t: Test,
  couch: TestCouch,
  env: Record<string, string> = {},
): Promise<TestService> {
  const config = loadConfig({
    NODE_ENV: 'test',
    JOBS_ENABLED: 'none',
    LOG_LEVEL: 'silent',
    DATA_DIR: couch.dataDir ?? '/tmp/sawa-test',
    JWT_SECRET: 'test-jwt-secret-that-is-long-enough-0123456789',
    // Its own accounts database: the CouchDB may be shared by other tests and files.
    ACCOUNTS_DB: unique('sawa-accounts'),
    // Its own audit log (staff access is audited), never the deployment's.
    AUDIT_DB: unique('sawa-audit'),
    // The file's jobs, archive and reporting databases, and its fleet of people (fleet.ts).
    ...testFleet().env,
    ...env,
  });
  const server = Fastify(serverOptions(config));
  await server.register(app, {
    config,
    couch: { url: couch.url, admin: couch.admin, proxySecret: couch.proxySecret },
  });
  const url = await server.listen({ host: '127.0.0.1', port: 0 });
  closeAtTeardown(t, server);
  return { app: server, url, config };
}

/**
 * Closes a listening Fastify instance when `t` ends, without waiting a minute on connections
 * that carry no request: `close()` ends the idle keep-alive ones, but not one that never sent
 * a request (a fetch aborted while its connection was being made, a browser's preconnect),
 * which Node keeps until its headers timeout (60 s). Those are ended at once; a request still
 * in flight is answered as at any shutdown.
 */
export function closeAtTeardown(t: Pick<Test, 'teardown'>, app: FastifyInstance): void {
  const endQuiet = quietConnections(app.server);
  t.teardown(async () => {
    const closing = app.close();
    endQuiet();
    await closing;
  });
}
