/**
 * The server's purge instructions (`sawa_purge` documents, sync-rules/sawa-purge.ts): after
 * an erasure or past a retention period, the server purges documents from its databases and
 * writes one of these into each database the documents lived in. A phone that pulls it
 * removes its local copies here: with PouchDB's `purge` where the adapter has it (every
 * revision gone), otherwise by deleting the document and compacting the database, which
 * drops the old revisions' bodies and leaves only a tombstone (an id and a revision number).
 * Instructions already applied are remembered in a `_local` document, which never syncs.
 * A `phone-retention` instruction names documents the server keeps: their local deletions
 * are kept out of the push (client/kept.ts).
 */
import { keepLocal } from './kept.js';

const PREFIX = 'sawa_purge:';
const DONE = '_local/sawa-purges-applied';

export interface PurgeOutcome {
  /** Instructions applied this time. */
  instructions: number;
  /** Local documents removed. */
  purged: number;
}

interface Instruction {
  _id: string;
  type: 'sawa_purge';
  ids: string[];
  reason?: 'erasure' | 'retention' | 'phone-retention';
}

async function leaves(db: any, id: string): Promise<Array<{ _rev: string; _deleted?: boolean }>> {
  const res = (await db.get(id, { open_revs: 'all' })) as Array<{
    ok?: { _rev: string; _deleted?: boolean };
  }>;
  return res.flatMap((r) => (r.ok ? [r.ok] : []));
}

/** Removes every revision of one document; `deleted`: the revisions of the deletions made. */
async function purgeOne(
  db: any,
  id: string,
): Promise<{ found: boolean; compact: boolean; deleted: string[] }> {
  const revs = await leaves(db, id);
  const deleted: string[] = [];
  if (!revs.length) return { found: false, compact: false, deleted };
  let compact = false;
  for (const leaf of revs) {
    try {
      if (typeof db.purge !== 'function') throw new Error('purge is not implemented');
      await db.purge(id, leaf._rev);
      continue;
    } catch (err) {
      // Adapters without purge (leveldb, memory, idb) answer "not implemented".
      const e = err as { name?: string; message?: string; reason?: string };
      if (!/not implemented/i.test(`${e.reason} ${e.message}`)) throw err;
    }
    if (!leaf._deleted) deleted.push(((await db.remove(id, leaf._rev)) as { rev: string }).rev);
    compact = true;
  }
  return { found: true, compact, deleted };
}

/** Applies every purge instruction of a local database not applied before. */
export async function applyPurges(db: any): Promise<PurgeOutcome> {
  const found = (await db.allDocs({
    startkey: PREFIX,
    endkey: `${PREFIX}\ufff0`,
    include_docs: true,
  })) as { rows: Array<{ doc?: Instruction }> };
  let done: { _rev?: string; ids: string[] } = { ids: [] };
  try {
    done = await db.get(DONE);
  } catch (err) {
    if ((err as { status?: number }).status !== 404) throw err;
  }
  const applied = new Set(done.ids);
  const todo = found.rows.flatMap((r) =>
    r.doc && r.doc.type === 'sawa_purge' && !applied.has(r.doc._id) ? [r.doc] : [],
  );
  const outcome: PurgeOutcome = { instructions: 0, purged: 0 };
  if (!todo.length) return outcome;
  let compact = false;
  const localOnly = new Map<string, string[]>();
  for (const instruction of todo) {
    for (const id of instruction.ids) {
      const r = await purgeOne(db, id);
      if (r.found) outcome.purged++;
      compact ||= r.compact;
      if (instruction.reason === 'phone-retention' && r.deleted.length)
        localOnly.set(id, r.deleted);
    }
    applied.add(instruction._id);
    outcome.instructions++;
  }
  await keepLocal(db, localOnly);
  if (compact) await db.compact();
  await db.put({ ...done, _id: DONE, ids: [...applied] });
  return outcome;
}
