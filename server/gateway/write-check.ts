import type { DatabaseKind } from '../../sync-rules/types.js';
import type { UserCtx, WriteChecker, WriteRejection } from '../rules/index.js';

/**
 * The sync rules applied to a batch of writes before CouchDB sees them. The rules compare
 * each new revision with the one it builds on (CouchDB's `oldDoc`); those are read in one
 * batch, never one request per document.
 */
export type Doc = Record<string, unknown>;

export interface RevRef {
  id: string;
  rev: string;
}

/** Reads the bodies of `refs` (null for each one CouchDB does not have), in order. */
export type LoadRevisions = (refs: RevRef[]) => Promise<(Doc | null)[]>;

export interface JudgeContext {
  checker: WriteChecker;
  userCtx: UserCtx;
  kind: DatabaseKind;
}

/**
 * The revision `doc` is written on top of. Interactive writes (`new_edits` true) name it in
 * `_rev`; replicated ones (`new_edits=false`, what PouchDB pushes) carry their history in
 * `_revisions`, and the parent is the second entry. No base: a create.
 */
export function baseRevision(doc: Doc, newEdits: boolean): RevRef | null {
  const id = doc._id;
  if (typeof id !== 'string') return null;
  if (newEdits) return typeof doc._rev === 'string' ? { id, rev: doc._rev } : null;
  const revs = doc._revisions as { start?: unknown; ids?: unknown } | undefined;
  if (!revs || typeof revs.start !== 'number' || !Array.isArray(revs.ids)) return null;
  const parent: unknown = revs.ids[1];
  return revs.start > 1 && typeof parent === 'string'
    ? { id, rev: `${revs.start - 1}-${parent}` }
    : null;
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
  load: LoadRevisions,
): Promise<(WriteRejection | null)[]> {
  const refs: RevRef[] = [];
  const at = docs.map((doc) => {
    const ref = isLocal(doc) ? null : baseRevision(doc, newEdits);
    if (!ref) return -1;
    refs.push(ref);
    return refs.length - 1;
  });
  const bases = refs.length > 0 ? await load(refs) : [];
  return docs.map((doc, i) => {
    if (isLocal(doc)) return null;
    const k = at[i] as number;
    const old = k >= 0 ? (bases[k] ?? null) : null;
    return ctx.checker.checkWrite(doc, old, ctx.userCtx, ctx.kind);
  });
}
