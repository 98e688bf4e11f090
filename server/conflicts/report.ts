import type Nano from 'nano';
import { cleanCouchError } from '../errors.js';
import {
  teamFromDbName,
  userDbName,
  userFromDbName,
  type FleetScope,
} from '../provisioning/names.js';
import type { FleetDbs } from '../provisioning/fleet-dbs.js';
import { runBounded, toAsync } from '../util/run-bounded.js';
import type { RuleSet } from '../rules/index.js';
import { readHeld, type StoredHeld } from './held.js';
import { fetchLeaves } from './leaves.js';
import { conflictsIn } from './list.js';
import { strategyFor } from './strategy.js';

/**
 * Every unresolved conflict across the user and team databases, for `npm run
 * conflict-report`: where, whose, what, how many branches, since when, the strategy, and
 * whether the reconciler left it for a person (with why) or has yet to reach it.
 */

export interface ConflictRow {
  db: string;
  /** The user of a `userdb-…` database (hex decoded). */
  user: string | null;
  team: string | null;
  doc_id: string;
  type: string | null;
  /** Live branches: the winner and its conflicts. */
  branches: number;
  /** When the reconciler first left it; else the latest edit of any branch (see docs/conflicts.md). */
  since: string | null;
  age_seconds: number | null;
  /** The type's strategy, or `no rule`. */
  strategy: string;
  /** `held`: left for a person; `waiting`: the reconciler has not settled it yet. */
  status: 'held' | 'waiting';
  reason: string | null;
}

export interface ReportSummary {
  conflicts: number;
  databases_scanned: number;
  databases_with_conflicts: number;
  held: number;
  waiting: number;
  by_strategy: Record<string, number>;
  by_type: Record<string, number>;
  oldest_age_seconds: number | null;
  /** Databases that could not be read (the report is incomplete without them). */
  failed: Array<{ db: string; error: string }>;
  /** Databases without the conflicts view, read whole. */
  scanned_without_view: string[];
}

export interface ReportOptions {
  /** The jobs database (held records) and the fleet's databases (fleet-dbs.ts). */
  fleet: FleetDbs;
  user?: string;
  type?: string;
  olderThanSeconds?: number;
  concurrency?: number;
  now?: Date;
  progress?: (p: { done: number; total: number; found: number }) => void;
}

export async function conflictReport(
  nano: Nano.ServerScope,
  rules: RuleSet,
  opts: ReportOptions,
): Promise<{ rows: ConflictRow[]; summary: ReportSummary }> {
  const now = (opts.now ?? new Date()).getTime();
  const dbs =
    opts.user !== undefined
      ? [userDbName(opts.user)]
      : await userAndTeamDbs(nano, opts.fleet.scope);
  const held = new Map(
    (await readHeld(nano, opts.fleet.jobs)).map((h) => [`${h.db}\n${h.doc_id}`, h]),
  );
  const rows: ConflictRow[] = [];
  const failed: ReportSummary['failed'] = [];
  const withoutView: string[] = [];
  let done = 0;
  opts.progress?.({ done, total: dbs.length, found: 0 });

  await runBounded(toAsync(dbs), opts.concurrency ?? 8, async (db) => {
    try {
      const listed = await conflictsIn(nano, db, { type: opts.type });
      if (listed === null && opts.user !== undefined) {
        failed.push({ db, error: `user ${opts.user} has no database` });
      }
      if (listed?.via === 'scan') withoutView.push(db);
      for (const c of listed?.conflicts ?? []) {
        const h = held.get(`${db}\n${c.id}`);
        const since = h?.first_seen ?? (await latestEdit(nano, db, c.id));
        const age = since ? Math.max(0, Math.floor((now - Date.parse(since)) / 1000)) : null;
        if (opts.olderThanSeconds !== undefined && (age === null || age < opts.olderThanSeconds))
          continue;
        rows.push(row(rules, db, c, { since, age, held: h }));
      }
    } catch (err) {
      failed.push({ db, error: String(cleanCouchError(err).message) });
    }
    opts.progress?.({ done: ++done, total: dbs.length, found: rows.length });
  });

  rows.sort(
    (a, b) =>
      (b.age_seconds ?? -1) - (a.age_seconds ?? -1) ||
      a.db.localeCompare(b.db) ||
      a.doc_id.localeCompare(b.doc_id),
  );
  return { rows, summary: summarise(rows, dbs.length, failed, withoutView) };
}

/** A report row: the conflict as listed, and how long it has waited (held: since when and why). */
function row(
  rules: RuleSet,
  db: string,
  c: { id: string; type: string | null; conflicts: readonly string[] },
  wait: { since: string | null; age: number | null; held: StoredHeld | undefined },
): ConflictRow {
  return {
    db,
    user: userFromDbName(db),
    team: teamFromDbName(db),
    doc_id: c.id,
    type: c.type,
    branches: 1 + c.conflicts.length,
    since: wait.since,
    age_seconds: wait.age,
    strategy: strategyFor(rules, c.type)?.strategy ?? 'no rule',
    status: wait.held ? 'held' : 'waiting',
    reason: wait.held?.reason ?? null,
  };
}

/** The newest `updated_at` of the live branches: a conflict is at least as old as no later edit. */
async function latestEdit(nano: Nano.ServerScope, db: string, id: string): Promise<string | null> {
  const times = (await fetchLeaves(nano, db, id))
    .filter((l) => !l.deleted)
    .map((l) => Date.parse(String(l.body.updated_at ?? '')))
    .filter((t) => !Number.isNaN(t));
  return times.length ? new Date(Math.max(...times)).toISOString() : null;
}

async function userAndTeamDbs(nano: Nano.ServerScope, scope: FleetScope): Promise<string[]> {
  try {
    return (await nano.db.list()).filter(scope.has);
  } catch (err) {
    throw cleanCouchError(err);
  }
}

function summarise(
  rows: readonly ConflictRow[],
  scanned: number,
  failed: ReportSummary['failed'],
  withoutView: string[],
): ReportSummary {
  const tally = (key: (r: ConflictRow) => string) => {
    const out: Record<string, number> = {};
    for (const r of rows) out[key(r)] = (out[key(r)] ?? 0) + 1;
    return out;
  };
  const ages = rows.map((r) => r.age_seconds).filter((a): a is number => a !== null);
  return {
    conflicts: rows.length,
    databases_scanned: scanned,
    databases_with_conflicts: new Set(rows.map((r) => r.db)).size,
    held: rows.filter((r) => r.status === 'held').length,
    waiting: rows.filter((r) => r.status === 'waiting').length,
    by_strategy: tally((r) => r.strategy),
    by_type: tally((r) => r.type ?? '(no type)'),
    oldest_age_seconds: ages.length ? Math.max(...ages) : null,
    failed: failed.sort((a, b) => a.db.localeCompare(b.db)),
    scanned_without_view: withoutView.sort(),
  };
}
