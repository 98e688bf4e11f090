import { createHash } from 'node:crypto';
import type { DatabaseKind } from '../../sync-rules/types.js';
import { teamFromDbName, userFromDbName } from '../provisioning/names.js';
import { teamWriteGuard } from '../provisioning/team-write-guard.js';
import type { DesignDoc, DesignDocSet } from '../rules/index.js';

/**
 * The fleet: every database Sawa provisions for people, and the design documents each kind
 * must hold. The same lists the provisioner installs (server/provisioning/provisioner.ts),
 * so a deploy never removes what provisioning put there.
 */

/** The kind of a database Sawa provisions, or null for any other database. */
export function kindOfDb(db: string): DatabaseKind | null {
  if (userFromDbName(db) !== null) return 'private';
  if (teamFromDbName(db) !== null) return 'team';
  return null;
}

/**
 * The design documents each kind of database must hold: the build from the rules, plus the
 * team write guard in team databases (as the provisioner adds it).
 */
export function fleetDesignDocs(built: DesignDocSet): DesignDocSet {
  const guard = teamWriteGuard();
  const team = built.team.some((d) => d._id === guard._id) ? built.team : [...built.team, guard];
  return { private: [...built.private], team };
}

/**
 * Design documents Sawa owns: `_design/sawa` and `_design/sawa-…`. Only these are ever
 * removed, and only when they carry a build `version` (see database.ts).
 */
export function isSawaDesignDoc(id: string): boolean {
  return id === '_design/sawa' || id.startsWith('_design/sawa-');
}

/** The `_all_docs` range that holds every Sawa-owned design document. */
export const SAWA_DDOC_RANGE = { startkey: '_design/sawa', endkey: '_design/sawa-\ufff0' };

/**
 * One hash for what a rollout installs (every kind, id and version), so a checkpoint written
 * for one build is never mistaken for another's.
 */
export function rolloutTarget(set: DesignDocSet): string {
  const lines = (Object.entries(set) as Array<[DatabaseKind, DesignDoc[]]>)
    .flatMap(([kind, docs]) => docs.map((d) => `${kind} ${d._id} ${d.version}`))
    .sort();
  return createHash('sha256').update(lines.join('\n')).digest('hex');
}
