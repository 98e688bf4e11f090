import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { Accounts } from '../service.js';
import { addTeam, removeTeam, setDisabled, setRoles } from '../admin.js';
import {
  NameParams,
  ResetPasswordBody,
  RolesBody,
  TeamBody,
  TeamParams,
} from '../admin-schemas.js';
import { resetPassword } from '../password-change.js';
import { UserViewSchema, errors } from '../schemas.js';

const tags = ['admin'];
const security = [{ bearer: [] }];

/** Disabling, password resets, roles and team memberships: admins only. Each answers the user as it now is. */
export default async function adminUserStateRoutes(
  app: FastifyInstance,
  opts: { accounts: Accounts },
): Promise<void> {
  // Request types come from the route schemas (TypeBox), not from generics by hand.
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const { ctx } = opts.accounts;
  // onRequest: who is asking is settled before the body is even read.
  app.addHook('onRequest', app.requireAdmin);

  for (const [action, disabled] of [
    ['disable', true],
    ['enable', false],
  ] as const) {
    api.post(
      `/admin/users/:name/${action}`,
      {
        schema: {
          summary: disabled ? 'Disable a user' : 'Re-enable a disabled user',
          description: disabled
            ? 'Their access and refresh tokens are refused from the next request on; their data stays.'
            : 'They can log in again; sessions that had not expired work again.',
          tags,
          security,
          params: NameParams,
          response: { 200: UserViewSchema, ...errors(400, 401, 403, 404, 409, 503) },
        },
      },
      async (req) => setDisabled(ctx, req.sawaUser.name, req.params.name, disabled),
    );
  }

  api.post(
    '/admin/users/:name/password',
    {
      bodyLimit: 4096,
      schema: {
        summary: "Reset a user's password",
        description:
          'Sets the password, ends every session of the user at once, and makes them choose a new one: ' +
          'until they do (POST /me/password), their login answers user.password_change_required = true and ' +
          'every other route 403 SAWA_PASSWORD_CHANGE_REQUIRED.',
        tags,
        security,
        params: NameParams,
        body: ResetPasswordBody,
        response: { 200: UserViewSchema, ...errors(400, 401, 403, 404, 413, 415, 503) },
      },
    },
    async (req) => resetPassword(ctx, req.params.name, req.body.password),
  );

  api.put(
    '/admin/users/:name/roles',
    {
      schema: {
        summary: "Set a user's roles",
        description:
          'Replaces the roles. Applies to the next request (roles are read from the record, not the token). ' +
          'Existing team memberships keep their mode.',
        tags,
        security,
        params: NameParams,
        body: RolesBody,
        response: { 200: UserViewSchema, ...errors(400, 401, 403, 404, 409, 415, 503) },
      },
    },
    async (req) => setRoles(ctx, req.sawaUser.name, req.params.name, req.body.roles),
  );

  api.put(
    '/admin/users/:name/teams/:team',
    {
      // No body at all means {}: the mode is optional, so the body is too.
      preValidation: async (req) => {
        req.body ??= {};
      },
      schema: {
        summary: 'Add a user to a team (or change their mode)',
        description:
          'Provisions the team database team-<slug> if needed. mode: write lets the member push to it, ' +
          'read only pull; the default is write for supervisors, read for everyone else.',
        tags,
        security,
        params: TeamParams,
        body: TeamBody,
        response: { 200: UserViewSchema, ...errors(400, 401, 403, 404, 415, 503) },
      },
    },
    async (req) => addTeam(ctx, req.params.name, req.params.team, req.body.mode),
  );

  api.delete(
    '/admin/users/:name/teams/:team',
    {
      // No body at all means {}: the mode is optional, so the body is too.
      preValidation: async (req) => {
        req.body ??= {};
      },
      schema: {
        summary: 'Remove a user from a team',
        description: 'The team database stays; the user loses access to it at their next request.',
        tags,
        security,
        params: TeamParams,
        response: { 200: UserViewSchema, ...errors(400, 401, 403, 404, 503) },
      },
    },
    async (req) => removeTeam(ctx, req.params.name, req.params.team),
  );
}
