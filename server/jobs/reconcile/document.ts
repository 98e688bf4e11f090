import type { FastifyBaseLogger } from 'fastify';
import type Nano from 'nano';
import { holdConflict, readHeld, releaseHeld } from '../../conflicts/held.js';
import {
  commonAncestor,
  couchOrder,
  fetchLeaves,
  fetchRevision,
  type Leaf,
} from '../../conflicts/leaves.js';
import { strategyFor, type TypeStrategy } from '../../conflicts/strategy.js';
import { cleanCouchError } from '../../errors.js';
import type { RuleSet } from '../../rules/index.js';
import type { FleetDbs } from '../../provisioning/fleet-dbs.js';
import { archive, finishResolution, type Target } from './archive.js';
import { plan as planFor, type Plan } from './decide.js';
import { refusal as admissible } from './admissible.js';

/**
 * One conflicted document, start to finish: read its leaves, decide by its type's strategy,
 * archive every revision the decision replaces, then write the merge (if any) and delete the
 * losing leaves, and record the outcome. Each step is safe to repeat, so a crash anywhere is
 * finished by the next run.
 */

export type DocOutcome = 'clean' | 'resolved' | 'held' | 'superseded';

export interface ReconcileHooks {
  /**
   * Runs after the archive is written and before the resolution: a test throws here to
   * stand for a crash between the two.
   */
  afterArchive?(where: { db: string; id: string }): void | Promise<void>;
}

/** What reconciling one database needs; built once per database per run. */
export interface DbScope {
  nano: Nano.ServerScope;
  rules: RuleSet;
  log: FastifyBaseLogger;
  db: string;
  /** The jobs and archive databases (held records, resolutions). */
  fleet: FleetDbs;
  hooks: ReconcileHooks;
  /** Creates the archive database, once per run, before the first archive write. */
  archiveReady(): Promise<void>;
  /** Whether the document has a held record (read lazily, once per database). */
  isHeld(id: string): Promise<boolean>;
  now(): Date;
}

export function heldIndex(
  nano: Nano.ServerScope,
  jobsDb: string,
  db: string,
): (id: string) => Promise<boolean> {
  let ids: Promise<Set<string>> | undefined;
  return async (id) => {
    ids ??= readHeld(nano, jobsDb, db).then((held) => new Set(held.map((h) => h.doc_id)));
    return (await ids).has(id);
  };
}

export async function reconcileDocument(s: DbScope, id: string): Promise<DocOutcome> {
  const live = (await fetchLeaves(s.nano, s.db, id)).filter((l) => !l.deleted).sort(couchOrder);
  if (live.length < 2) {
    if (await s.isHeld(id)) await releaseHeld(s.nano, s.fleet.jobs, s.db, id);
    return 'clean';
  }
  const types = [...new Set(live.map(typeOf))];
  const docType = typeOf(live[0] as Leaf);
  const how = strategyFor(s.rules, docType);
  const hold = (reason: string) => holdFor(s, id, live, docType, how, reason);
  if (types.length > 1) return hold(`its branches have different types (${types.join(', ')})`);
  if (!how) return hold(`no sync rule names the type ${JSON.stringify(docType)}`);
  if (how.strategy === 'manual') return hold(`the ${docType} rule says manual: a person picks`);

  const ancestor = how.strategy === 'field-merge' ? await loadAncestor(s, id, live) : undefined;
  const plan = planFor(how, live, ancestor);
  const refused = admissible(s.rules, s.db, plan);
  if (refused) {
    const immutable = how.strategy === 'immutable' || how.strategy === 'append-only';
    return hold(
      immutable
        ? `its branches differ, and which one the server accepted first cannot be told from the phones' timestamps (${refused})`
        : `the rules would refuse the outcome of ${how.strategy}: ${refused}`,
    );
  }
  const target: Target = { db: s.db, docId: id, docType, strategy: how.strategy };
  await s.archiveReady();
  const record = await archive(s.nano, s.fleet.archive, target, live, plan, s.now());
  await s.hooks.afterArchive?.({ db: s.db, id });

  const written = plan.merged ? await write(s, [{ ...plan.merged, _rev: plan.keep.rev }]) : [];
  const writtenRev = written[0]?.rev;
  const deletes = written.every((r) => r.ok) ? await write(s, tombstones(id, plan)) : [];
  const results = [...written, ...deletes];
  const finish = (status: 'resolved' | 'superseded' | 'rejected', refused?: string) =>
    finishResolution(
      s.nano,
      s.fleet.archive,
      record,
      {
        status,
        ...(writtenRev ? { written_rev: writtenRev } : {}),
        ...(refused ? { refused } : {}),
      },
      s.now(),
    );

  const failed = results.find((r) => r.error && r.error !== 'conflict');
  if (failed) {
    const what = plan.merged && !writtenRev ? 'merged document' : 'deletion';
    const why = `CouchDB refused the ${what}: ${failed.reason ?? failed.error}`;
    await finish('rejected', why);
    return hold(why);
  }
  if (results.some((r) => r.error === 'conflict')) {
    // A phone's edit (or another reconciler) reached a leaf after we read it: its change is
    // later in _changes, so the next run decides again with it.
    await finish('superseded');
    s.log.info(
      { db: s.db, doc: id },
      'conflict changed while being resolved; the next run takes it up',
    );
    return 'superseded';
  }
  await finish('resolved');
  if (await s.isHeld(id)) await releaseHeld(s.nano, s.fleet.jobs, s.db, id);
  s.log.debug(
    { db: s.db, doc: id, strategy: how.strategy, reason: plan.reason },
    'conflict resolved',
  );
  return 'resolved';
}

const typeOf = (leaf: Leaf): string | null =>
  typeof leaf.body.type === 'string' ? leaf.body.type : null;

async function holdFor(
  s: DbScope,
  id: string,
  live: readonly Leaf[],
  docType: string | null,
  how: TypeStrategy | null,
  reason: string,
): Promise<'held'> {
  await holdConflict(
    s.nano,
    s.fleet.jobs,
    {
      db: s.db,
      doc_id: id,
      doc_type: docType,
      strategy: how?.strategy ?? null,
      reason,
      leaves: live.map((l) => l.rev).sort(),
      rule_hash: how?.ruleHash ?? null,
    },
    s.now(),
  );
  s.log.warn({ db: s.db, doc: id, type: docType, reason }, 'conflict left for a person');
  return 'held';
}

/** The common ancestor's body, kept by CouchDB until compaction; null body once it is gone. */
async function loadAncestor(s: DbScope, id: string, live: readonly Leaf[]) {
  const rev = commonAncestor(live);
  if (!rev) return null;
  const body = await fetchRevision(s.nano, s.db, id, rev);
  // A deleted ancestor means both branches re-created the document: merge against nothing.
  return { rev, body: body && !body._deleted ? body : null };
}

function tombstones(id: string, plan: Plan) {
  return plan.losers.map((l) => ({ _id: id, _rev: l.rev, _deleted: true }));
}

interface BulkResult {
  ok?: boolean;
  id: string;
  rev?: string;
  error?: string;
  reason?: string;
}

/** `_bulk_docs` as server admin: validate_doc_update still runs, and `_rev` guards each write. */
async function write(s: DbScope, docs: object[]): Promise<BulkResult[]> {
  if (!docs.length) return [];
  try {
    const res = (await s.nano.use(s.db).bulk({ docs })) as BulkResult[];
    return res.map((r) => ({ ...r, ok: !r.error }));
  } catch (err) {
    throw cleanCouchError(err);
  }
}
