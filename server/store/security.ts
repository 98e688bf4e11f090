import type { UserCtx } from './user-ctx.js';

export interface Principals {
  names?: string[];
  roles?: string[];
}

export interface SecurityObject {
  admins?: Principals;
  members?: Principals;
  [key: string]: unknown;
}

/**
 * CouchDB 3's `default_security = admin_only`: a new database is closed to everyone but server
 * admins, in the very shape CouchDB 3.5 answers (roles only).
 */
export const ADMIN_ONLY: SecurityObject = {
  admins: { roles: ['_admin'] },
  members: { roles: ['_admin'] },
};

const isAdminCtx = (ctx: UserCtx) => ctx.roles.includes('_admin');

function matches(p: Principals | undefined, ctx: UserCtx): boolean {
  if (!p) return false;
  if (ctx.name !== null && (p.names ?? []).includes(ctx.name)) return true;
  return (p.roles ?? []).some((r) => ctx.roles.includes(r));
}

function isEmpty(p: Principals | undefined): boolean {
  return !p || ((p.names ?? []).length === 0 && (p.roles ?? []).length === 0);
}

export function isDbAdmin(sec: SecurityObject, ctx: UserCtx): boolean {
  return isAdminCtx(ctx) || matches(sec.admins, ctx);
}

/** Members with no names and no roles means a public database, as in CouchDB. */
export function isDbMember(sec: SecurityObject, ctx: UserCtx): boolean {
  return isDbAdmin(sec, ctx) || isEmpty(sec.members) || matches(sec.members, ctx);
}

/** Checks the shape CouchDB accepts for `_security`; returns a reason or null. */
export function securityShapeProblem(body: unknown): string | null {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return 'Security object must be a JSON object';
  }
  for (const section of ['admins', 'members'] as const) {
    const p = (body as SecurityObject)[section];
    if (p === undefined) continue;
    if (typeof p !== 'object' || p === null || Array.isArray(p)) {
      return `${section} must be a JSON object`;
    }
    for (const key of ['names', 'roles'] as const) {
      const list = p[key];
      if (list === undefined) continue;
      if (!Array.isArray(list) || list.some((x) => typeof x !== 'string')) {
        return `${section}.${key} must be a JSON list of strings`;
      }
    }
  }
  return null;
}
