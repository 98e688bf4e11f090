import type Nano from 'nano';
import { cleanCouchError } from '../errors.js';
import { TEAM_DB_PREFIX, USER_DB_PREFIX, userFromDbName } from '../provisioning/names.js';
import type { RuleSet } from '../rules/index.js';
import { createAuditLog, type AuditLog } from '../audit/audit.js';
import { PURGE_TYPE, allDocs, leavesOf, purge, tellPhones } from '../couch/purge.js';
import type { Job, JobResult } from './types.js';

const DAY_MS = 86_400_000;

/**
 * Server retention (docs/data-protection.md, "Retention"): every user and team database is
 * read, and each document older than its type's `retention.serverDays` (counted from the
 * rule's `retention.from` field) is purged, every revision of it. The phones that sync the
 * database are told to purge it too, and one audit entry per database says how many of
 * which type went. Documents without a rule, a number of days or a readable date stay.
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
  let scanned = 0;
  let purged = 0;
  let databases = 0;
  for (const db of dbs) {
    if (opts.signal?.aborted) break;
    const expired: string[] = [];
    const types: Record<string, number> = {};
    for await (const doc of allDocs(nano, db)) {
      scanned++;
      const rule = typeof doc.type === 'string' ? rules.rule(doc.type) : undefined;
      const days = rule?.retention.serverDays;
      if (!rule || typeof days !== 'number') continue;
      const from = Date.parse(String(doc[rule.retention.from]));
      if (Number.isNaN(from) || from + days * DAY_MS > now.getTime()) continue;
      expired.push(doc._id);
      types[rule.type] = (types[rule.type] ?? 0) + 1;
    }
    if (!expired.length) continue;
    const leaves = new Map<string, string[]>();
    for (const id of expired) {
      const revs = await leavesOf(nano, db, id);
      if (revs.length) leaves.set(id, revs);
    }
    const n = await purge(nano, db, leaves);
    const phoneIds = expired.filter((id) => !id.startsWith(`${PURGE_TYPE}:`));
    if (phoneIds.length) await tellPhones(nano, db, phoneIds, 'retention');
    await opts.audit.record({
      actor: 'system',
      actor_roles: [],
      action: 'retention',
      subject: userFromDbName(db),
      reason: 'server retention period passed',
      ip: null,
      detail: { db, purged: n, types },
    });
    purged += n;
    databases++;
  }
  return { databases: dbs.length, scanned, purged, databases_purged: databases };
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
