import t from 'tap';
import Fastify, { type FastifyInstance } from 'fastify';
import { loadConfig } from '../../server/config.js';
import app, { serverOptions, type AppOptions } from '../../server/app.js';
import type { Job } from '../../server/jobs/types.js';
import { testCouch } from '../helpers/store.js';
import { unique } from '../helpers/fixtures.js';
import { testFleet } from '../helpers/fleet.js';

/** A job that keeps failing shows in /ready, with its reason, and in /metrics. */

const store = await testCouch(t);
const TOKEN = 'metrics-token-0123456789abcdef';

t.test('/ready and /metrics report a job that keeps failing', async (t) => {
  const config = loadConfig({
    JOBS_ENABLED: 'none',
    LOG_LEVEL: 'silent',
    DATA_DIR: store.dataDir ?? '/tmp/sawa-test',
    JWT_SECRET: 'test-jwt-secret-that-is-long-enough-0123456789',
    METRICS_TOKEN: TOKEN,
    // Databases of its own on a CouchDB other files share.
    ACCOUNTS_DB: unique('sawa-accounts'),
    AUDIT_DB: unique('sawa-audit'),
    ...testFleet().env,
  });
  let fail = true;
  const name = `broken-${Math.random().toString(36).slice(2, 8)}`;
  const job: Job = {
    name,
    schedule: '0 0 1 1 *',
    async run() {
      if (fail)
        throw new Error('CouchDB request failed: 404 not_found reading _db_updates (userdb-6162)');
      return {};
    },
  };
  const server = Fastify(serverOptions(config));
  // Called inside a wrapper, so the app's own decorations (its scheduler) stay reachable.
  let inner: FastifyInstance | undefined;
  await server.register(
    async (instance, opts: AppOptions) => {
      await app(instance, opts);
      inner = instance;
    },
    {
      config,
      couch: { url: store.url, admin: store.admin, proxySecret: store.proxySecret },
      jobs: { jobs: [job] },
    },
  );
  await server.ready();
  t.teardown(() => server.close());
  const ready = async () => (await server.inject({ method: 'GET', url: '/ready' })).json();
  const gauge = async () => {
    const res = await server.inject({
      method: 'GET',
      url: '/metrics',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    return new RegExp(`sawa_job_consecutive_failures\\{job="${name}"\\} (\\d+)`).exec(
      res.body,
    )?.[1];
  };

  t.match(await ready(), { status: 'ready', jobs: 'ok' });
  t.equal(await gauge(), '0');
  for (let i = 0; i < 3; i++) await inner!.jobs.run(name);
  const res = await server.inject({ method: 'GET', url: '/ready' });
  t.equal(res.statusCode, 200, 'still serving: the instance itself is fine');
  t.match(res.json(), {
    status: 'ready',
    jobs: 'failing',
    failing_jobs: [{ job: name, failures: 3, reason: /_db_updates/ }],
  });
  t.notMatch(res.body, /userdb-6162/, 'no user database name on an open endpoint');
  t.equal(await gauge(), '3');
  fail = false;
  await inner!.jobs.run(name);
  t.match(await ready(), { jobs: 'ok' });
  t.equal(await gauge(), '0');
});
