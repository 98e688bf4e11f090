import type Nano from 'nano';
import { cleanCouchError } from '../errors.js';
import { TEAM_DB_PREFIX, USER_DB_PREFIX, userFromDbName } from '../provisioning/names.js';
import type { RuleSet } from '../rules/index.js';
import { createAuditLog, type AuditLog } from '../audit/audit.js';
import { PURGE_TYPE, allDocs, leavesOfIds, purge, tellPhones, type Doc } from '../couch/purge.js';
import type { Job, JobResult } from './types.js';

const DAY_MS = 86_400_000;

/** Which period a document is past: the server's (purge it) or only the phone's (tell phones). */
function pastPeriod(rules: RuleSet, doc: Doc, now: number): 'server' | 'phone' | null {
  const rule = typeof doc.type === 'string' ? rules.rule(doc.type) : undefined;
  if (!rule) return null;
  const from = Date.parse(String(doc[rule.retention.from]));
  if (Number.isNaN(from)) return null;
  const past = (days: number | 'forever') =>
    typeof days === 'number' && from + days * DAY_MS <= now;
  if (past(rule.retention.serverDays)) return 'server';
  // The instructions themselves leave the phones only with the server's copy (above).
  if (rule.type !== PURGE_TYPE && past(rule.retention.phoneDays)) return 'phone';
  return null;
}

/**
 * Retention (docs/data-protection.md, "Retention"): every user and team database is read.
 * Each document older than its type's `retention.serverDays` (counted from the rule's
 * `retention.from` field) is purged, every revision of it, and the phones that sync the
 * database are told to purge it too. Each document past only its `retention.phoneDays` stays
 * on the server and the phones are told to remove it without pushing the removal back
 * (a `phone-retention` instruction, written once per document: the ids already in one are
 * not named again). One audit entry per database and kind says how many of which type went.
 * Documents without a rule, a number of days or a readable date stay.
 */
export async function enforceRetention(opts: {
  nano: Nano.ServerScope;
  rules: RuleSet;
  audit: AuditLog;
  now: Date;
  signal?: AbortSignal;
  /** Only these databases (tests on a shared CouchDB); all user and team databases when left out. */
  databases?: string[];
}): Promise<JobResult> {
  const { nano, rules, now } = opts;
  let dbs: string[];
  try {
    dbs = (await nano.db.list()).filter(
      (d) =>
        (d.startsWith(USER_DB_PREFIX) || d.startsWith(TEAM_DB_PREFIX)) &&
        (!opts.databases || opts.databases.includes(d)),
    );
  } catch (err) {
    throw cleanCouchError(err);
  }
  const totals = { scanned: 0, purged: 0, databases_purged: 0, phone_removed: 0 };
  for (const db of dbs) {
    if (opts.signal?.aborted) break;
    const past = { server: new Expired(), phone: new Expired() };
    const told = new Set<string>();
    for await (const doc of allDocs(nano, db)) {
      totals.scanned++;
      if (doc.type === PURGE_TYPE && doc.reason === 'phone-retention' && Array.isArray(doc.ids)) {
        for (const id of doc.ids) told.add(String(id));
      }
      const period = pastPeriod(rules, doc, now.getTime());
      if (period) past[period].add(doc);
    }
    const record = (reason: string, detail: Record<string, unknown>) =>
      opts.audit.record({
        actor: 'system',
        actor_roles: [],
        action: 'retention',
        subject: userFromDbName(db),
        reason,
        ip: null,
        detail: { db, ...detail },
      });
    if (past.server.ids.length) {
      const leaves = await leavesOfIds(nano, db, past.server.ids);
      const n = await purge(nano, db, leaves);
      const phoneIds = past.server.ids.filter((id) => !id.startsWith(`${PURGE_TYPE}:`));
      if (phoneIds.length) await tellPhones(nano, db, phoneIds, 'retention');
      await record('server retention period passed', { purged: n, types: past.server.types });
      totals.purged += n;
      totals.databases_purged++;
    }
    const fresh = past.phone.without(told);
    if (fresh.ids.length) {
      await tellPhones(nano, db, fresh.ids, 'phone-retention');
      await record('phone retention period passed (kept on the server)', {
        removed_from_phones: fresh.ids.length,
        types: fresh.types,
      });
      totals.phone_removed += fresh.ids.length;
    }
  }
  return { databases: dbs.length, ...totals };
}

/** Documents past a period: id → type. */
class Expired {
  private readonly byId = new Map<string, string>();
  get ids(): string[] {
    return [...this.byId.keys()];
  }
  get types(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const type of this.byId.values()) out[type] = (out[type] ?? 0) + 1;
    return out;
  }
  add(doc: Doc): void {
    this.byId.set(doc._id, String(doc.type));
  }
  without(ids: Set<string>): Expired {
    const out = new Expired();
    for (const [id, type] of this.byId) if (!ids.has(id)) out.byId.set(id, type);
    return out;
  }
}

export const retentionJob: Job = {
  name: 'retention',
  // Daily at 03:15 server time: quiet hours, after the night's backup.
  schedule: '15 3 * * *',
  run: (ctx) =>
    enforceRetention({
      nano: ctx.nano,
      rules: ctx.rules,
      audit: createAuditLog(ctx.nano, ctx.config.AUDIT_DB),
      now: new Date(),
      signal: ctx.signal,
    }),
};
