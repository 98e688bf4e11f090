import { SawaError } from './errors.js';
import type { LocalDb } from './local.js';
import { pull, type PullResult } from './pull.js';
import { push } from './push.js';
import type { Session } from './session.js';
import type { Conflict, SyncResult } from './types.js';

/**
 * One sync round over every database: pull, push, and when something was pushed, pull once
 * more, which brings back the other side of any conflict the push made on the server.
 * A link that drops after the retries ends the round early (`complete: false`); anything
 * else is thrown.
 */
export async function syncRound(
  session: Session,
  dbs: LocalDb[],
  batchSize: number,
  carried: { db: string; pulled: PullResult }[] = [],
): Promise<{ result: SyncResult; offline?: SawaError }> {
  const result: SyncResult = { pulled: 0, pushed: 0, rejected: [], conflicts: [], complete: true };
  const conflicts = new Set<string>();
  const addPull = (db: string, p: PullResult) => {
    result.pulled += p.pulled;
    for (const id of p.conflicts) conflicts.add(JSON.stringify([db, id]));
  };
  for (const c of carried) addPull(c.db, c.pulled);
  try {
    for (const local of dbs) {
      addPull(local.name, await pull(session, local));
      const pushed = await push(session, local, batchSize);
      result.pushed += pushed.pushed;
      result.rejected.push(...pushed.rejected);
      if (pushed.pushed > 0) addPull(local.name, await pull(session, local));
    }
  } catch (err) {
    if (!(err instanceof SawaError) || err.code !== 'offline') throw err;
    result.complete = false;
    return { result: withConflicts(result, conflicts), offline: err };
  }
  return { result: withConflicts(result, conflicts) };
}

function withConflicts(result: SyncResult, keys: Set<string>): SyncResult {
  result.conflicts = [...keys].map((k): Conflict => {
    const [db, id] = JSON.parse(k) as [string, string];
    return { db, id };
  });
  return result;
}
