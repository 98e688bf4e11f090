import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyServerOptions,
} from 'fastify';
import { CouchError, errors, toCouchError } from './errors.js';
import type { StoreContext, StoreOptions } from './context.js';
import { Registry } from './registry.js';
import { Validators } from './validators.js';
import { UuidGenerator } from './uuids.js';
import { Authenticator } from './authenticate.js';
import { loadEngine } from './sandbox/engine.js';
import serverRoutes from './routes/server.js';
import sessionRoutes from './routes/session.js';
import dbRoutes from './routes/db.js';
import docRoutes from './routes/docs.js';
import bulkRoutes from './routes/bulk.js';
import allDocsRoutes from './routes/all-docs.js';
import changesRoutes from './routes/changes.js';
import attachmentRoutes from './routes/attachments.js';
import viewRoutes from './routes/views.js';
import findRoutes from './routes/find.js';
import { ADMIN_ONLY } from './security.js';
import { USERS_DB, USERS_SECURITY } from './auth/users-db.js';
import { usersDbGuard } from './users-read.js';
import { allowedMethods } from './routes/allowed.js';
import { COUCHDB_VERSION } from './routes/server.js';
import { drainOnClose } from '../util/drain.js';
import { answerStrayErrors } from '../last-line.js';
import { sharedCompilers } from '../util/schema-compilers.js';

export type { StoreOptions } from './context.js';

/** A pino logger, or false for none. */
export type StoreLogger = FastifyBaseLogger | false;

/** Fastify settings the store needs to route CouchDB's URLs (long ids, `%2F` in names, `db/`). */
export const storeServerOptions = (
  opts: StoreOptions,
  logger: StoreLogger,
): FastifyServerOptions => ({
  ...(typeof logger === 'object' ? { loggerInstance: logger } : { logger }),
  bodyLimit: opts.maxRequestBytes,
  routerOptions: { ignoreTrailingSlash: true, maxParamLength: 8192 },
  schemaController: { compilersFactory: sharedCompilers },
});

/**
 * The embedded CouchDB-compatible store as one Fastify app. It knows nothing of
 * Sawa: the service reaches it over HTTP exactly as it would reach Apache CouchDB.
 */
export async function buildStore(
  opts: StoreOptions,
  logger: StoreLogger = false,
): Promise<FastifyInstance> {
  await loadEngine();
  const registry = await Registry.open(opts.dataDir, {
    maxOpen: opts.maxOpenDbs,
    dbUpdatesDelayMs: opts.dbUpdatesDelayMs,
  });
  if (!registry.exists(USERS_DB)) await registry.create(USERS_DB, USERS_SECURITY);
  if (!registry.exists('_replicator')) await registry.create('_replicator', ADMIN_ONLY);
  const store: StoreContext = {
    opts,
    registry,
    validators: new Validators(),
    uuids: new UuidGenerator(),
  };
  const app = Fastify(storeServerOptions(opts, logger));
  app.decorate('store', store);
  drainOnClose(app);
  answerStrayErrors(app);
  const authenticator = new Authenticator(app);
  await authenticator.init();
  app.decorate('authenticator', authenticator);
  app.decorateRequest('userCtx', null as never);
  app.decorateRequest('authMethod', 'none');

  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  app.setErrorHandler((err, req, reply) => {
    const e = fromFastify(err);
    if (e.status >= 500) req.log.error({ err }, 'store request failed');
    void reply.code(e.status).header('content-type', 'application/json').send(JSON.stringify(e));
  });
  app.setNotFoundHandler((req, reply) => {
    const allowed = allowedMethods(req.url);
    if (allowed && !allowed.split(',').includes(req.method)) {
      void reply.code(405).header('allow', allowed).send(errors.methodNotAllowed(allowed).toJSON());
      return;
    }
    void reply.code(404).send(errors.notFound('missing').toJSON());
  });

  app.addHook('onRequest', async (req, reply) => {
    reply.header('server', `CouchDB/${COUCHDB_VERSION} (Sawa embedded store ${opts.version})`);
    reply.header('cache-control', 'must-revalidate');
    await authenticator.authenticate(req, reply);
  });

  // A route like `/:db/:docid` also matches `/db/_bulk_docs`: the method decides, as in CouchDB.
  app.addHook('preHandler', async (req, reply) => {
    const allowed = allowedMethods(req.url);
    if (allowed && !allowed.split(',').includes(req.method)) {
      return reply
        .code(405)
        .header('allow', allowed)
        .send(errors.methodNotAllowed(allowed).toJSON());
    }
  });

  app.addHook('preHandler', async (req) => {
    usersDbGuard((req.params as { db?: string } | undefined)?.db, req.method, req.url, req.userCtx);
  });

  // Before Fastify waits for in-flight requests: a longpoll or continuous feed would hold it.
  app.addHook('preClose', async () => registry.endFeeds());
  app.addHook('onClose', async () => {
    await registry.close();
  });

  await app.register(serverRoutes);
  await app.register(sessionRoutes);
  await app.register(dbRoutes);
  await app.register(docRoutes);
  await app.register(bulkRoutes);
  await app.register(allDocsRoutes);
  await app.register(changesRoutes);
  await app.register(attachmentRoutes);
  await app.register(viewRoutes);
  await app.register(findRoutes);
  return app;
}

/** Fastify's own errors (body too large, bad content, routing) in CouchDB's shape. */
function fromFastify(err: unknown): CouchError {
  if (err instanceof CouchError) return err;
  const e = err as { code?: string; statusCode?: number; message?: string };
  if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return errors.tooLarge();
  if (e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return errors.badContentType();
  if (e.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || e.code === 'FST_ERR_CTP_INVALID_JSON_BODY')
    return errors.invalidJson();
  if (typeof e.statusCode === 'number' && e.statusCode < 500) {
    return new CouchError(e.statusCode, 'bad_request', e.message ?? 'bad request');
  }
  return toCouchError(err);
}
