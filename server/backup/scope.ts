import { fleetScope, isUserOrTeamDb } from '../provisioning/names.js';
import { DB_PATTERN } from '../util/db-name.js';

/**
 * Which databases a backup covers. Two settings narrow it, and a set's manifest records both,
 * so a set of some databases is never taken for a backup of the whole server:
 *
 * - `databases` (config BACKUP_DATABASES, or `--db` of `npm run backup`): database names and
 *   name prefixes ending in `*` (`sawa-accounts`, `_users`, `team-*`); null: every database.
 * - `fleet_prefix` (config FLEET_NAME_PREFIX): user and team databases of other fleets are
 *   left out; '' leaves every one in.
 *
 * CouchDB's own databases other than `_users` and `_replicator` are never kept (keptDb).
 */
export interface BackupScope {
  databases: string[] | null;
  fleet_prefix: string;
}

/** The patterns of a comma-separated list (BACKUP_DATABASES), or repeated `--db` values. */
export function parseDatabasePatterns(values: string | string[]): string[] {
  const list = (Array.isArray(values) ? values : [values])
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter((v) => v.length > 0);
  for (const p of list) {
    if (!DB_PATTERN.test(p)) {
      throw new Error(
        `${JSON.stringify(p)} is neither a database name nor a name prefix followed by * (team-*)`,
      );
    }
  }
  return [...new Set(list)].sort();
}

/** True when `db` is one of `patterns` (names, or prefixes ending in `*`). */
export function matchesPatterns(patterns: readonly string[], db: string): boolean {
  return patterns.some((p) => (p.endsWith('*') ? db.startsWith(p.slice(0, -1)) : db === p));
}

/**
 * CouchDB's own databases other than `_users` and `_replicator` (`_global_changes` and the
 * like) hold only what CouchDB derives and rebuilds itself: never backed up.
 */
export const keptDb = (db: string) =>
  !db.startsWith('_') || db === '_users' || db === '_replicator';

/** Whether a backup of `scope` takes database `db`. */
export function inScope(scope: BackupScope, db: string): boolean {
  if (!keptDb(db)) return false;
  if (scope.databases && !matchesPatterns(scope.databases, db)) return false;
  return !scope.fleet_prefix || !isUserOrTeamDb(db) || fleetScope(scope.fleet_prefix).has(db);
}

/** True when the scope is the whole server: neither setting narrows it. */
export function wholeServer(scope: BackupScope): boolean {
  return scope.databases === null && scope.fleet_prefix === '';
}

/** Sets written before scopes were recorded covered every database of their fleet. */
export function scopeOf(set: { scope?: BackupScope }, fleetPrefix = ''): BackupScope {
  return set.scope ?? { databases: null, fleet_prefix: fleetPrefix };
}

export function sameScope(a: BackupScope, b: BackupScope): boolean {
  return (
    a.fleet_prefix === b.fleet_prefix &&
    JSON.stringify(a.databases ?? null) === JSON.stringify(b.databases ?? null)
  );
}

/** For the operator: "every database", or what narrows it. */
export function describeScope(scope: BackupScope): string {
  if (wholeServer(scope)) return 'every database';
  const parts: string[] = [];
  if (scope.databases) parts.push(`only databases ${scope.databases.join(', ')}`);
  if (scope.fleet_prefix) parts.push(`user and team databases of fleet "${scope.fleet_prefix}"`);
  return parts.join('; ');
}
