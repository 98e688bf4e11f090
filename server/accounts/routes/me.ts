import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { Accounts } from '../service.js';
import { getUserView } from '../admin.js';
import type { RequireUser } from '../authenticate.js';
import { changePassword } from '../password-change.js';
import type { AuthLimits } from '../rate-limit.js';
import { PasswordChangeBody, UserViewSchema, errors } from '../schemas.js';
import { Type } from '@sinclair/typebox';

/** The caller's own record and password: the only user record a non-admin can touch. */
export default async function meRoutes(
  app: FastifyInstance,
  opts: { accounts: Accounts; limits: AuthLimits; requireUserOrReset: RequireUser },
): Promise<void> {
  const { ctx } = opts.accounts;
  // Request types come from the route schemas (TypeBox), not from generics by hand.
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  api.get(
    '/me',
    {
      preHandler: opts.requireUserOrReset,
      schema: {
        summary: 'The signed-in user',
        description:
          'Name, roles, team memberships with their mode, databases and last sync times.',
        tags: ['auth'],
        security: [{ bearer: [] }],
        response: { 200: UserViewSchema, ...errors(401, 503) },
      },
    },
    async (req) => getUserView(ctx, req.sawaUser.name),
  );

  api.post(
    '/me/password',
    {
      bodyLimit: 4096,
      onRequest: [opts.limits.byIp, opts.requireUserOrReset],
      preHandler: async (req, reply) => opts.limits.byName(req, reply, req.sawaUser.name),
      schema: {
        summary: 'Change your password',
        description:
          'With the current password. Every other session of the user ends: their refresh tokens ' +
          'stop working and their access tokens are refused from the next request. The session the ' +
          'change is made from lives on. Clears a reset by an admin (password_change_required). ' +
          'A wrong old password answers 401 SAWA_BAD_CREDENTIALS and counts against the login limits.',
        tags: ['auth'],
        security: [{ bearer: [] }],
        body: PasswordChangeBody,
        response: {
          200: Type.Object({
            ok: Type.Literal(true),
            sessions_revoked: Type.Integer({ description: 'other sessions ended' }),
          }),
          ...errors(400, 401, 413, 415, 429, 503),
        },
      },
    },
    async (req) => {
      const name = req.sawaUser.name;
      const { revoked } = await opts.limits.track(req, name, () =>
        changePassword(ctx, name, req.sawaSession, req.body.old_password, req.body.new_password),
      );
      return { ok: true as const, sessions_revoked: revoked };
    },
  );
}
