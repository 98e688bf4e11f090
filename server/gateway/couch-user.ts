import type { SawaUser } from '../accounts/types.js';
import type { UserCtx } from '../rules/index.js';
import { teamFromDbName, teamMemberRole, teamWriterRole } from '../provisioning/names.js';
import type { DatabaseKind } from '../../sync-rules/types.js';

/**
 * Who CouchDB sees when the gateway acts for a user: their Sawa roles (the sync rules check
 * those), `team:<slug>` for every team (team databases' `_security` admits that role) and
 * `team:<slug>:write` for writers (the team write guard requires it). The names come from
 * provisioning, which sets the `_security` and guard they must match.
 */
export function couchRoles(user: SawaUser): string[] {
  return [
    ...user.roles,
    ...user.teams.map((m) => teamMemberRole(m.team)),
    ...user.teams.filter((m) => m.mode === 'write').map((m) => teamWriterRole(m.team)),
  ];
}

/** The userCtx CouchDB hands validate_doc_update for this user in `db`. */
export function couchUserCtx(user: SawaUser, db: string): UserCtx {
  return { name: user.name, roles: couchRoles(user), db };
}

export function dbKind(db: string): DatabaseKind {
  return teamFromDbName(db) === null ? 'private' : 'team';
}
