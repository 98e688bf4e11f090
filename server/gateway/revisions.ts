import { readBody } from './body.js';
import type { UpstreamCall } from './context.js';
import { syncErrors } from './errors.js';
import type { Base, BaseQuery, Doc, LoadBases } from './write-check.js';

// Bodies of the revisions a batch builds on: attachment stubs only, so this stays well
// below the batch's own size; the cap guards against a misbehaving upstream.
const MAX_ANSWER_BYTES = 256 * 1024 * 1024;
/** How far back a replicated write's history is searched when the server's winner is not in it. */
const ANCESTOR_WINDOW = 32;

type Entry = { ok?: Doc; error?: { error?: string; reason?: string } };
type Answer = { results?: { id?: string; docs?: Entry[] }[] };

/**
 * The bases of a batch of writes, read as the writing user (never anything the user could
 * not read) in one `_bulk_get`: the exact `_rev` of interactive writes, and the current
 * winner (with its history) of replicated ones, which is their base whenever its revision is
 * in their history — the usual case, even after many offline edits. Only a write on another
 * branch (a conflict) or one the winner does not explain needs a second `_bulk_get`, for its
 * own revision and its nearest ancestors: as in CouchDB, the nearest one with a body is the
 * base. A write that meets none of them on a live document is `unconnected`.
 */
export function baseLoader(call: UpstreamCall): LoadBases {
  return async (queries: BaseQuery[]) => {
    const first = await bulkGet(
      call,
      queries.map((q) => (q.exact ? { id: q.id, rev: q.ancestors[0] as string } : { id: q.id })),
      true,
    );
    const bases: Base[] = [];
    const winners: (Doc | null)[] = [];
    const pending: number[] = [];
    queries.forEach((q, i) => {
      const result = first.results?.[i];
      const entry = result?.id === q.id ? result.docs?.[0] : undefined;
      const doc = entry?.ok ?? null;
      winners[i] = doc && doc._deleted !== true ? doc : null;
      bases[i] = { kind: 'base', doc: q.exact ? doc : null };
      if (q.exact) return;
      if (doc && q.rev !== undefined && historyOf(doc).includes(q.rev)) bases[i] = KNOWN;
      else if (doc && q.ancestors.includes(String(doc._rev))) bases[i] = { kind: 'base', doc };
      // A document the server never had has no base; a deleted or diverged one may.
      else if (doc || entry?.error?.reason === 'deleted') pending.push(i);
    });
    if (pending.length === 0) return bases;

    const refs = pending.flatMap((i) => {
      const q = queries[i] as BaseQuery;
      const revs = [...(q.rev ? [q.rev] : []), ...q.ancestors.slice(0, ANCESTOR_WINDOW)];
      return revs.map((rev) => ({ id: q.id, rev }));
    });
    const found = new Map<string, Doc>();
    for (const result of (await bulkGet(call, refs, false)).results ?? []) {
      for (const entry of result.docs ?? []) {
        const doc = entry.ok;
        if (doc && typeof doc._id === 'string')
          found.set(`${doc._id}\u0000${String(doc._rev)}`, doc);
      }
    }
    for (const i of pending) {
      const q = queries[i] as BaseQuery;
      const key = (rev: string) => `${q.id}\u0000${rev}`;
      const winner = winners[i] ?? null;
      const nearest = q.ancestors.find((r) => found.has(key(r)));
      if (q.rev !== undefined && found.has(key(q.rev))) bases[i] = KNOWN;
      else if (nearest) bases[i] = { kind: 'base', doc: found.get(key(nearest)) as Doc };
      else if (winner) bases[i] = { kind: 'unconnected', winner };
    }
    return bases;
  };
}

const KNOWN: Base = { kind: 'known' };

/** The revisions of a document read with `revs=true`, its own first. */
function historyOf(doc: Doc): string[] {
  const revs = doc._revisions as { start?: unknown; ids?: unknown } | undefined;
  if (!revs || typeof revs.start !== 'number' || !Array.isArray(revs.ids))
    return [String(doc._rev)];
  const start = revs.start;
  return revs.ids.map((hash: unknown, i: number) => `${start - i}-${String(hash)}`);
}

async function bulkGet(
  call: UpstreamCall,
  docs: { id: string; rev?: string }[],
  revs: boolean,
): Promise<Answer> {
  const res = await call.send({
    method: 'POST',
    path: `${call.endpoint.dbPath}/_bulk_get`,
    query: `latest=false&revs=${revs}`,
    json: { docs },
  });
  if (res.status !== 200) {
    res.body.resume();
    throw res.status >= 500 ? syncErrors.unreachable() : syncErrors.upstreamBadAnswer();
  }
  try {
    return JSON.parse((await readBody(res.body, MAX_ANSWER_BYTES)).toString('utf8')) as Answer;
  } catch {
    throw syncErrors.upstreamBadAnswer();
  }
}
