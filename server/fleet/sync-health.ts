import type Nano from 'nano';
import type { Registry } from 'prom-client';
import type { AccountsContext } from '../accounts/context.js';
import { lastSyncAt, type UserDoc } from '../accounts/records.js';
import { conflictsIn } from '../conflicts/list.js';
import { readHeld } from '../conflicts/held.js';
import { cleanCouchError, couchStatus } from '../errors.js';
import { userDbName } from '../provisioning/names.js';
import type { SawaUser } from '../user.js';
import type { RecentUsage, UsageMeter } from './usage.js';

/**
 * The fleet's sync health (docs/operations.md): per user, when their phone last pulled and
 * pushed (the accounts' sync-time metering), how many documents their database holds, the
 * bytes their requests took on the wire since this instance started (the metrics' counter),
 * their bytes and refused writes of the last 7 days (usage.ts), and their conflicts: documents with live conflicting revisions, and those the reconciler
 * left for a person. Flags: no sync for `staleDays`, more documents than `warnDocs`.
 */

export interface SyncHealthRow {
  name: string;
  roles: string[];
  teams: string[];
  last_pull_at: string | null;
  last_push_at: string | null;
  /** Live documents in the user's database; null when it does not exist. */
  docs: number | null;
  conflicts_pending: number;
  conflicts_held: number;
  /** Bytes in and out since `since` (this instance's start), or null when not metered. */
  wire_bytes: { in: number; out: number; since: string } | null;
  /** The last 7 UTC days, today included, over every instance (usage.ts); null when not kept. */
  last_7_days: RecentUsage | null;
  flags: Array<'stale' | 'too_many_docs'>;
  /** Whole days since the last pull or push (or since signup when never synced). */
  days_since_sync: number;
}

export interface SyncHealthDeps {
  ctx: AccountsContext;
  nano: Nano.ServerScope;
  jobsDb: string;
  registry: Registry | null;
  staleDays: number;
  warnDocs: number;
  usage?: UsageMeter | null;
  now?: () => Date;
}

const DAY = 86_400_000;
const started = new Date().toISOString();

/** Admins see everyone; a supervisor, the members of their teams. */
export function visibleTo(staff: SawaUser): (doc: UserDoc) => boolean {
  if (staff.roles.includes('admin')) return () => true;
  const mine = new Set(staff.teams.map((m) => m.team));
  return (doc) => doc.teams.some((m) => mine.has(m.team));
}

/** A page of users (in name order, after `after`) with their sync health. */
export async function syncHealth(
  deps: SyncHealthDeps,
  staff: SawaUser,
  page: { limit: number; after?: string },
): Promise<{ users: SyncHealthRow[]; next: string | null }> {
  const { ctx } = deps;
  await ctx.ready();
  const now = (deps.now ?? (() => new Date()))().getTime();
  const visible = visibleTo(staff);
  const docs: UserDoc[] = [];
  let next: string | null = null;
  for await (const doc of ctx.users.scan({ after: page.after, batch: Math.max(page.limit, 100) })) {
    if (doc.deleting || !visible(doc)) continue;
    if (docs.length === page.limit) {
      next = docs.at(-1)!.name;
      break;
    }
    docs.push(doc);
  }
  const wire = await wireBytes(deps.registry);
  const recent = deps.usage ? await deps.usage.recent(docs.map((d) => d.name)) : null;
  const users = new Array<SyncHealthRow>(docs.length);
  let i = 0;
  // A few users at a time: three small reads each.
  const worker = async () => {
    while (i < docs.length) {
      const at = i++;
      const doc = docs[at]!;
      users[at] = {
        ...(await rowOf(deps, doc, now, wire)),
        last_7_days: recent?.get(doc.name) ?? null,
      };
    }
  };
  await Promise.all(Array.from({ length: Math.min(8, docs.length) }, worker));
  return { users, next };
}

async function rowOf(
  deps: SyncHealthDeps,
  doc: UserDoc,
  now: number,
  wire: Map<string, { in: number; out: number }> | null,
): Promise<Omit<SyncHealthRow, 'last_7_days'>> {
  const db = userDbName(doc.name);
  const [docs, conflicts, held] = await Promise.all([
    docCount(deps.nano, db),
    conflictsIn(deps.nano, db),
    readHeld(deps.nano, deps.jobsDb, db),
  ]);
  const since = lastSyncAt(doc) ?? doc.created_at;
  const days = Math.max(0, Math.floor((now - Date.parse(since)) / DAY));
  const flags: SyncHealthRow['flags'] = [];
  if (now - Date.parse(since) >= deps.staleDays * DAY) flags.push('stale');
  if (docs !== null && docs > deps.warnDocs) flags.push('too_many_docs');
  const bytes = wire?.get(doc.name);
  return {
    name: doc.name,
    roles: [...doc.roles],
    teams: doc.teams.map((m) => m.team),
    last_pull_at: doc.last_pull_at,
    last_push_at: doc.last_push_at,
    docs,
    conflicts_pending: conflicts?.conflicts.length ?? 0,
    conflicts_held: held.length,
    wire_bytes: wire ? { in: bytes?.in ?? 0, out: bytes?.out ?? 0, since: started } : null,
    flags,
    days_since_sync: days,
  };
}

/** Live documents a phone may hold: the database's count less its design documents. */
async function docCount(nano: Nano.ServerScope, db: string): Promise<number | null> {
  try {
    const info = (await nano.request({ db })) as { doc_count: number };
    const designs = (await nano.request({
      db,
      path: '_all_docs',
      qs: { startkey: '_design/', endkey: '_design0' },
    })) as { rows: unknown[] };
    return Math.max(0, info.doc_count - designs.rows.length);
  } catch (err) {
    if (couchStatus(err) === 404) return null;
    throw cleanCouchError(err);
  }
}

/** Each user's bytes from `sawa_wire_bytes_total` (summed over devices), or null without metrics. */
async function wireBytes(
  registry: Registry | null,
): Promise<Map<string, { in: number; out: number }> | null> {
  const metric = registry?.getSingleMetric('sawa_wire_bytes_total');
  if (!metric) return null;
  const out = new Map<string, { in: number; out: number }>();
  for (const v of (await metric.get()).values) {
    const user = String(v.labels.user ?? '');
    const cur = out.get(user) ?? { in: 0, out: 0 };
    if (v.labels.direction === 'in') cur.in += v.value;
    else cur.out += v.value;
    out.set(user, cur);
  }
  return out;
}
