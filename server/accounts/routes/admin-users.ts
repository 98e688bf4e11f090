import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { userDbName } from '../../provisioning/names.js';
import type { Accounts } from '../service.js';
import { checkTeam, defaultTeamMode, deleteUser, getUserView, listUsers } from '../admin.js';
import { createUser } from '../sessions.js';
import { userView } from '../views.js';
import {
  CreateUserBody,
  DeleteQuery,
  DeleteResult,
  ListQuery,
  NameParams,
} from '../admin-schemas.js';
import { UserViewSchema, errors } from '../schemas.js';
import { Type } from '@sinclair/typebox';

const tags = ['admin'];
const security = [{ bearer: [] }];

/** Creating, listing, reading and deleting users: admins only. */
export default async function adminUserRoutes(
  app: FastifyInstance,
  opts: { accounts: Accounts },
): Promise<void> {
  // Request types come from the route schemas (TypeBox), not from generics by hand.
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const { ctx } = opts.accounts;
  // onRequest: who is asking is settled before the body is even read.
  app.addHook('onRequest', app.requireAdmin);

  api.post(
    '/admin/users',
    {
      bodyLimit: 64 * 1024,
      schema: {
        summary: 'Create a user',
        description:
          'Any role, any name (reserved names included), with team memberships; provisions the databases.',
        tags,
        security,
        body: CreateUserBody,
        response: { 201: UserViewSchema, ...errors(400, 401, 403, 409, 413, 415, 503) },
      },
    },
    async (req, reply) => {
      const roles = req.body.roles ?? ['agent'];
      const teams = (req.body.teams ?? []).map((m) => {
        checkTeam(m.team);
        return { team: m.team, mode: m.mode ?? defaultTeamMode(roles) };
      });
      const unique = [...new Map(teams.map((m) => [m.team, m])).values()];
      const doc = await createUser(
        ctx,
        { name: req.body.username, password: req.body.password, roles, teams: unique },
        { allowReserved: true },
      );
      return reply.code(201).send(userView(doc));
    },
  );

  api.get(
    '/admin/users',
    {
      schema: {
        summary: 'List users',
        description:
          'In name order, a page at a time. inactive_days=N lists users who have not pulled or pushed ' +
          'for N days (never-synced users count from their signup); role and team narrow the list.',
        tags,
        security,
        querystring: ListQuery,
        response: {
          200: Type.Object({
            users: Type.Array(UserViewSchema),
            next: Type.Union([Type.String(), Type.Null()], {
              description: 'pass as after= for the next page',
            }),
          }),
          ...errors(400, 401, 403, 503),
        },
      },
    },
    async (req) => {
      const q = req.query;
      const limit = Math.min(1000, Math.max(1, Number(q.limit ?? 100)));
      return listUsers(
        ctx,
        {
          inactiveDays: q.inactive_days === undefined ? undefined : Number(q.inactive_days),
          role: q.role,
          team: q.team,
        },
        { limit, after: q.after },
      );
    },
  );

  api.get(
    '/admin/users/:name',
    {
      schema: {
        summary: 'Read a user',
        tags,
        security,
        params: NameParams,
        response: { 200: UserViewSchema, ...errors(400, 401, 403, 404, 503) },
      },
    },
    async (req) => getUserView(ctx, req.params.name),
  );

  api.delete(
    '/admin/users/:name',
    {
      schema: {
        summary: 'Delete a user',
        description:
          'Their tokens stop working at once, their sessions are revoked and the record is purged. ' +
          'Their database is deleted, or with keep_data=true kept but closed to all but server admins.',
        tags,
        security,
        params: NameParams,
        querystring: DeleteQuery,
        response: { 200: DeleteResult, ...errors(400, 401, 403, 404, 409, 503) },
      },
    },
    async (req) => {
      const keep = req.query.keep_data === 'true';
      await deleteUser(ctx, req.sawaUser.name, req.params.name, keep);
      return {
        ok: true as const,
        name: req.params.name,
        db: userDbName(req.params.name),
        data: keep ? ('kept' as const) : ('deleted' as const),
      };
    },
  );
}
