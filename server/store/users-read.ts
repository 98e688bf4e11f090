import type { UserCtx } from './user-ctx.js';
import {
  USERS_DB,
  notServerAdmin,
  requiresServerAdmin,
  securityNotEditable,
} from './auth/users-db.js';
import { isServerAdmin } from './user-ctx.js';

/** `_users` endpoints CouchDB keeps for server admins, whatever `_security` says. */
export function usersDbGuard(
  db: string | undefined,
  method: string,
  url: string,
  ctx: UserCtx,
): void {
  if (db !== USERS_DB) return;
  const rest = url.split('?')[0]!.split('/').filter(Boolean).slice(1).map(decodeURIComponent);
  // users_db_security_editable = false holds for server admins too (chttpd_db:validate_security_can_be_edited).
  if (rest[0] === '_security' && method === 'PUT') throw securityNotEditable();
  if (isServerAdmin(ctx)) return;
  if (requiresServerAdmin(method, rest)) throw notServerAdmin();
}
