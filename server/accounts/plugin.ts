import fp from 'fastify-plugin';
import jwt from '@fastify/jwt';
import type { FastifyInstance } from 'fastify';
import { makeRequireAdmin, makeRequireUser } from './authenticate.js';
import type { AccessClaims } from './context.js';
import { jwtOptions } from './jwt-keys.js';
import { DEFAULT_SCRYPT_COST, type ScryptCost } from './passwords.js';
import { LoginThrottle } from './login-throttle.js';
import { authRateLimits } from './rate-limit.js';
import adminImportRoutes from './routes/admin-import.js';
import adminUserStateRoutes from './routes/admin-user-state.js';
import inviteRoutes from './routes/invites.js';
import adminUserRoutes from './routes/admin-users.js';
import authRoutes from './routes/auth.js';
import otpRoutes from './routes/otp.js';
import meRoutes from './routes/me.js';
import { createAccounts } from './service.js';
import type { SawaUser } from './types.js';

export interface AccountsPluginOptions {
  /**
   * scrypt cost for new password hashes. Production leaves it out (N=2^15); tests pass a
   * lower one explicitly to stay fast. Hashes keep their own cost, so either verifies.
   */
  scrypt?: ScryptCost;
  /** At most one sync-time write per user per this many ms (default one minute). */
  syncWriteIntervalMs?: number;
}

/**
 * Accounts: signup, login, tokens, users and teams, and the provisioning of their databases.
 * Decorates `accounts`, `requireUser`, `requireAdmin` and `request.sawaUser` for the rest of
 * the service (the gateway above all) and registers @fastify/jwt app-wide (one key set:
 * nothing else should register it).
 */
async function accountsPlugin(app: FastifyInstance, opts: AccountsPluginOptions): Promise<void> {
  const config = app.config;
  await app.register(jwt, await jwtOptions(config, (msg) => app.log.info(msg)));
  // Fail at start-up, not at the first login, when the keys do not fit the algorithm.
  app.jwt.verify(app.jwt.sign({ sub: 'start-up check' }));

  const accounts = createAccounts(
    {
      nano: app.couch.nano,
      config,
      ddocs: app.syncRules.designDocs,
      scrypt: opts.scrypt ?? DEFAULT_SCRYPT_COST,
      log: app.log,
      signAccessToken: (claims: AccessClaims) => app.jwt.sign(claims),
    },
    { syncWriteIntervalMs: opts.syncWriteIntervalMs },
  );
  const requireUser = makeRequireUser(app, accounts.ctx.users);
  app.decorate('accounts', accounts);
  app.decorate('requireUser', requireUser);
  app.decorate('requireAdmin', makeRequireAdmin(requireUser));
  app.decorateRequest('sawaUser', null as unknown as SawaUser);
  app.decorateRequest('sawaSession', null);
  // For the few routes a user whose password was reset may still use.
  const requireUserOrReset = makeRequireUser(app, accounts.ctx.users, { passwordChange: true });
  const throttle = new LoginThrottle({ perMinute: config.AUTH_RATE_LIMIT_PER_MIN });

  app.addHook('onReady', async () => {
    // Create the accounts database now if CouchDB is up; if not, the first request will.
    await accounts.ctx
      .ready()
      .catch((err) => app.log.warn({ err: String(err) }, 'accounts database not ready yet'));
    accounts.ctx.users.followChanges(app.log);
  });
  // First thing at shutdown: its longpoll would otherwise be retried against a closing store.
  app.addHook('preClose', async () => accounts.ctx.users.cache.stop());
  app.addHook('onClose', async () => {
    await accounts.flushSyncTimes();
  });

  await app.register(async (routes) => {
    const limits = await authRateLimits(routes, config.AUTH_IP_RATE_LIMIT_PER_MIN, throttle);
    await routes.register(authRoutes, { accounts, limits, requireUserOrReset });
    await routes.register(otpRoutes, { accounts, limits });
    await routes.register(meRoutes, { accounts, limits, requireUserOrReset });
    await routes.register(inviteRoutes, { accounts });
    await routes.register(adminUserRoutes, { accounts });
    await routes.register(adminUserStateRoutes, { accounts });
    await routes.register(adminImportRoutes, { accounts });
  });
}

export default fp(accountsPlugin, { name: 'accounts', dependencies: ['couch', 'sync-rules'] });
