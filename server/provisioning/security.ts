import { teamMemberRole } from './names.js';

/**
 * The `_security` objects Sawa sets. Database admins are always empty: only server admins
 * (the service itself) change design documents and security. Members must never be empty
 * either, since CouchDB treats an empty member list as a public database.
 */

export interface Principals {
  names: string[];
  roles: string[];
}

export interface Security {
  admins: Principals;
  members: Principals;
}

const NONE: Principals = { names: [], roles: [] };

/** A user's own database: that user, nobody else (server admins always pass). */
export function userDbSecurity(name: string): Security {
  return { admins: { ...NONE }, members: { names: [name], roles: [] } };
}

/** A team's shared database: every member of the team, by role. */
export function teamDbSecurity(team: string): Security {
  return { admins: { ...NONE }, members: { names: [], roles: [teamMemberRole(team)] } };
}

/**
 * Server admins only: the accounts database, and a deleted user's kept database. `_admin`
 * as the one member role keeps the list non-empty, as CouchDB's `admin_only` default does.
 */
export function adminOnlySecurity(): Security {
  return { admins: { ...NONE }, members: { names: [], roles: ['_admin'] } };
}

function principals(value: unknown): Principals | null {
  if (value === undefined) return { ...NONE };
  if (!value || typeof value !== 'object') return null;
  const { names = [], roles = [], ...rest } = value as Record<string, unknown>;
  if (Object.keys(rest).length || !Array.isArray(names) || !Array.isArray(roles)) return null;
  return { names: [...names].map(String).sort(), roles: [...roles].map(String).sort() };
}

/** True when `actual` (as CouchDB returned it) grants exactly what `expected` does. */
export function sameSecurity(actual: unknown, expected: Security): boolean {
  if (!actual || typeof actual !== 'object' || Array.isArray(actual)) return false;
  const { admins, members, ...rest } = actual as Record<string, unknown>;
  if (Object.keys(rest).length) return false;
  const a = [principals(admins), principals(members)];
  const e = [principals(expected.admins), principals(expected.members)];
  return JSON.stringify(a) === JSON.stringify(e);
}
