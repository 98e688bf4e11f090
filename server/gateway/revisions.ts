import { readBody } from './body.js';
import type { UpstreamCall } from './context.js';
import { syncErrors } from './errors.js';
import type { BaseQuery, Doc, LoadBases } from './write-check.js';

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
 * branch (a conflict) needs a second `_bulk_get`, for its nearest ancestors; as in CouchDB,
 * the nearest one with a body is the base, and none is a create.
 */
export function baseLoader(call: UpstreamCall): LoadBases {
  return async (queries: BaseQuery[]) => {
    const first = await bulkGet(
      call,
      queries.map((q) => (q.exact ? { id: q.id, rev: q.ancestors[0] as string } : { id: q.id })),
      true,
    );
    const bases: (Doc | null)[] = [];
    const pending: number[] = [];
    queries.forEach((q, i) => {
      const result = first.results?.[i];
      const entry = result?.id === q.id ? result.docs?.[0] : undefined;
      const doc = entry?.ok ?? null;
      if (q.exact || (doc && q.ancestors.includes(String(doc._rev)))) bases[i] = doc;
      else {
        bases[i] = null;
        // A document the server never had has no base; a deleted or diverged one may.
        if (doc || entry?.error?.reason === 'deleted') pending.push(i);
      }
    });
    if (pending.length === 0) return bases;

    const refs = pending.flatMap((i) => {
      const q = queries[i] as BaseQuery;
      return q.ancestors.slice(0, ANCESTOR_WINDOW).map((rev) => ({ id: q.id, rev }));
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
      const rev = q.ancestors.find((r) => found.has(`${q.id}\u0000${r}`));
      bases[i] = rev ? (found.get(`${q.id}\u0000${rev}`) as Doc) : null;
    }
    return bases;
  };
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
