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

/**
 * The databases one Sawa deployment calls its fleet: user databases whose user name starts
 * with `prefix` and team databases whose slug does (config FLEET_NAME_PREFIX; '' takes every
 * user and team database). Jobs, rollouts and backups look at these alone, so deployments
 * (or test files) sharing one CouchDB under different prefixes never see each other's.
 */
export interface FleetScope {
  prefix: string;
  /** The scope's parts of `_all_dbs`, in `_all_dbs` order: [startkey, endkey] each. */
  ranges: ReadonlyArray<readonly [string, string]>;
  /** True for a user or team database of this scope. */
  has(db: string): boolean;
}

/** A prefix is the start of a team slug, so it is valid for both kinds of names. */
export const FLEET_PREFIX = /^(?:[a-z][a-z0-9-]{0,40})?$/;

export function fleetScope(prefix = ''): FleetScope {
  if (!FLEET_PREFIX.test(prefix))
    throw new Error(`fleet prefix ${JSON.stringify(prefix)} is not a-z0-9- starting with a letter`);
  const starts = [teamDbName(prefix), userDbName(prefix)];
  return {
    prefix,
    ranges: starts.map((s) => [s, `${s}\ufff0`] as const),
    has: (db) => isUserOrTeamDb(db) && starts.some((s) => db.startsWith(s)),
  };
}
