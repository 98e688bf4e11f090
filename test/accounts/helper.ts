import Fastify, { type FastifyInstance } from 'fastify';
import type { Test } from 'tap';
import { loadConfig } from '../../server/config.js';
import { testFleet } from '../helpers/fleet.js';
import app, { serverOptions, type AppOptions } from '../../server/app.js';
import type { Accounts } from '../../server/accounts/service.js';
import { createUser } from '../../server/accounts/sessions.js';
import type { ScryptCost } from '../../server/accounts/passwords.js';
import type { Role } from '../../server/accounts/types.js';
import { couch, testCouch, type TestCouch } from '../helpers/store.js';
import { closeAtTeardown, type TestService } from '../helpers/service.js';
import { unique } from '../helpers/fixtures.js';

/** scrypt at 2^10: ~1 ms a hash instead of ~60. Passed explicitly; production never sees it. */
export const FAST_SCRYPT: ScryptCost = { N: 2 ** 10, r: 8, p: 1 };

/**
 * testService (test/helpers/service.ts) plus the accounts plugin's explicit test options: the
 * same server options and app plugin as production, a cheap scrypt cost, and a generous auth
 * rate limit unless a test sets its own.
 */
export async function accountsService(
  t: Test,
  store: TestCouch,
  opts: {
    env?: Record<string, string>;
    scrypt?: ScryptCost;
    syncWriteIntervalMs?: number;
    /** Where log lines go (LOG_LEVEL from env), to assert on what was logged. */
    logs?: { write(line: string): void };
  } = {},
): Promise<TestService> {
  const config = loadConfig({
    NODE_ENV: 'test',
    JOBS_ENABLED: 'none',
    LOG_LEVEL: 'silent',
    DATA_DIR: store.dataDir ?? '/tmp/sawa-test',
    JWT_SECRET: 'test-jwt-secret-that-is-long-enough-0123456789',
    AUTH_RATE_LIMIT_PER_MIN: '1000',
    AUTH_IP_RATE_LIMIT_PER_MIN: '1000',
    // Its own accounts database: the store is shared by the file's tests (or by every file).
    ACCOUNTS_DB: unique('sawa-accounts'),
    // Its own audit log (staff access is audited), never the deployment's.
    AUDIT_DB: unique('sawa-audit'),
    // The file's jobs, archive and reporting databases, and its fleet of people (fleet.ts).
    ...testFleet().env,
    ...opts.env,
  });
  const options = serverOptions(config);
  if (opts.logs) options.logger = { ...(options.logger as object), stream: opts.logs };
  const server = Fastify(options);
  // The app plugin is encapsulated; calling it inside a wrapper keeps its context (and the
  // decorations of accounts, jwt…) reachable from the test, with nothing else changed.
  let inner: FastifyInstance | undefined;
  await server.register(
    async (instance, appOpts: AppOptions) => {
      await app(instance, appOpts);
      inner = instance;
    },
    {
      config,
      couch: { url: store.url, admin: store.admin, proxySecret: store.proxySecret },
      accounts: {
        scrypt: opts.scrypt ?? FAST_SCRYPT,
        syncWriteIntervalMs: opts.syncWriteIntervalMs,
      },
    },
  );
  const url = await server.listen({ host: '127.0.0.1', port: 0 });
  closeAtTeardown(t, server);
  return { app: inner as FastifyInstance, url, config };
}

/** A service with accounts of its own, on the file's shared store. */
export async function setup(t: Test, opts: Parameters<typeof accountsService>[2] = {}) {
  const store = await testCouch(t);
  const svc = await accountsService(t, store, opts);
  const accounts = svc.app.accounts as Accounts;
  return {
    store,
    svc,
    accounts,
    /** JSON request to the service. */
    call: (method: string, path: string, body?: unknown, token?: string) =>
      couch(svc.url, method, path, { body, auth: token ? `Bearer ${token}` : undefined }),
    /** JSON request to CouchDB as its server admin. */
    admin: (method: string, path: string, body?: unknown) =>
      couch(store.url, method, path, { body, auth: store.adminAuth }),
    /**
     * A user made directly (as the provision script does), then logged in; `name` in the
     * answer too. Give unique names: user databases are server-wide.
     */
    async user(name: string, roles: Role[] = ['agent'], password = 'correct horse battery') {
      await createUser(accounts.ctx, { name, password, roles, teams: [] }, { allowReserved: true });
      const res = await couch(svc.url, 'POST', '/auth/login', {
        body: { username: name, password },
      });
      if (res.status !== 200)
        throw new Error(`login of ${name}: ${res.status} ${JSON.stringify(res.body)}`);
      return {
        ...(res.body as {
          access_token: string;
          refresh_token: string;
          dbs: { user: string; shared: string[] };
        }),
        name,
      };
    },
  };
}
