import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { Accounts } from '../service.js';
import { getUserView } from '../admin.js';
import { UserViewSchema, errors } from '../schemas.js';

/** The caller's own record: the only user record a non-admin can read. */
export default async function meRoutes(
  app: FastifyInstance,
  opts: { accounts: Accounts },
): Promise<void> {
  // Request types come from the route schemas (TypeBox), not from generics by hand.
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  api.get(
    '/me',
    {
      preHandler: app.requireUser,
      schema: {
        summary: 'The signed-in user',
        description:
          'Name, roles, team memberships with their mode, databases and last sync times.',
        tags: ['auth'],
        security: [{ bearer: [] }],
        response: { 200: UserViewSchema, ...errors(401, 503) },
      },
    },
    async (req) => getUserView(opts.accounts.ctx, req.sawaUser.name),
  );
}
