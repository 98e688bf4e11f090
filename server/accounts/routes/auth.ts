import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { Accounts } from '../service.js';
import { login, logout, refresh, signup } from '../sessions.js';
import { authRateLimits } from '../rate-limit.js';
import { AuthResponse, Credentials, Ok, RefreshBody, errors } from '../schemas.js';

/** Small bodies only: a login is a name and a password. */
const BODY_LIMIT = 4096;

const contract =
  'Answers the access token (a JWT for Authorization: Bearer, valid expires_in seconds), a refresh token, ' +
  'the user, and the databases the user may sync through /sync/{db}.';

export default async function authRoutes(
  app: FastifyInstance,
  opts: { accounts: Accounts },
): Promise<void> {
  // Request types come from the route schemas (TypeBox), not from generics by hand.
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const { ctx } = opts.accounts;
  const limits = await authRateLimits(app, app.config.AUTH_RATE_LIMIT_PER_MIN);

  api.post(
    '/auth/signup',
    {
      bodyLimit: BODY_LIMIT,
      onRequest: limits.byIp,
      preHandler: limits.byName,
      schema: {
        summary: 'Sign up as a field agent',
        description:
          `Creates an agent and their private database. ${contract} ` +
          'Safe to retry: if the name exists and the password matches, it answers 200 as a login. ' +
          'Rate-limited per IP and per user name (429, Retry-After).',
        tags: ['auth'],
        body: Credentials,
        response: { 201: AuthResponse, 200: AuthResponse, ...errors(400, 409, 413, 415, 429, 503) },
      },
    },
    async (req, reply) => {
      const { created, result } = await signup(ctx, req.body.username, req.body.password);
      return reply.code(created ? 201 : 200).send(result);
    },
  );

  api.post(
    '/auth/login',
    {
      bodyLimit: BODY_LIMIT,
      onRequest: limits.byIp,
      preHandler: limits.byName,
      schema: {
        summary: 'Log in',
        description:
          `${contract} Finishes any provisioning left undone. A wrong password and an unknown user ` +
          'answer the same 401. Rate-limited per IP and per user name (429, Retry-After).',
        tags: ['auth'],
        body: Credentials,
        response: { 200: AuthResponse, ...errors(400, 401, 413, 415, 429, 503) },
      },
    },
    async (req) => login(ctx, req.body.username, req.body.password),
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
      preHandler: app.requireUser,
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
