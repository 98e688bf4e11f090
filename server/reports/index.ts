import fp from 'fastify-plugin';
import compress from '@fastify/compress';
import type { FastifyInstance } from 'fastify';
import reportRoutes from './routes.js';
import { cachedMembers, type MembersOf } from './scope.js';

export interface ReportsPluginOptions {
  /** How long team membership is cached for scoping (default 30 s). */
  membersTtlMs?: number;
  /** Team membership source; by default the accounts' user records. */
  membersOf?: MembersOf;
}

/**
 * The report routes (`/reports/…`) over the aggregator's buckets. Their compression lives
 * in an encapsulated context, so it applies to /reports only; errors go to the app's one
 * handler (server/error-handler.ts).
 */
async function reportsPlugin(app: FastifyInstance, opts: ReportsPluginOptions): Promise<void> {
  const membersOf =
    opts.membersOf ?? cachedMembers(() => app.accounts.listUsers(), opts.membersTtlMs ?? 30_000);
  await app.register(async function reportsScope(scope) {
    // JSON for dashboards on 2G/3G: compressed when the client accepts it.
    await scope.register(compress, { global: true, encodings: ['br', 'gzip', 'identity'] });
    await scope.register(reportRoutes, { membersOf });
  });
}

export default fp(reportsPlugin, { name: 'sawa-reports', dependencies: ['couch', 'accounts'] });
