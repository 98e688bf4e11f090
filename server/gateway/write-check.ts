import type { DatabaseKind } from '../../sync-rules/types.js';
import type { UserCtx, WriteChecker, WriteRejection } from '../rules/index.js';

/**
 * The sync rules applied to a batch of writes before CouchDB sees them. The rules compare
 * each new revision with the one it builds on (CouchDB's `oldDoc`); those are read in one
 * batch, never one request per document.
 */
export type Doc = Record<string, unknown>;

/**
 * What the rules need to find a write's base: its document id and the revisions it may build
 * on, nearest first. An interactive write names exactly one (`_rev`); a replicated one
 * carries its whole history, and CouchDB takes the nearest ancestor it has a body for.
 */
export interface BaseQuery {
  id: string;
  ancestors: string[];
  /** `_rev` of an interactive write: that revision or nothing. */
  exact: boolean;
}

/** Reads the base of each query (null when CouchDB has none of its revisions), in order. */
export type LoadBases = (queries: BaseQuery[]) => Promise<(Doc | null)[]>;

export interface JudgeContext {
  checker: WriteChecker;
  userCtx: UserCtx;
  kind: DatabaseKind;
}

/**
 * The revisions `doc` may be written on top of. Interactive writes (`new_edits` true) name
 * it in `_rev`; replicated ones (`new_edits=false`, what PouchDB pushes) carry their history
 * in `_revisions`: after a week offline a phone may push the third edit of a document whose
 * first is all the server has, so every ancestor counts, not only the parent. None: a create.
 */
export function baseQuery(doc: Doc, newEdits: boolean): BaseQuery | null {
  const id = doc._id;
  if (typeof id !== 'string') return null;
  if (newEdits)
    return typeof doc._rev === 'string' ? { id, ancestors: [doc._rev], exact: true } : null;
  const revs = doc._revisions as { start?: unknown; ids?: unknown } | undefined;
  if (!revs || typeof revs.start !== 'number' || !Array.isArray(revs.ids)) return null;
  const start = revs.start;
  const ancestors = revs.ids
    .slice(1)
    .map((hash: unknown, i: number) => `${start - 1 - i}-${String(hash)}`)
    .filter((_: string, i: number) => start - 1 - i > 0);
  return ancestors.length > 0 ? { id, ancestors, exact: false } : null;
}

/** `_local` documents never reach validate_doc_update in CouchDB, so not the rules here either. */
export function isLocal(doc: Doc): boolean {
  return typeof doc._id === 'string' && doc._id.startsWith('_local/');
}

/** One verdict per document, in order: null to forward it, else CouchDB's refusal. */
export async function judgeWrites(
  docs: readonly Doc[],
  newEdits: boolean,
  ctx: JudgeContext,
  load: LoadBases,
): Promise<(WriteRejection | null)[]> {
  const queries: BaseQuery[] = [];
  const at = docs.map((doc) => {
    const query = isLocal(doc) ? null : baseQuery(doc, newEdits);
    if (!query) return -1;
    queries.push(query);
    return queries.length - 1;
  });
  const bases = queries.length > 0 ? await load(queries) : [];
  return docs.map((doc, i) => {
    if (isLocal(doc)) return null;
    const k = at[i] as number;
    const old = k >= 0 ? (bases[k] ?? null) : null;
    return ctx.checker.checkWrite(doc, old, ctx.userCtx, ctx.kind);
  });
}
