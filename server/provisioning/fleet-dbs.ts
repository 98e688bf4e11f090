import type { Config } from '../config.js';
import { fleetScope, type FleetScope } from './names.js';

/**
 * The databases the jobs work in and on, from configuration: where their own state lives
 * (JOBS_DB), where the reconciler archives what it replaces (CONFLICTS_ARCHIVE_DB), and which
 * user and team databases are theirs to scan (FLEET_NAME_PREFIX). Passed down, never read
 * from constants, so several deployments (or test files) can share one CouchDB.
 */
export interface FleetDbs {
  jobs: string;
  archive: string;
  scope: FleetScope;
}

export type FleetSettings = Pick<Config, 'JOBS_DB' | 'CONFLICTS_ARCHIVE_DB' | 'FLEET_NAME_PREFIX'>;

export function fleetDbs(config: FleetSettings): FleetDbs {
  return {
    jobs: config.JOBS_DB,
    archive: config.CONFLICTS_ARCHIVE_DB,
    scope: fleetScope(config.FLEET_NAME_PREFIX),
  };
}
