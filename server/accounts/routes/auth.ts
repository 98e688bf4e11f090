import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { Accounts } from '../service.js';
import { login, logout, refresh } from '../sessions.js';
import { signup } from '../signup.js';
import type { AuthLimits } from '../rate-limit.js';
import type { RequireUser } from '../authenticate.js';
import { AuthResponse, Credentials, Ok, RefreshBody, SignupBody, errors } from '../schemas.js';

/** Small bodies only: a login is a name and a password. */
const BODY_LIMIT = 4096;

const contract =
  'Answers the access token (a JWT for Authorization: Bearer, valid expires_in seconds), a refresh token, ' +
  'the user, and the databases the user may sync through /sync/{db}.';

export default async function authRoutes(
  app: FastifyInstance,
  opts: { accounts: Accounts; limits: AuthLimits; requireUserOrReset: RequireUser },
): Promise<void> {
  // Request types come from the route schemas (TypeBox), not from generics by hand.
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const { ctx } = opts.accounts;
  const { limits } = opts;
  const limitsNote =
    'Limited per client address, and wrong passwords per user name and address with growing blocks ' +
    '(429, Retry-After); see docs/accounts.md.';

  api.post(
    '/auth/signup',
    {
      bodyLimit: BODY_LIMIT,
      onRequest: limits.byIp,
      preHandler: limits.byNameAndIp,
      schema: {
        summary: 'Sign up as a field agent',
        description:
          `Creates an agent and their private database. ${contract} ` +
          'SIGNUP decides who may: open (anyone; an invitation code, if sent, gives its role and teams), ' +
          'invite (only with an invitation code: 403 SAWA_INVITE_REQUIRED without, SAWA_INVITE_INVALID for a bad one) ' +
          'or closed (403 SAWA_SIGNUP_CLOSED). ' +
          'Safe to retry: if the name exists and the password matches, it answers 200 as a login. ' +
          limitsNote,
        tags: ['auth'],
        body: SignupBody,
        response: {
          201: AuthResponse,
          200: AuthResponse,
          ...errors(400, 403, 409, 413, 415, 429, 503),
        },
      },
    },
    async (req, reply) => {
      const { username, password, invite } = req.body;
      const { created, result } = await limits.track(req, username, () =>
        signup(ctx, username, password, invite),
      );
      return reply.code(created ? 201 : 200).send(result);
    },
  );

  api.post(
    '/auth/login',
    {
      bodyLimit: BODY_LIMIT,
      onRequest: limits.byIp,
      preHandler: limits.byNameAndIp,
      schema: {
        summary: 'Log in',
        description:
          `${contract} Finishes any provisioning left undone. A wrong password and an unknown user ` +
          'answer the same 401. After an admin reset, user.password_change_required is true and the ' +
          `token serves only POST /me/password, GET /me and logout. ${limitsNote}`,
        tags: ['auth'],
        body: Credentials,
        response: { 200: AuthResponse, ...errors(400, 401, 413, 415, 429, 503) },
      },
    },
    async (req) =>
      limits.track(req, req.body.username, () => login(ctx, req.body.username, req.body.password)),
  );

  api.post(
    '/auth/refresh',
    {
      bodyLimit: BODY_LIMIT,
      schema: {
        summary: 'Exchange a refresh token for new tokens',
        description:
          `${contract} The refresh token in the answer replaces the one sent, which is used up: ` +
          'presenting a used refresh token again revokes the whole session (401 SAWA_REFRESH_REUSED), ' +
          'so store the new one before using it.',
        tags: ['auth'],
        body: RefreshBody,
        response: { 200: AuthResponse, ...errors(400, 401, 413, 415, 503) },
      },
    },
    async (req) => refresh(ctx, req.body.refresh_token),
  );

  api.post(
    '/auth/logout',
    {
      bodyLimit: BODY_LIMIT,
      preHandler: opts.requireUserOrReset,
      schema: {
        summary: 'Log out: revoke the session of a refresh token',
        description:
          "Revokes the session the refresh token belongs to (it must be the caller's own). " +
          'The access token stays valid until it expires (at most ACCESS_TOKEN_TTL_SEC).',
        tags: ['auth'],
        security: [{ bearer: [] }],
        body: RefreshBody,
        response: { 200: Ok, ...errors(400, 401, 413, 415, 503) },
      },
    },
    async (req) => {
      await logout(ctx, req.sawaUser.name, req.body.refresh_token);
      return { ok: true as const };
    },
  );
}
