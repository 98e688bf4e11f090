import { readBody } from './body.js';
import type { UpstreamCall } from './context.js';
import { syncErrors } from './errors.js';
import type { Doc, LoadRevisions, RevRef } from './write-check.js';

// Bodies of the revisions a batch builds on: attachment stubs only, so this stays well
// below the batch's own size; the cap guards against a misbehaving upstream.
const MAX_ANSWER_BYTES = 256 * 1024 * 1024;

/**
 * The revisions a batch of writes builds on, in one `_bulk_get` as the writing user (so it
 * can never read what the user could not). A revision CouchDB does not have is null: the
 * rules then judge the write as a create, as CouchDB does for a parent it never saw.
 */
export function revisionLoader(call: UpstreamCall): LoadRevisions {
  return async (refs: RevRef[]) => {
    const res = await call.send({
      method: 'POST',
      path: `${call.endpoint.dbPath}/_bulk_get`,
      query: 'latest=false&revs=false',
      json: { docs: refs },
    });
    if (res.status !== 200) {
      res.body.resume();
      throw res.status >= 500 ? syncErrors.unreachable() : syncErrors.upstreamBadAnswer();
    }
    let answer: { results?: { docs?: { ok?: Doc }[] }[] };
    try {
      answer = JSON.parse((await readBody(res.body, MAX_ANSWER_BYTES)).toString('utf8'));
    } catch {
      throw syncErrors.upstreamBadAnswer();
    }
    // Matched by id and rev, not position, so duplicates and ordering quirks cannot shift them.
    const found = new Map<string, Doc>();
    for (const result of answer.results ?? []) {
      for (const entry of result.docs ?? []) {
        const doc = entry.ok;
        if (doc && typeof doc._id === 'string') found.set(`${doc._id}\u0000${String(doc._rev)}`, doc);
      }
    }
    return refs.map((r) => found.get(`${r.id}\u0000${r.rev}`) ?? null);
  };
}
