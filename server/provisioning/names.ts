/**
 * Database names, as CouchDB's `couch_peruser` makes them for users: `userdb-`
 * followed by the hex of the UTF-8 user name, so any valid user name (a phone
 * number like `+255712345678` included) gives a valid database name.
 */
export function userDbName(username: string): string {
  return 'userdb-' + Buffer.from(username, 'utf8').toString('hex');
}

/** The user a `userdb-…` name belongs to, or null for any other name. */
export function userFromDbName(db: string): string | null {
  const m = /^userdb-((?:[0-9a-f]{2})+)$/.exec(db);
  return m ? Buffer.from(m[1] as string, 'hex').toString('utf8') : null;
}

/** Team names are slugs; their shared database is `team-<slug>`. */
export const TEAM_NAME = /^[a-z][a-z0-9-]{0,62}$/;

export function teamDbName(team: string): string {
  return `team-${team}`;
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
