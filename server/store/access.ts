import type { FastifyRequest } from 'fastify';
import { errors } from './errors.js';
import { isDbAdmin, isDbMember } from './security.js';
import type { DbRecord } from './registry.js';
import { isServerAdmin } from './auth/user-ctx.js';

/**
 * The store's one access decision, as CouchDB makes it: anonymous callers are
 * told to authenticate (401), named callers without rights are refused (403).
 */
export function requireServerAdmin(req: FastifyRequest): void {
  // CouchDB's verify_is_server_admin answers 401 to named users too.
  if (!isServerAdmin(req.userCtx)) throw errors.unauthorized('You are not a server admin.');
}

export function requireMember(req: FastifyRequest, rec: DbRecord): void {
  if (isDbMember(rec.security, req.userCtx)) return;
  throw req.userCtx.name === null ? errors.notAuthenticated() : errors.notAllowedDb();
}

export function requireDbAdmin(req: FastifyRequest, rec: DbRecord): void {
  if (isDbAdmin(rec.security, req.userCtx)) return;
  if (req.userCtx.name === null) throw errors.unauthorized('You are not a db or server admin.');
  throw errors.notDbAdmin();
}

export function dbAdmin(req: FastifyRequest, rec: DbRecord): boolean {
  return isDbAdmin(rec.security, req.userCtx);
}
