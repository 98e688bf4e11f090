import { userDbs } from '../access.js';
import { teamDbName } from '../provisioning/names.js';
import { lastSyncAt, toSawaUser, type UserDoc } from './records.js';
import type { Role, TeamMode } from './types.js';

/** A user as the API shows them (to admins, and to the user at GET /me): no hash, no uid. */
export interface UserView {
  name: string;
  roles: Role[];
  teams: Array<{ team: string; mode: TeamMode; db: string }>;
  disabled: boolean;
  created_at: string;
  updated_at: string;
  last_pull_at: string | null;
  last_push_at: string | null;
  dbs: { user: string; shared: string[] };
  password_change_required?: boolean;
  full_name?: string;
  phone?: string;
}

export function userView(doc: UserDoc): UserView {
  const user = toSawaUser(doc) ?? {
    name: doc.name,
    roles: doc.roles,
    teams: doc.teams,
    disabled: true,
  };
  return {
    name: doc.name,
    roles: [...doc.roles],
    teams: doc.teams.map((m) => ({ team: m.team, mode: m.mode, db: teamDbName(m.team) })),
    disabled: doc.disabled,
    created_at: doc.created_at,
    updated_at: doc.updated_at,
    last_pull_at: doc.last_pull_at,
    last_push_at: doc.last_push_at,
    dbs: userDbs({ ...user, disabled: false }),
    ...(doc.password_change_required && { password_change_required: true }),
    ...(doc.full_name && { full_name: doc.full_name }),
    ...(doc.phone && { phone: doc.phone }),
  };
}

export interface UserFilter {
  /** Only users whose last sync (or, never synced, their creation) is older than this many days. */
  inactiveDays?: number;
  role?: Role;
  team?: string;
}

export function matches(doc: UserDoc, filter: UserFilter, now = Date.now()): boolean {
  if (doc.deleting) return false;
  if (filter.role && !doc.roles.includes(filter.role)) return false;
  if (filter.team && !doc.teams.some((m) => m.team === filter.team)) return false;
  if (filter.inactiveDays !== undefined) {
    const since = lastSyncAt(doc) ?? doc.created_at;
    if (Date.parse(since) > now - filter.inactiveDays * 86_400_000) return false;
  }
  return true;
}
