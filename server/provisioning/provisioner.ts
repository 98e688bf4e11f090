import type Nano from 'nano';
import { cleanCouchError, couchStatus } from '../errors.js';
import type { DesignDoc, DesignDocSet } from '../rules/index.js';
import { teamDbName, userDbName } from './names.js';
import { adminOnlySecurity, teamDbSecurity, userDbSecurity } from './security.js';
import { dropDb, ensureDb, ensureDesignDocs, ensureSecurity } from './steps.js';
import { teamWriteGuard } from './team-write-guard.js';

/**
 * Provisioning of user and team databases. Every call checks each step and repairs what is
 * missing, in an order that keeps a half-done database closed: database (CouchDB 3 creates
 * it admin-only), then design documents (validation first), and only then `_security`,
 * which lets the user in. Running it again after a crash finishes the job; running it on a
 * complete database changes nothing. Each call returns what it changed.
 */
export interface Provisioner {
  /** The user's database and the database of each of their teams. */
  user(user: { name: string; teams: ReadonlyArray<{ team: string }> }): Promise<string[]>;
  /** The user's own database only. */
  userDb(name: string): Promise<string[]>;
  team(team: string): Promise<string[]>;
  /** A deleted user's database kept for the record: closed to all but server admins. */
  lockUser(name: string): Promise<string[]>;
  dropUser(name: string): Promise<string[]>;
}

export function createProvisioner(nano: Nano.ServerScope, ddocs: DesignDocSet): Provisioner {
  const teamDdocs: DesignDoc[] = [...ddocs.team, teamWriteGuard()];

  async function team(slug: string): Promise<string[]> {
    const db = teamDbName(slug);
    return [
      ...(await ensureDb(nano, db)),
      ...(await ensureDesignDocs(nano, db, teamDdocs)),
      ...(await ensureSecurity(nano, db, teamDbSecurity(slug))),
    ];
  }

  async function userDb(name: string): Promise<string[]> {
    const db = userDbName(name);
    return [
      ...(await ensureDb(nano, db)),
      ...(await ensureDesignDocs(nano, db, ddocs.private)),
      ...(await ensureSecurity(nano, db, userDbSecurity(name))),
    ];
  }

  return {
    team,
    userDb,
    async user(user) {
      const changes = await userDb(user.name);
      for (const m of user.teams) changes.push(...(await team(m.team)));
      return changes;
    },
    async lockUser(name) {
      const db = userDbName(name);
      // Create-if-missing would make an empty database for nothing; a missing one stays missing.
      const exists = await nano.db.get(db).then(
        () => true,
        (err: unknown) => {
          if (couchStatus(err) === 404) return false;
          throw cleanCouchError(err);
        },
      );
      return exists ? ensureSecurity(nano, db, adminOnlySecurity()) : [];
    },
    dropUser: (name) => dropDb(nano, userDbName(name)),
  };
}
