import type { SawaUser } from './user.js';
import { teamDbName, teamFromDbName, userDbName } from './provisioning/names.js';

export type DbRight = 'read' | 'write';

/**
 * The one place that decides who may use which database: the gateway, the
 * admin and report routes and the jobs ask here, nothing re-implements it.
 * A user reads and writes their own database and the databases of their teams
 * in the mode of their membership; everything else (other users' databases,
 * `_users`, `_replicator`, any system or unknown name) is refused.
 */
export function dbRight(user: SawaUser, db: string): DbRight | null {
  if (user.disabled) return null;
  if (db === userDbName(user.name)) return 'write';
  const team = teamFromDbName(db);
  if (team === null) return null;
  const membership = user.teams.find((m) => m.team === team);
  return membership ? membership.mode : null;
}

/** The databases a user may sync, as the auth responses list them. */
export function userDbs(user: SawaUser): { user: string; shared: string[] } {
  return {
    user: userDbName(user.name),
    shared: user.teams.map((m) => teamDbName(m.team)),
  };
}

/** Whose report data a user may read: everyone's, their teams', or none. */
export type ReportRight = { all: true } | { all: false; teams: string[] } | null;

/**
 * Who may read which aggregated report (the report routes ask here): an admin, all of it; a
 * supervisor, their teams' — each team's database and the private databases of the team's
 * members, their own included (server/reports/scope.ts turns teams into databases); anyone
 * else, none.
 */
export function reportRight(user: SawaUser): ReportRight {
  if (user.disabled) return null;
  if (user.roles.includes('admin')) return { all: true };
  if (user.roles.includes('supervisor')) {
    return { all: false, teams: user.teams.map((m) => m.team) };
  }
  return null;
}
