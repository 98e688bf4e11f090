import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import { InviterRequired } from '../../errors.js';
import type { Accounts } from '../service.js';
import { createInvite, listInvites, revokeInvite } from '../invite-admin.js';
import {
  CreateInviteBody,
  CreatedInvite,
  InviteListQuery,
  InviteParams,
  InviteViewSchema,
} from '../invite-schemas.js';
import { errors } from '../schemas.js';

const tags = ['invites'];
const security = [{ bearer: [] }];

/**
 * Invitation codes for SIGNUP=invite (and open): admins and supervisors, each within what
 * invite-admin.ts allows them.
 */
export default async function inviteRoutes(
  app: FastifyInstance,
  opts: { accounts: Accounts },
): Promise<void> {
  // Request types come from the route schemas (TypeBox), not from generics by hand.
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const { ctx } = opts.accounts;
  app.addHook('onRequest', async (req: FastifyRequest, reply) => {
    await app.requireUser(req, reply);
    const roles = req.sawaUser.roles;
    if (!roles.includes('admin') && !roles.includes('supervisor')) throw new InviterRequired();
  });

  api.post(
    '/admin/invites',
    {
      bodyLimit: 16 * 1024,
      schema: {
        summary: 'Create an invitation code',
        description:
          'A one-use code for /auth/signup ({"invite": code}) that gives the new user this role and these teams. ' +
          'Admins: any role, any team. Supervisors: agents and supervisors, only into their own teams ' +
          '(403 SAWA_INVITE_FORBIDDEN otherwise). The code is in this answer only; it expires after ' +
          'expires_in_days (default INVITE_TTL_DAYS).',
        tags,
        security,
        body: CreateInviteBody,
        response: { 201: CreatedInvite, ...errors(400, 401, 403, 413, 415, 503) },
      },
    },
    async (req, reply) => reply.code(201).send(await createInvite(ctx, req.sawaUser, req.body)),
  );

  api.get(
    '/admin/invites',
    {
      schema: {
        summary: 'List invitations',
        description:
          'Newest first, never with their codes. Admins see all; supervisors the ones they made. ' +
          'state= narrows to active, used, expired or revoked.',
        tags,
        security,
        querystring: InviteListQuery,
        response: {
          200: Type.Object({ invites: Type.Array(InviteViewSchema) }),
          ...errors(400, 401, 403, 503),
        },
      },
    },
    async (req) => ({ invites: await listInvites(ctx, req.sawaUser, req.query.state) }),
  );

  api.delete(
    '/admin/invites/:id',
    {
      schema: {
        summary: 'Revoke an invitation',
        description:
          'Its code stops working at once (a user who already signed up with it keeps their account). ' +
          "Safe to repeat. A supervisor revoking someone else's answers 404, as for an unknown id.",
        tags,
        security,
        params: InviteParams,
        response: { 200: InviteViewSchema, ...errors(400, 401, 403, 404, 503) },
      },
    },
    async (req) => revokeInvite(ctx, req.sawaUser, req.params.id),
  );
}
