import type { WriteRejection } from '../rules/index.js';
import type { Doc } from './write-check.js';

/**
 * `_bulk_docs` answers rebuilt in request order from the gateway's refusals and CouchDB's
 * answer for the documents it forwarded, exactly as CouchDB would have answered the whole
 * batch: one entry per document for interactive writes; only the failures (`[]` when all
 * succeed) for `new_edits=false`.
 */
export type BulkResult = Record<string, unknown>;

export function refusal(doc: Doc, r: WriteRejection, newEdits: boolean): BulkResult {
  const out: BulkResult = { id: doc._id };
  if (!newEdits && typeof doc._rev === 'string') out.rev = doc._rev;
  out.error = r.error;
  out.reason = r.reason;
  return out;
}

export function mergeResults(
  docs: readonly Doc[],
  verdicts: readonly (WriteRejection | null)[],
  newEdits: boolean,
  upstream: readonly BulkResult[],
): BulkResult[] {
  if (newEdits) {
    let next = 0;
    return docs.map((doc, i) => {
      const v = verdicts[i];
      if (v) return refusal(doc, v, true);
      // CouchDB answers every forwarded document; the fallback only guards a broken upstream.
      return upstream[next++] ?? { id: doc._id, error: 'unknown_error', reason: 'no answer' };
    });
  }
  // Failures only: place each of CouchDB's by its (id, rev) among the forwarded documents.
  const positions = new Map<string, number[]>();
  docs.forEach((doc, i) => {
    if (verdicts[i]) return;
    const key = `${String(doc._id)}\u0000${String(doc._rev)}`;
    positions.set(key, [...(positions.get(key) ?? []), i]);
  });
  const placed: { at: number; result: BulkResult }[] = [];
  docs.forEach((doc, i) => {
    const v = verdicts[i];
    if (v) placed.push({ at: i, result: refusal(doc, v, false) });
  });
  for (const result of upstream) {
    const queue = positions.get(`${String(result.id)}\u0000${String(result.rev)}`);
    placed.push({ at: queue?.shift() ?? docs.length, result });
  }
  return placed.sort((a, b) => a.at - b.at).map((p) => p.result);
}
