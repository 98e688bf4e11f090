import { randomBytes } from 'node:crypto';
import { loadConfig, type Config } from '../../server/config.js';
import { fleetDbs, type FleetDbs } from '../../server/provisioning/fleet-dbs.js';
import { teamDbName, userDbName } from '../../server/provisioning/names.js';
import { currentTestFile } from './test-file.js';

/**
 * A fleet of its own for a test file (or one test) on a CouchDB that every file shares: a
 * unique FLEET_NAME_PREFIX, so the jobs, rollouts and backups it runs see only the user and
 * team databases it made, and unique JOBS_DB, CONFLICTS_ARCHIVE_DB and AGGREGATES_DB, so its
 * leases, checkpoints, held conflicts and buckets are nobody else's. User and team names made
 * with `user`/`team` carry the prefix; names made otherwise are outside the fleet.
 */
export interface TestFleet {
  prefix: string;
  /** The settings, as the service and the scripts read them from the environment. */
  env: Record<string, string>;
  /** loadConfig of `env` (NODE_ENV test) plus `more`. */
  config(more?: Record<string, string>): Config;
  dbs: FleetDbs;
  aggregatesDb: string;
  /** A user name of this fleet: the prefix, `base`, and a random tail unless `exact`. */
  user(base?: string, exact?: boolean): string;
  team(base?: string, exact?: boolean): string;
  userDb(name: string): string;
  teamDb(name: string): string;
}

const fleets = new Map<string, TestFleet>();

/**
 * The test file's fleet: the same for every call in one file, and another for each file that
 * shares its process (test-file.ts).
 */
export function testFleet(): TestFleet {
  const file = currentTestFile();
  let fleet = fleets.get(file);
  if (!fleet) fleets.set(file, (fleet = newFleet()));
  return fleet;
}

/** A fleet apart from the file's, for a test whose scans must not meet the file's others. */
export function newFleet(): TestFleet {
  const tag = randomBytes(4).toString('hex');
  const prefix = `t${tag}-`;
  const env = {
    FLEET_NAME_PREFIX: prefix,
    JOBS_DB: `sawa-jobs-${tag}`,
    CONFLICTS_ARCHIVE_DB: `sawa-conflicts-archive-${tag}`,
    AGGREGATES_DB: `sawa-aggregates-${tag}`,
  };
  const config = (more: Record<string, string> = {}) =>
    loadConfig({ NODE_ENV: 'test', ...env, ...more });
  const name = (base: string, exact: boolean) =>
    exact ? `${prefix}${base}` : `${prefix}${base}-${randomBytes(3).toString('hex')}`;
  return {
    prefix,
    env,
    config,
    dbs: fleetDbs(config()),
    aggregatesDb: env.AGGREGATES_DB,
    user: (base = 'agent', exact = false) => name(base, exact),
    team: (base = 'team', exact = false) => name(base, exact),
    userDb: userDbName,
    teamDb: teamDbName,
  };
}
