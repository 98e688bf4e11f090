import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  AccountDisabled,
  AdminRequired,
  PasswordChangeRequired,
  TokenExpired,
  TokenInvalid,
  TokenMissing,
} from '../errors.js';
import type { AccessClaims } from './context.js';
import { toSawaUser, type UserDoc } from './records.js';
import type { UserStore } from './users.js';
import type { Stored } from '../couch/upsert.js';

const BEARER = /^Bearer +([A-Za-z0-9._~+/=-]+) *$/i;

type Verified = AccessClaims & { iat?: number };

function claimsOf(value: unknown): Verified | null {
  const c = value as Partial<Verified> | null;
  // A token without `exp` would never expire: signed by us or not, it is refused.
  const exp = (c as { exp?: unknown } | null)?.exp;
  return c &&
    typeof c.sub === 'string' &&
    typeof c.uid === 'string' &&
    Array.isArray(c.roles) &&
    typeof exp === 'number'
    ? (c as Verified)
    : null;
}

/** False for a token issued before a password change or reset, unless from the session kept. */
function tokenStillValid(doc: UserDoc, claims: Verified): boolean {
  if (!doc.sessions_revoked_at) return true;
  if (doc.session_kept && claims.sid === doc.session_kept) return true;
  // `at` is the issue time in ms (iat counts whole seconds, too coarse for a login right after a reset).
  const issued = claims.at ?? (typeof claims.iat === 'number' ? claims.iat * 1000 : 0);
  return issued > Date.parse(doc.sessions_revoked_at);
}

export interface RequireUserOptions {
  /**
   * Let through a user whose password an admin reset: only for the routes that user needs
   * to change it (POST /me/password, GET /me, logout).
   */
  passwordChange?: boolean;
}

/**
 * The Bearer check every protected route (and the gateway) runs. The token proves who signed
 * in; the user record, read on every request (from a cache dropped on every change), decides whether they still may: a disabled or
 * deleted user is refused at once, not when the token expires. Roles come from the record
 * too, so a role change applies to the next request.
 */
export function makeRequireUser(
  app: FastifyInstance,
  users: UserStore,
  opts: RequireUserOptions = {},
) {
  return async function requireUser(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    const claims = bearerClaims(app, req, reply);
    admit(req, reply, claims, await users.forAuth(claims.sub), opts);
  };
}

/**
 * The same check against a version of the user's record already in hand (the accounts
 * database's changes feed brought it): no read. The gateway runs it for a phone parked on a
 * longpoll when its user's record changes.
 */
export function makeRecheckUser(app: FastifyInstance) {
  return function recheckUser(
    req: FastifyRequest,
    reply: FastifyReply,
    doc: Stored<UserDoc> | null,
  ): void {
    const claims = bearerClaims(app, req, reply);
    admit(req, reply, claims, doc && doc.name === claims.sub ? doc : null, {});
  };
}

export type RecheckUser = ReturnType<typeof makeRecheckUser>;

const refuse = (reply: FastifyReply, err: Error, detail: string) => {
  reply.header('www-authenticate', `Bearer realm="sawa", error="${detail}"`);
  return err;
};

/** The verified claims of the request's Bearer token; throws the 401 otherwise. */
function bearerClaims(app: FastifyInstance, req: FastifyRequest, reply: FastifyReply): Verified {
  const m = BEARER.exec(req.headers.authorization ?? '');
  if (!m) throw refuse(reply, new TokenMissing(), 'invalid_request');
  let claims: Verified | null;
  try {
    claims = claimsOf(app.jwt.verify(m[1]!));
  } catch (err) {
    const expired = (err as { code?: string }).code === 'FAST_JWT_EXPIRED';
    throw refuse(reply, expired ? new TokenExpired() : new TokenInvalid(), 'invalid_token');
  }
  if (!claims) throw refuse(reply, new TokenInvalid(), 'invalid_token');
  return claims;
}

/** Whether the record still admits the token's user; sets `request.sawaUser` if so. */
function admit(
  req: FastifyRequest,
  reply: FastifyReply,
  claims: Verified,
  doc: UserDoc | null,
  opts: RequireUserOptions,
): void {
  const user = doc && doc.uid === claims.uid ? toSawaUser(doc) : null;
  if (!user || !tokenStillValid(doc!, claims))
    throw refuse(reply, new TokenInvalid(), 'invalid_token');
  if (user.disabled) throw refuse(reply, new AccountDisabled(), 'invalid_token');
  if (user.passwordChangeRequired && !opts.passwordChange) throw new PasswordChangeRequired();
  req.sawaUser = user;
  req.sawaSession = claims.sid ?? null;
}

export type RequireUser = ReturnType<typeof makeRequireUser>;

export function makeRequireAdmin(requireUser: ReturnType<typeof makeRequireUser>) {
  return async function requireAdmin(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    await requireUser(req, reply);
    if (!req.sawaUser.roles.includes('admin')) throw new AdminRequired();
  };
}
