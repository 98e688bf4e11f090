import { newFleet, type TestFleet } from '../helpers/fleet.js';
import Fastify, { type FastifyInstance } from 'fastify';
import t, { type Test } from 'tap';
import app, { serverOptions, type AppOptions } from '../../server/app.js';
import { loadConfig } from '../../server/config.js';
import { testCouch, type TestCouch } from '../helpers/store.js';
import { adminNano, designDocBuilds, seed, snapshots, userDbs } from './helpers.js';

/**
 * The service as production builds it (test/helpers/service.ts), reaching into the app
 * plugin's own context, where `designDocsStatus` is decorated.
 */
async function service(
  t: Test,
  store: TestCouch,
  fleet: TestFleet,
): Promise<{ inner: FastifyInstance; close: () => Promise<void> }> {
  const config = loadConfig({
    NODE_ENV: 'test',
    JOBS_ENABLED: 'none',
    LOG_LEVEL: 'silent',
    DATA_DIR: store.dataDir ?? '/tmp/sawa-test',
    JWT_SECRET: 'test-jwt-secret-that-is-long-enough-0123456789',
    ...fleet.env,
  });
  const server = Fastify(serverOptions(config));
  let inner: FastifyInstance | undefined;
  await server.register(
    async (instance, opts: AppOptions) => {
      await app(instance, opts);
      inner = instance;
    },
    { config, couch: { url: store.url, admin: store.admin, proxySecret: store.proxySecret } },
  );
  await server.listen({ host: '127.0.0.1', port: 0 });
  let closed = false;
  const close = async () => {
    if (!closed) await server.close();
    closed = true;
  };
  t.teardown(close);
  return { inner: inner as FastifyInstance, close };
}

t.test('the service rolls design docs out after start-up, without waiting for it', async (t) => {
  const store = await testCouch(t);
  const fleet = newFleet();
  const nano = adminNano(store);
  const { old, current } = designDocBuilds();
  const dbs = userDbs(fleet.prefix + 'boot', 20);
  await seed(nano, dbs, old.private);

  const first = await service(t, store, fleet);
  const status = first.inner.designDocsStatus;
  t.not(status.state, 'current', 'listening before the rollout is over');
  await status.settled();
  t.match(status, {
    state: 'current',
    error: null,
    result: { scanned: 20, updated: 20, skipped: false },
  });
  const after = await snapshots(nano, dbs);
  for (const db of dbs)
    t.equal(after[db]?.ddocs['_design/sawa']?.version, current.private[0]?.version);
  await first.close();

  const second = await service(t, store, fleet);
  await second.inner.designDocsStatus.settled();
  t.match(second.inner.designDocsStatus, {
    state: 'current',
    result: { skipped: true, scanned: 0 },
  });
  t.same(await snapshots(nano, dbs), after, 'a restart writes nothing');
});

t.test('closing the service stops the rollout between databases', async (t) => {
  const store = await testCouch(t);
  const fleet = newFleet();
  const nano = adminNano(store);
  const { old, current } = designDocBuilds();
  const dbs = userDbs(fleet.prefix + 'halt', 40);
  await seed(nano, dbs, old.private);

  const svc = await service(t, store, fleet);
  await svc.close();
  const status = svc.inner.designDocsStatus;
  t.equal(status.state, 'stopped');
  const done = status.result?.scanned ?? 0;
  t.ok(done < 40, `stopped after ${done} of 40`);

  // The next start finishes the job.
  const next = await service(t, store, fleet);
  await next.inner.designDocsStatus.settled();
  t.match(next.inner.designDocsStatus, { state: 'current' });
  const after = await snapshots(nano, dbs);
  for (const db of dbs)
    t.equal(after[db]?.ddocs['_design/sawa']?.version, current.private[0]?.version);
});
