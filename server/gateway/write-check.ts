import type { DatabaseKind } from '../../sync-rules/types.js';
import type { UserCtx, WriteChecker, WriteRejection } from '../rules/index.js';

/**
 * The sync rules applied to a batch of writes before CouchDB sees them. The rules compare
 * each new revision with the one it builds on (CouchDB's `oldDoc`); those are read in one
 * batch, never one request per document.
 */
export type Doc = Record<string, unknown>;

/**
 * What the rules need to find a write's base: its document id, its own revision (replicated
 * writes) and the revisions it may build on, nearest first. An interactive write names
 * exactly one (`_rev`); a replicated one carries its whole history.
 */
export interface BaseQuery {
  id: string;
  /** A replicated write's own revision: if the server has it, nothing is written. */
  rev?: string;
  ancestors: string[];
  /** `_rev` of an interactive write: that revision or nothing. */
  exact: boolean;
}

/**
 * What a write builds on, as far as the server can tell:
 * - `base`: that revision (null: a create, or a write over a tombstone);
 * - `known`: the server already has the write's revision, so CouchDB ignores it;
 * - `unconnected`: the document is live on the server but the write's history meets nothing
 *   the server has a body for. CouchDB would judge it with `oldDoc = null`; the gateway
 *   judges it as an update of the server's winner, or a forged history could replace data.
 */
export type Base =
  { kind: 'base'; doc: Doc | null } | { kind: 'known' } | { kind: 'unconnected'; winner: Doc };

/** Reads the base of each query, in order. */
export type LoadBases = (queries: BaseQuery[]) => Promise<Base[]>;

export interface JudgeContext {
  checker: WriteChecker;
  userCtx: UserCtx;
  kind: DatabaseKind;
}

/**
 * The revisions `doc` may be written on top of. Interactive writes (`new_edits` true) name
 * it in `_rev`; replicated ones (`new_edits=false`, what PouchDB pushes) carry their history
 * in `_revisions`: after a week offline a phone may push the third edit of a document whose
 * first is all the server has, so every ancestor counts, not only the parent. Null: a create
 * (interactive) or nothing CouchDB would write.
 */
export function baseQuery(doc: Doc, newEdits: boolean): BaseQuery | null {
  const id = doc._id;
  if (typeof id !== 'string') return null;
  if (newEdits)
    return typeof doc._rev === 'string' ? { id, ancestors: [doc._rev], exact: true } : null;
  const revs = doc._revisions as { start?: unknown; ids?: unknown } | undefined;
  if (revs && typeof revs.start === 'number' && Array.isArray(revs.ids) && revs.ids.length > 0) {
    const start = revs.start;
    const ancestors = revs.ids
      .slice(1)
      .map((hash: unknown, i: number) => `${start - 1 - i}-${String(hash)}`)
      .filter((_: string, i: number) => start - 1 - i > 0);
    return { id, rev: `${start}-${String(revs.ids[0])}`, ancestors, exact: false };
  }
  return typeof doc._rev === 'string' ? { id, rev: doc._rev, ancestors: [], exact: false } : null;
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
    const base: Base = k >= 0 ? (bases[k] ?? NEW) : NEW;
    if (base.kind === 'known') return null;
    if (base.kind === 'base') return ctx.checker.checkWrite(doc, base.doc, ctx.userCtx, ctx.kind);
    return judgeUnconnected(doc, base.winner, ctx);
  });
}

const NEW: Base = { kind: 'base', doc: null };

/**
 * A replicated write whose history does not meet the server's tree, on a live document: an
 * update of the server's winner (owner, immutable fields, update and owner roles). One
 * exception keeps two phones' independent creates of one id by its owner an ordinary
 * conflict: a first revision that keeps the winner's owner, of a type that may change at all,
 * is judged as the create it is. The reconciler still lets it win only if the rules would
 * accept it as an update of the branch it replaces.
 */
function judgeUnconnected(doc: Doc, winner: Doc, ctx: JudgeContext): WriteRejection | null {
  const asUpdate = ctx.checker.checkWrite(doc, winner, ctx.userCtx, ctx.kind);
  if (!asUpdate) return null;
  const rule = ctx.checker.rule(doc.type);
  const revs = doc._revisions as { start?: unknown } | undefined;
  const firstRevision = revs ? revs.start === 1 : String(doc._rev).startsWith('1-');
  const independentCreate =
    rule !== undefined &&
    rule.immutable !== 'all' &&
    firstRevision &&
    doc._deleted !== true &&
    winner.type === doc.type &&
    typeof winner[rule.ownerField] === 'string' &&
    winner[rule.ownerField] === doc[rule.ownerField];
  if (!independentCreate) return asUpdate;
  return ctx.checker.checkWrite(doc, null, ctx.userCtx, ctx.kind);
}
