/**
 * Removals the phone must keep to itself. A `phone-retention` instruction (client/purge.ts)
 * removes documents that stay on the server; where the adapter cannot purge, the removal is a
 * local deletion, which the push would otherwise send back and delete the server's copy.
 * The deletions' revisions are listed here (a `_local` document, which never syncs) and the
 * push leaves them out; an entry goes once the push has passed it.
 */
const KEPT = '_local/sawa-kept-on-server';

interface KeptDoc {
  _id: string;
  _rev?: string;
  /** Document id → the revisions of its local-only deletion. */
  revs: Record<string, string[]>;
}

export interface Change {
  id: string;
  changes: { rev: string }[];
}

async function read(db: any): Promise<KeptDoc> {
  try {
    return (await db.get(KEPT)) as KeptDoc;
  } catch (err) {
    if ((err as { status?: number }).status !== 404) throw err;
    return { _id: KEPT, revs: {} };
  }
}

/** Records local deletions the push must not send. */
export async function keepLocal(db: any, removed: Map<string, string[]>): Promise<void> {
  if (!removed.size) return;
  const doc = await read(db);
  for (const [id, revs] of removed) doc.revs[id] = [...(doc.revs[id] ?? []), ...revs];
  await db.put(doc);
}

/** The changes with the local-only deletions left out; `passed`: ids of the rows left out whole. */
export async function withoutKept(
  db: any,
  rows: Change[],
): Promise<{ rows: Change[]; passed: string[] }> {
  const { revs } = await read(db);
  const passed: string[] = [];
  const out: Change[] = [];
  for (const row of rows) {
    const kept = new Set(revs[row.id] ?? []);
    const changes = row.changes.filter((c) => !kept.has(c.rev));
    if (changes.length) out.push({ ...row, changes });
    else passed.push(row.id);
  }
  return { rows: out, passed };
}

/** Forgets entries the push checkpoint has moved past: they will not be offered again. */
export async function forgetKept(db: any, ids: string[]): Promise<void> {
  if (!ids.length) return;
  const doc = await read(db);
  const known = ids.filter((id) => id in doc.revs);
  if (!known.length) return;
  for (const id of known) delete doc.revs[id];
  await db.put(doc);
}
