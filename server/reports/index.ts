import fp from 'fastify-plugin';
import compress from '@fastify/compress';
import type { FastifyInstance } from 'fastify';
import { accountsErrorHandler } from '../accounts/error-handler.js';
import type { Accounts } from '../accounts/service.js';
import reportRoutes from './routes.js';
import { cachedMembers, type MembersOf } from './scope.js';

export interface ReportsPluginOptions {
  /** How long team membership is cached for scoping (default 30 s). */
  membersTtlMs?: number;
  /** Team membership source; by default the accounts' user records. */
  membersOf?: MembersOf;
}

/**
 * The report routes (`/reports/…`) over the aggregator's buckets. Their compression and
 * error handling live in an encapsulated context, so they apply to /reports only.
 */
async function reportsPlugin(app: FastifyInstance, opts: ReportsPluginOptions): Promise<void> {
  const membersOf =
    opts.membersOf ??
    cachedMembers(() => (app.accounts as Accounts).ctx.users.scan(), opts.membersTtlMs ?? 30_000);
  await app.register(async function reportsScope(scope) {
    // JSON for dashboards on 2G/3G: compressed when the client accepts it.
    await scope.register(compress, { global: true, encodings: ['br', 'gzip', 'identity'] });
    scope.setErrorHandler(accountsErrorHandler);
    await scope.register(reportRoutes, { membersOf });
  });
}

export default fp(reportsPlugin, { name: 'sawa-reports', dependencies: ['couch', 'accounts'] });
