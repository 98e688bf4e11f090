import { SawaError } from './errors.js';
import type { LocalDb } from './local.js';
import { pull, type PullResult } from './pull.js';
import { applyPurges } from './purge.js';
import { push, type PushResult } from './push.js';
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
  // Accumulators, so what moved before a drop is still counted and reported.
  const pulls: { db: string; pulled: PullResult }[] = [];
  const pushed: PushResult = { pushed: 0, rejected: result.rejected };
  const pullInto = (db: string) => {
    const p: PullResult = { pulled: 0, conflicts: [] };
    pulls.push({ db, pulled: p });
    return p;
  };
  try {
    for (const local of dbs) {
      await pull(session, local, {}, pullInto(local.name));
      // The server's erasure and retention instructions, before anything is pushed.
      await local.exclusive(() => applyPurges(local.db));
      const before = pushed.pushed;
      await push(session, local, batchSize, undefined, pushed);
      if (pushed.pushed > before) await pull(session, local, {}, pullInto(local.name));
    }
  } catch (err) {
    if (!(err instanceof SawaError) || err.code !== 'offline') throw err;
    result.complete = false;
    return { result: finish(), offline: err };
  }
  return { result: finish() };

  function finish(): SyncResult {
    for (const p of pulls.splice(0)) addPull(p.db, p.pulled);
    result.pushed = pushed.pushed;
    return withConflicts(result, conflicts);
  }
}

function withConflicts(result: SyncResult, keys: Set<string>): SyncResult {
  result.conflicts = [...keys].map((k): Conflict => {
    const [db, id] = JSON.parse(k) as [string, string];
    return { db, id };
  });
  return result;
}
