import type { FastifyRequest } from 'fastify';
import { errors } from './errors.js';
import { isDbAdmin, isDbMember } from './security.js';
import type { DbRecord } from './registry.js';
import { isServerAdmin } from './user-ctx.js';

/**
 * The store's one access decision, as CouchDB makes it: anonymous callers are
 * told to authenticate (401), named callers without rights are refused (403),
 * except where CouchDB itself answers 401 to everyone (server-admin endpoints,
 * `_compact` and `_view_cleanup`).
 */
export function requireServerAdmin(req: FastifyRequest): void {
  // CouchDB's verify_is_server_admin answers 401 to named users too.
  if (!isServerAdmin(req.userCtx)) throw errors.unauthorized('You are not a server admin.');
}

/** couch_db:check_is_member (every request on a database goes through it first). */
export function requireMember(req: FastifyRequest, rec: DbRecord): void {
  if (isDbMember(rec.security, req.userCtx)) return;
  throw req.userCtx.name === null ? errors.notAuthenticated() : errors.notAllowedDb();
}

/** couch_db:check_is_admin, after the membership check (`_security`, `_revs_limit`, `_purge`, `_index`). */
export function requireDbAdmin(req: FastifyRequest, rec: DbRecord): void {
  requireMember(req, rec);
  if (isDbAdmin(rec.security, req.userCtx)) return;
  if (req.userCtx.name === null) throw errors.unauthorized('You are not a db or server admin.');
  throw errors.notDbAdmin();
}

/** chttpd_auth_request:require_db_admin (`_compact`, `_view_cleanup`): a member who is no admin gets 401. */
export function requireDbAdminRequest(req: FastifyRequest, rec: DbRecord): void {
  requireMember(req, rec);
  if (!isDbAdmin(rec.security, req.userCtx)) {
    throw errors.unauthorized('You are not a server or db admin.');
  }
}

export function dbAdmin(req: FastifyRequest, rec: DbRecord): boolean {
  return isDbAdmin(rec.security, req.userCtx);
}
