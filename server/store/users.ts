import type { UserCtx } from './user-ctx.js';
import type { StoreOptions } from './context.js';
import type { Doc } from './writes.js';
import type { SecurityObject } from './security.js';
import { prepareUserDocWrite, USERS_DB } from './auth/users-db.js';

/** The `_users` write hook: CouchDB's user-document rules and password hashing on write. */
export function usersPrepare(
  db: string,
  ctx: UserCtx,
  opts: Pick<StoreOptions, 'pbkdf2Iterations'>,
  security: SecurityObject,
): ((doc: Doc, old: Doc | null) => Promise<Doc>) | undefined {
  if (db !== USERS_DB) return undefined;
  return (doc, old) =>
    prepareUserDocWrite(doc, old, ctx, { iterations: opts.pbkdf2Iterations, security });
}
