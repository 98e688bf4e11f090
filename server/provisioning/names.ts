/**
 * Database names, as CouchDB's `couch_peruser` makes them for users: `userdb-`
 * followed by the hex of the UTF-8 user name, so any valid user name (a phone
 * number like `+255712345678` included) gives a valid database name.
 */
export function userDbName(username: string): string {
  return USER_DB_PREFIX + Buffer.from(username, 'utf8').toString('hex');
}

/** The prefixes of the databases Sawa provisions for people: a user's own, a team's. */
export const USER_DB_PREFIX = 'userdb-';
export const TEAM_DB_PREFIX = 'team-';

/** The user a `userdb-…` name belongs to, or null for any other name. */
export function userFromDbName(db: string): string | null {
  const m = /^userdb-((?:[0-9a-f]{2})+)$/.exec(db);
  return m ? Buffer.from(m[1] as string, 'hex').toString('utf8') : null;
}

/** Team names are slugs; their shared database is `team-<slug>`. */
export const TEAM_NAME = /^[a-z][a-z0-9-]{0,62}$/;

export function teamDbName(team: string): string {
  return TEAM_DB_PREFIX + team;
}

export function teamFromDbName(db: string): string | null {
  const m = /^team-([a-z][a-z0-9-]{0,62})$/.exec(db);
  return m ? (m[1] as string) : null;
}

/**
 * CouchDB roles a team member carries (through proxy authentication, see access.ts
 * couchRoles): every member has `team:<slug>`, which the team database's `_security`
 * admits; writers also have `team:<slug>:write`, which its write guard requires.
 */
export function teamMemberRole(team: string): string {
  return `team:${team}`;
}

export function teamWriterRole(team: string): string {
  return `team:${team}:write`;
}

/** True for the databases Sawa provisions for people: `userdb-` + hex and `team-` + slug. */
export function isUserOrTeamDb(db: string): boolean {
  return userFromDbName(db) !== null || teamFromDbName(db) !== null;
}

/** Where the people's databases sit in `_all_dbs` order, for listing only that part of it. */
export const USER_AND_TEAM_DB_RANGES: ReadonlyArray<readonly [string, string]> = [
  [TEAM_DB_PREFIX, `${TEAM_DB_PREFIX}\ufff0`],
  [USER_DB_PREFIX, `${USER_DB_PREFIX}\ufff0`],
];

/** Sawa's own database for job state: leases, checkpoints, held conflicts, rollouts. */
export const JOBS_DB = 'sawa-jobs';
