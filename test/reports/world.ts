import { dbUpdatesSettled } from '../helpers/db-updates.js';
import Nano from 'nano';
import type { Test } from 'tap';
import { proxyAuthHeaders } from '../../server/couch/proxy-auth.js';
import { couchRoles } from '../../server/gateway/couch-user.js';
import { createProvisioner } from '../../server/provisioning/provisioner.js';
import { teamDbName, userDbName } from '../../server/provisioning/names.js';
import { buildDesignDocs, loadSyncRules } from '../../server/rules/index.js';
import type { SawaUser } from '../../server/accounts/types.js';
import { aggregate, type AggregateOptions } from '../../server/jobs/aggregate/index.js';
import type { Bucket } from '../../server/jobs/aggregate/aggregates-db.js';
import { phone, remote } from '../helpers/phones.js';
import { testCouch, type TestCouch } from '../helpers/store.js';
import { newFleet, type TestFleet } from '../helpers/fleet.js';

/**
 * Field data for the aggregator and report tests: users with provisioned databases (design
 * docs, validation, security as production sets them) whose phones write the reference
 * documents and push them to the store as those users, through proxy authentication.
 */

export type Doc = Record<string, unknown> & { _id: string };

export function adminNano(store: TestCouch): Nano.ServerScope {
  const url = new URL(store.url);
  url.username = encodeURIComponent(store.admin.name);
  url.password = encodeURIComponent(store.admin.password);
  return Nano(url.toString());
}

export const user = (
  name: string,
  teams: string[] = [],
  roles: SawaUser['roles'] = ['agent'],
): SawaUser => ({
  name,
  roles,
  teams: teams.map((team) => ({ team, mode: 'write' as const })),
  disabled: false,
});

const T = (day: string, time = '09:30:00') => `${day}T${time}+03:00`;

export function farmer(id: string, owner: string, district: string, day = '2024-05-01'): Doc {
  return {
    _id: id,
    type: 'farmer',
    owner,
    created_at: T(day),
    updated_at: T(day),
    name: 'Asha Mwakyusa',
    village: 'Isyesye',
    district,
  };
}

export function visit(
  id: string,
  owner: string,
  farmerId: string,
  day: string,
  activity: string,
): Doc {
  return {
    _id: id,
    type: 'visit',
    owner,
    created_at: T(day),
    updated_at: T(day),
    farmer_id: farmerId,
    visited_at: T(day, '08:00:00'),
    activity,
  };
}

export function paymentRequest(
  id: string,
  owner: string,
  provider: string,
  amount: number,
  day = '2024-05-01',
): Doc {
  return {
    _id: id,
    type: 'payment_request',
    owner,
    created_at: T(day),
    updated_at: T(day),
    farmer_id: 'f1',
    msisdn: '+255712345678',
    amount,
    provider,
    reason: 'seed subsidy',
  };
}

export function paymentStatus(
  requestId: string,
  owner: string,
  provider: string,
  status: string,
  at: string,
): Doc {
  return {
    _id: `${requestId}:status`,
    type: 'payment_status',
    owner,
    created_at: at,
    updated_at: at,
    request_id: requestId,
    provider,
    status,
  };
}

export interface World {
  store: TestCouch;
  nano: Nano.ServerScope;
  /** The world's fleet: its people's names carry its prefix; its jobs and reports databases. */
  fleet: TestFleet;
  /** The reporting database the world's aggregator writes (AGGREGATES_DB). */
  aggDb: string;
  /** A user or team name of this world (its fleet prefix, then `base`). */
  name(base: string): string;
  /** Provisions a user's databases (their own and their teams'). */
  provision(u: SawaUser): Promise<void>;
  /** Writes documents on a phone of `u` and pushes them to `db` as `u`. */
  push(u: SawaUser, db: string, docs: Doc[]): Promise<void>;
  /** The current revision of a document, read as server admin. */
  get(db: string, id: string): Promise<Doc & { _rev: string }>;
  /** Writes as server admin (the payment worker's status documents). */
  serverWrite(db: string, doc: Doc): Promise<void>;
  run(opts?: Partial<AggregateOptions>): ReturnType<typeof aggregate>;
  /** Every bucket by id. */
  buckets(): Promise<Map<string, Bucket & { _id: string; _rev: string }>>;
}

export async function makeWorld(
  t: Test,
  store?: TestCouch,
  fleet: TestFleet = newFleet(),
): Promise<World> {
  // The aggregator reads every user and team database of its fleet: a world has a fleet of its
  // own (name prefix, jobs and reporting databases) on the file's store.
  store ??= await testCouch(t);
  const s = store;
  const aggDb = fleet.aggregatesDb;
  const nano = adminNano(s);
  const provisioner = createProvisioner(nano, buildDesignDocs(loadSyncRules()));
  return {
    store: s,
    nano,
    fleet,
    aggDb,
    name: (base) => `${fleet.prefix}${base}`,
    async provision(u) {
      await provisioner.user(u);
    },
    async push(u, db, docs) {
      const local = phone();
      const headers = proxyAuthHeaders({
        name: u.name,
        roles: couchRoles(u),
        secret: s.proxySecret,
      });
      const target = remote(`${s.url}/${db}`, () => headers);
      const known = await target.allDocs({ keys: docs.map((d) => d._id) });
      // A phone that already holds these documents: take their revisions first, as sync would.
      const withRevs = docs.map((d, i) => {
        const row = known.rows[i] as { value?: { rev: string; deleted?: boolean } };
        return row.value && !row.value.deleted && !d._rev ? { ...d, _rev: row.value.rev } : d;
      });
      if (withRevs.some((d) => d._rev))
        await local.replicate.from(target, { doc_ids: docs.map((d) => d._id) });
      const res = await local.bulkDocs(withRevs as never);
      const failed = res.filter((r) => 'error' in r && r.error);
      if (failed.length) throw new Error(`phone write failed: ${JSON.stringify(failed)}`);
      const out = await local.replicate.to(target);
      if (out.doc_write_failures) throw new Error(`push refused: ${JSON.stringify(out.errors)}`);
      await local.destroy();
    },
    async get(db, id) {
      return (await nano.use(db).get(id)) as unknown as Doc & { _rev: string };
    },
    async serverWrite(db, doc) {
      await nano.use(db).insert(doc as never);
    },
    // A run sees what the test wrote: on CouchDB _db_updates lists a write late.
    run: async (opts = {}) => {
      await dbUpdatesSettled(nano, `${fleet.dbs.jobs}-settle`);
      return aggregate({
        nano,
        aggregatesDb: aggDb,
        fleet: fleet.dbs,
        batchSize: 500,
        concurrency: 2,
        ...opts,
      });
    },
    async buckets() {
      const res = await nano.use(aggDb).list({
        startkey: 'bucket:',
        endkey: 'bucket:\ufff0',
        include_docs: true,
      });
      return new Map(res.rows.map((r) => [r.id, r.doc as never]));
    },
  };
}

export { userDbName, teamDbName };
