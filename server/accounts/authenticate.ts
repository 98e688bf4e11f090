import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  AccountDisabled,
  AdminRequired,
  TokenExpired,
  TokenInvalid,
  TokenMissing,
} from '../errors.js';
import type { AccessClaims } from './context.js';
import { toSawaUser } from './records.js';
import type { UserStore } from './users.js';

const BEARER = /^Bearer +([A-Za-z0-9._~+/=-]+) *$/i;

function claimsOf(value: unknown): AccessClaims | null {
  const c = value as Partial<AccessClaims> | null;
  // A token without `exp` would never expire: signed by us or not, it is refused.
  const exp = (c as { exp?: unknown } | null)?.exp;
  return c &&
    typeof c.sub === 'string' &&
    typeof c.uid === 'string' &&
    Array.isArray(c.roles) &&
    typeof exp === 'number'
    ? (c as AccessClaims)
    : null;
}

/**
 * The Bearer check every protected route (and the gateway) runs. The token proves who signed
 * in; the user record, read on every request, decides whether they still may: a disabled or
 * deleted user is refused at once, not when the token expires. Roles come from the record
 * too, so a role change applies to the next request.
 */
export function makeRequireUser(app: FastifyInstance, users: UserStore) {
  return async function requireUser(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    const fail = (err: Error, detail: string) => {
      reply.header('www-authenticate', `Bearer realm="sawa", error="${detail}"`);
      return err;
    };
    const m = BEARER.exec(req.headers.authorization ?? '');
    if (!m) throw fail(new TokenMissing(), 'invalid_request');
    let claims: AccessClaims | null;
    try {
      claims = claimsOf(app.jwt.verify(m[1]!));
    } catch (err) {
      const expired = (err as { code?: string }).code === 'FAST_JWT_EXPIRED';
      throw fail(expired ? new TokenExpired() : new TokenInvalid(), 'invalid_token');
    }
    if (!claims) throw fail(new TokenInvalid(), 'invalid_token');
    const doc = await users.get(claims.sub);
    const user = doc && doc.uid === claims.uid ? toSawaUser(doc) : null;
    if (!user) throw fail(new TokenInvalid(), 'invalid_token');
    if (user.disabled) throw fail(new AccountDisabled(), 'invalid_token');
    req.sawaUser = user;
  };
}

export function makeRequireAdmin(requireUser: ReturnType<typeof makeRequireUser>) {
  return async function requireAdmin(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    await requireUser(req, reply);
    if (!req.sawaUser.roles.includes('admin')) throw new AdminRequired();
  };
}
