import pino from 'pino';
import type { FastifyBaseLogger } from 'fastify';
import type Nano from 'nano';
import type { Config } from '../../server/config.js';
import { createCouch } from '../../server/couch/client.js';
import { createProvisioner } from '../../server/provisioning/provisioner.js';
import { userDbName } from '../../server/provisioning/names.js';
import { buildDesignDocs, loadSyncRules, type RuleSet } from '../../server/rules/index.js';
import type { JobContext } from '../../server/jobs/types.js';
import { phone, remote, type Phone } from '../helpers/phones.js';
import type { TestCouch } from '../helpers/store.js';
import { testFleet } from '../helpers/fleet.js';
import { dbUpdatesSettled } from '../helpers/db-updates.js';
import { reconcile as reconcileJob } from '../../server/jobs/reconcile/index.js';

export const rules = loadSyncRules();

export function adminNano(server: TestCouch): Nano.ServerScope {
  return createCouch({ url: server.url, admin: server.admin, proxySecret: server.proxySecret })
    .nano;
}

/** A silent logger that keeps what was logged, as objects, for assertions. */
export function memoryLog(): { log: FastifyBaseLogger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const log = pino(
    { level: 'debug' },
    { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) },
  );
  return { log: log as unknown as FastifyBaseLogger, lines };
}

export function jobContext(
  server: TestCouch,
  opts: { rules?: RuleSet; signal?: AbortSignal; env?: Record<string, string> } = {},
): JobContext & { lines: Array<Record<string, unknown>>; config: Config } {
  const { log, lines } = memoryLog();
  return {
    nano: adminNano(server),
    config: testFleet().config(opts.env),
    rules: opts.rules ?? rules,
    log,
    signal: opts.signal ?? new AbortController().signal,
    lines,
  };
}

/**
 * A provisioned user database (design docs with validate_doc_update, _security), as signup
 * makes it, for a user of the file's fleet (jobs of jobContext see it).
 */
export async function userDb(
  nano: Nano.ServerScope,
  ruleSet: RuleSet = rules,
): Promise<{ user: string; db: string }> {
  const user = testFleet().user('agent');
  await createProvisioner(nano, buildDesignDocs(ruleSet)).userDb(user);
  return { user, db: userDbName(user) };
}

/** A stock PouchDB client for a database, as the server admin. */
export function serverDb(server: TestCouch, db: string): Phone {
  return remote(`${server.url}/${db}`, () => ({ authorization: server.adminAuth }));
}

export type Doc = Record<string, unknown> & { _id: string };

/**
 * A conflict made the way the field makes them: phone A writes `base` and syncs, phone B
 * pulls it, both go offline and apply their edits (each a list of successive saves), then
 * both sync. Returns the phones, still holding their own branch.
 */
export async function offlineConflict(
  server: TestCouch,
  db: string,
  base: Doc,
  editsA: Array<Record<string, unknown>>,
  editsB: Array<Record<string, unknown>>,
): Promise<{ a: Phone; b: Phone }> {
  const target = serverDb(server, db);
  const a = phone();
  const b = phone();
  await a.put(base);
  await a.replicate.to(target);
  await b.replicate.from(target);
  for (const edit of editsA) await a.put({ ...(await a.get(base._id)), ...edit });
  for (const edit of editsB) await b.put({ ...(await b.get(base._id)), ...edit });
  await a.replicate.to(target);
  await b.replicate.to(target);
  return { a, b };
}

/** The same document id created on two phones that never saw each other. */
export async function doubleCreate(
  server: TestCouch,
  db: string,
  docA: Doc,
  docB: Doc,
): Promise<{ a: Phone; b: Phone }> {
  const target = serverDb(server, db);
  const a = phone();
  const b = phone();
  await a.put(docA);
  await b.put(docB);
  await a.replicate.to(target);
  await b.replicate.to(target);
  return { a, b };
}

export function farmer(id: string, owner: string, extra: Record<string, unknown> = {}): Doc {
  return {
    _id: id,
    type: 'farmer',
    owner,
    created_at: '2024-05-01T08:00:00+03:00',
    updated_at: '2024-05-01T08:00:00+03:00',
    name: 'Asha Mwakyusa',
    village: 'Mvomero',
    district: 'Morogoro',
    ...extra,
  };
}

/** Every document in a database with its `_conflicts`, design documents left out. */
export async function docsWithConflicts(
  nano: Nano.ServerScope,
  db: string,
): Promise<Array<Doc & { _rev: string; _conflicts?: string[] }>> {
  const res = await nano.request({
    db,
    path: '_all_docs',
    qs: { include_docs: true, conflicts: true },
  });
  return (
    res as { rows: Array<{ id: string; doc: Doc & { _rev: string; _conflicts?: string[] } }> }
  ).rows
    .filter((r) => !r.id.startsWith('_design/'))
    .map((r) => r.doc);
}

export async function archiveDocs(nano: Nano.ServerScope): Promise<Array<Record<string, any>>> {
  try {
    const res = await nano.use(testFleet().dbs.archive).list({ include_docs: true });
    return res.rows.map((r) => r.doc as Record<string, any>);
  } catch {
    return [];
  }
}

/**
 * The reconciler, once `_db_updates` lists every write made so far: on CouchDB a write is
 * listed some hundreds of milliseconds after it (the tests' embedded store can do the same,
 * STORE_DB_UPDATES_DELAY_MS), and a run must see what the test just wrote.
 */
export async function reconcile(
  ctx: JobContext & { config: Config },
  ...rest: Parameters<typeof reconcileJob> extends [unknown, ...infer R] ? R : never
): ReturnType<typeof reconcileJob> {
  await dbUpdatesSettled(ctx.nano, `${ctx.config.JOBS_DB}-settle`);
  return reconcileJob(ctx, ...rest);
}

/**
 * `job` (payments, SMS…) run only once `_db_updates` lists every write made so far, as
 * `reconcile` above: a run must see the requests a test's phone has just pushed.
 */
export function afterDbUpdates<A extends unknown[], R>(
  job: (ctx: JobContext & { config: Config }, ...rest: A) => Promise<R>,
): (ctx: JobContext & { config: Config }, ...rest: A) => Promise<R> {
  return async (ctx, ...rest) => {
    await dbUpdatesSettled(ctx.nano, `${ctx.config.JOBS_DB}-settle`);
    return job(ctx, ...rest);
  };
}
