/**
 * CouchDB's user context: who a request runs as. Every authentication method
 * produces one; every access decision reads one. `name` is null for anonymous
 * requests, as in CouchDB's `#user_ctx{}` and the `userCtx` of `GET /_session`.
 */
export interface UserCtx {
  name: string | null;
  roles: string[];
}

/** The role CouchDB gives server admins; it can only come from configuration or a trusted proxy. */
export const ADMIN_ROLE = '_admin';

export function isServerAdmin(ctx: UserCtx): boolean {
  return ctx.roles.includes(ADMIN_ROLE);
}

/** A fresh object each time, so no caller can mutate a shared anonymous context. */
export function anonymous(): UserCtx {
  return { name: null, roles: [] };
}
