import type Nano from 'nano';
import { getDoc, upsert } from '../../couch/upsert.js';
import { restrictedSubjects } from '../../restriction/restriction.js';
import type { FleetDbs } from '../../provisioning/fleet-dbs.js';
import { teamFromDbName, userDbName } from '../../provisioning/names.js';
import { writeCheckpoint } from '../changed-dbs.js';
import { listPeopleDbs } from '../db-scan.js';
import { JOB_NAME } from './database.js';

/**
 * Restriction of processing (docs/data-protection.md): a restricted person's documents count
 * in no report. The aggregator reads who is restricted at the start of each run; when that
 * set changed since the last run, the databases that may hold their documents (their own and
 * every team database of the fleet) are read again from the start, so their contributions
 * leave the buckets when a restriction is set and come back when it is lifted.
 */

interface RestrictedSeen {
  kind: 'restricted_seen';
  names: string[];
}

const SEEN_ID = 'restricted_seen';

export interface Restrictions {
  names: ReadonlySet<string>;
  /** Databases to read again from the start this run. */
  recount: string[];
  /** Records the set as handled; called once the run's databases are done. */
  commit(): Promise<void>;
}

export async function readRestrictions(
  nano: Nano.ServerScope,
  agg: Nano.DocumentScope<unknown>,
  privacyDb: string,
  fleet: FleetDbs,
): Promise<Restrictions> {
  const names = await restrictedSubjects(nano, privacyDb);
  const seen = new Set((await getDoc<RestrictedSeen>(agg, SEEN_ID))?.names ?? []);
  const moved = [...names, ...seen].filter((n) => names.has(n) !== seen.has(n));
  let recount: string[] = [];
  if (moved.length) {
    const own = new Set(moved.map(userDbName));
    recount = (await listPeopleDbs(nano, fleet.scope)).filter(
      (db) => own.has(db) || teamFromDbName(db) !== null,
    );
    for (const db of recount) await writeCheckpoint(nano, fleet.jobs, JOB_NAME, db, '0');
  }
  return {
    names,
    recount,
    async commit() {
      if (!moved.length) return;
      await upsert<RestrictedSeen>(agg, SEEN_ID, () => ({
        kind: 'restricted_seen',
        names: [...names].sort(),
      }));
    },
  };
}
