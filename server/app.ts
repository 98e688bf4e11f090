import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import couchPlugin, { type CouchConnection } from './couch/client.js';
import accountsPlugin, { type AccountsPluginOptions } from './accounts/plugin.js';
import metricsPlugin from './metrics/index.js';
import gatewayPlugin from './gateway/index.js';
import reportsPlugin, { type ReportsPluginOptions } from './reports/index.js';
import jobsPlugin, { type JobsPluginOptions } from './jobs/plugin.js';
import healthRoutes from './routes/health.js';
import integrationsPlugin from './routes/integrations.js';
import appStatic from './web/plugin.js';
import designDocsPlugin from './migrations/plugin.js';
import rulesPlugin from './rules/plugin.js';
import corsPlugin from './edge/cors.js';
import { trustProxy } from './edge/trust-proxy.js';
import { drainOnClose } from './util/drain.js';
import { answerStrayErrors } from './last-line.js';
import type { Config } from './config.js';
import { errorHandler } from './error-handler.js';
import { sharedCompilers } from './util/schema-compilers.js';
import auditHook from './privacy/hook.js';
import privacyPlugin from './privacy/plugin.js';
import fleetRoutes from './fleet/routes.js';
import opsStatic from './web/ops.js';

/**
 * What the app is built from. The plugins' own options are named here (not added by each
 * plugin to this interface), so the app depends on its plugins and never the other way.
 */
export interface AppOptions {
  config: Config;
  couch: CouchConnection;
  /** Options of the accounts plugin; production passes none. */
  accounts?: AccountsPluginOptions;
  /** Options of the reports plugin; production passes none. */
  reports?: ReportsPluginOptions;
  /** Options of the jobs plugin; production passes none. */
  jobs?: JobsPluginOptions;
}

/** `/sync/userdb-6a75…/farmer-12?rev=…` → `/sync/userdb-…/…`: the path's shape without user names, ids or query. */
export function scrubUrl(url: string): string {
  const path = url.split('?')[0] as string;
  // A provider callback's path holds its secret.
  if (path.startsWith('/integrations/'))
    return path.replace(/^(\/integrations\/[^/]+\/[^/]+)\/.+/, '$1/…');
  if (path.startsWith('/admin/users/'))
    return path.replace(/^\/admin\/users\/[^/]+/, '/admin/users/…');
  const m = /^\/sync\/([^/]+)(\/(_[a-z_]+))?/.exec(path);
  if (!m) return path;
  const db = (m[1] as string).replace(/^(userdb|team)-.*/, '$1-…');
  return `/sync/${db}${m[3] ? `/${m[3]}` : path.length > m[0].length ? '/…' : ''}`;
}

/** Fastify options shared by the server and the tests, so both validate and log alike. */
export function serverOptions(config: Config): FastifyServerOptions {
  return {
    logger: {
      level: config.LOG_LEVEL,
      redact: {
        paths: [
          'req.headers.authorization',
          'req.headers.cookie',
          'req.headers["x-auth-couchdb-token"]',
          'res.headers["set-cookie"]',
          '*.password',
          '*.refresh_token',
          '*.access_token',
          '*.clientSecret',
          '*.apiKey',
          '*.MPESA_API_KEY',
          '*.sessionKey',
          '*.output_SessionID',
          'req.headers["x-api-key"]',
          'req.headers.apikey',
        ],
        censor: '[redacted]',
      },
      serializers: {
        // Sync URLs carry the hex of the user name (often a phone number) and document ids:
        // personal data under the PDPA, so the log keeps only the kind of request.
        req: (req: { method: string; url: string }) => ({
          method: req.method,
          url: scrubUrl(req.url),
        }),
      },
    },
    // Off unless TRUST_PROXY names the front end: a forged X-Forwarded-For never sets req.ip.
    trustProxy: trustProxy(config.TRUST_PROXY),
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 1024 },
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
    schemaController: { compilersFactory: sharedCompilers },
  };
}

/** The whole Sawa service as one plugin: external plugins, then Sawa's own, then routes. */
export default async function app(fastify: FastifyInstance, opts: AppOptions): Promise<void> {
  fastify.decorate('config', opts.config);
  // Before any route exists, so every route of the app has it (the gateway sets its own).
  fastify.setErrorHandler(errorHandler);
  drainOnClose(fastify);
  answerStrayErrors(fastify);
  // First, so a preflight is answered before any route's authentication or method check.
  await fastify.register(corsPlugin);
  await fastify.register(swagger, {
    openapi: {
      info: {
        title: 'Sawa',
        version: '0.1.0',
        description:
          'Offline-first sync backend: accounts, per-user CouchDB databases and the sync gateway PouchDB replicates through.',
      },
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      },
    },
  });
  await fastify.register(swaggerUi, { routePrefix: '/docs' });
  await fastify.register(couchPlugin, { conn: opts.couch });
  // Before every route, so its onResponse hook records staff access to all of them.
  await fastify.register(auditHook);
  await fastify.register(rulesPlugin);
  await fastify.register(designDocsPlugin);
  await fastify.register(accountsPlugin, opts.accounts ?? {});
  await fastify.register(metricsPlugin);
  await fastify.register(gatewayPlugin);
  await fastify.register(reportsPlugin, opts.reports ?? {});
  await fastify.register(jobsPlugin, opts.jobs ?? {});
  await fastify.register(privacyPlugin);
  await fastify.register(fleetRoutes);
  await fastify.register(opsStatic);
  await fastify.register(healthRoutes);
  await fastify.register(integrationsPlugin);
  await fastify.register(appStatic);
}

declare module 'fastify' {
  interface FastifyInstance {
    config: Config;
  }
}
