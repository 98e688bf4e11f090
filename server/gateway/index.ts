import fp from 'fastify-plugin';
import compress from '@fastify/compress';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { makeRecheckUser } from '../accounts/authenticate.js';
import { createWriteChecker } from '../rules/index.js';
import { registerBodyParser } from './body.js';
import feedRoutes from './feed.js';
import type { Gateway } from './context.js';
import { toSyncError } from './errors.js';
import { registerSyncRateLimit } from './rate-limit.js';
import syncRoutes from './routes.js';
import { createUpstream } from './upstream.js';
import { ChangeHub } from './change-hub.js';
import { UserNotices } from './user-notices.js';

/**
 * The sync gateway: `/sync/{db}/…` between PouchDB phones and CouchDB. Its body parsing,
 * compression, rate limit and CouchDB-shaped errors live in an encapsulated context, so
 * they apply to /sync only and the rest of the service keeps Fastify's defaults.
 */
async function gatewayPlugin(app: FastifyInstance): Promise<void> {
  const { config } = app;
  const gw: Gateway = {
    upstream: createUpstream(app.couch.conn.url, config.SYNC_UPSTREAM_CONNECTIONS),
    checker: createWriteChecker(app.syncRules.ruleSet),
    proxySecret: app.couch.conn.proxySecret,
    bodyLimit: config.SYNC_MAX_REQUEST_BYTES,
    maxDocs: config.SYNC_MAX_DOCS_PER_REQUEST,
    accounts: app.accounts,
    metrics: app.metrics,
    liveFeeds: { closing: false, ends: new Set() },
    hub: new ChangeHub(app.couch.nano, app.accounts.userChanges, app.log),
    userNotices: new UserNotices(app.accounts.userChanges),
    requireUser: app.requireUser,
    recheckUser: makeRecheckUser(app),
  };
  app.addHook('onReady', async () => {
    gw.userNotices.start();
    if (config.SYNC_CHANGE_HUB === 'on') gw.hub.start();
  });
  app.decorate('changeHub', gw.hub);
  // Before Fastify waits for in-flight requests, which a quiet longpoll would hold for a minute.
  app.addHook('preClose', async () => {
    gw.liveFeeds.closing = true;
    for (const end of gw.liveFeeds.ends) end();
    gw.hub.stop();
    gw.userNotices.stop();
  });
  app.addHook('onClose', async () => gw.upstream.close());

  await app.register(async function syncScope(scope) {
    // Request decoding (gzip, deflate, br) for every /sync body, and `reply.compress` for the
    // gateway's own answers; CouchDB's streamed answers are compressed in relay.ts.
    await scope.register(compress, {
      globalCompression: false,
      globalDecompression: true,
      requestEncodings: ['gzip', 'deflate', 'br', 'identity'],
      encodings: ['br', 'gzip', 'identity'],
    });
    await registerSyncRateLimit(scope, config.SYNC_RATE_LIMIT_PER_MIN);
    registerBodyParser(
      scope,
      gw.bodyLimit,
      (req) => req.method === 'PUT' && req.syncEndpoint?.kind === 'attachment',
    );
    scope.setErrorHandler((err: FastifyError, req: FastifyRequest, reply: FastifyReply) => {
      if (req.raw.socket?.destroyed) {
        // The phone left (its upstream call was aborted): nobody to answer, nothing wrong.
        req.log.debug({ cause: err.code ?? err.name }, 'sync client went away');
        return reply;
      }
      const e = toSyncError(err, gw.bodyLimit);
      if (e.statusCode >= 500) {
        // Never the body, never headers: both can hold personal data or tokens.
        req.log.error(
          { code: e.code, cause: err.code ?? err.name, message: err.message },
          'sync request failed',
        );
      }
      for (const [name, value] of Object.entries(e.headers)) reply.header(name, value);
      return reply.code(e.statusCode).type('application/json').send(e.body);
    });
    await scope.register(syncRoutes, { gw });
    await scope.register(feedRoutes, { gw });
  });
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The gateway's change hub: phones parked on a longpoll, `live`, upstream feed requests. */
    changeHub: ChangeHub;
  }
}

export default fp(gatewayPlugin, {
  name: 'sawa-gateway',
  dependencies: ['couch', 'sync-rules', 'accounts', 'sawa-metrics'],
});
