import type { Db } from './pouch.js';

/** PouchDB's revision tree: roots at a position, each node `[hash, opts, children]`. */
type Node = [string, { status?: string; deleted?: boolean }, Node[]];
export type RevTree = Array<{ pos: number; ids: Node }>;

interface At {
  pos: number;
  node: Node;
  parent: At | null;
}

/** One revision with the hashes of its ancestors, itself first: CouchDB's `_revisions`. */
export interface RevHistory {
  start: number;
  ids: string[];
  /** per id, `available`, `missing` or `deleted` (`_revs_info`) */
  status: string[];
}

/**
 * A document's revision tree, read once. Revisions are walked by position and
 * hash together: a hash may come back at a later generation (`1-a` → `2-a`),
 * which PouchDB's own `revs` and `latest` confuse with the first one.
 */
export class Revisions {
  private constructor(private readonly tree: RevTree) {}

  /** The tree of a document, or null when the document does not exist. */
  static async read(db: Db, id: string): Promise<Revisions | null> {
    const tree = await internal<RevTree>(db, (cb) => adapter(db)._getRevisionTree(id, cb));
    return tree ? new Revisions(tree) : null;
  }

  /**
   * The tree and the stored body of one revision, in the two LevelDB reads PouchDB's own
   * `get(id, {rev})` makes (reading the tree first, then the body through `get`, costs a
   * third). The body is as stored: no `_deleted`, `_revisions` or attachment stubs marked.
   * Null when the document or that revision's body is not there.
   */
  static async readWith(
    db: Db,
    id: string,
    rev: string,
  ): Promise<{ revisions: Revisions; body: Record<string, unknown> } | null> {
    const got = await internal<{ doc: Record<string, unknown>; metadata: { rev_tree: RevTree } }>(
      db,
      (cb) => adapter(db)._get(id, { rev }, cb),
    );
    return got ? { revisions: new Revisions(got.metadata.rev_tree), body: got.doc } : null;
  }

  /** Whether the revision is a deletion (PouchDB keeps that in the tree, not the body). */
  deleted(rev: string): boolean {
    return this.find(rev)?.node[1].deleted === true;
  }

  /** Every node with a link to its parent, depth first. */
  private *walk(): Generator<At> {
    const stack: At[] = this.tree.map((root) => ({ pos: root.pos, node: root.ids, parent: null }));
    while (stack.length > 0) {
      const at = stack.pop()!;
      yield at;
      for (const child of at.node[2]) stack.push({ pos: at.pos + 1, node: child, parent: at });
    }
  }

  private find(rev: string): At | undefined {
    const [pos, hash] = splitRev(rev);
    for (const at of this.walk()) if (at.pos === pos && at.node[0] === hash) return at;
    return undefined;
  }

  has(rev: string): boolean {
    return this.find(rev) !== undefined;
  }

  /** The revision and its known ancestors, newest first; undefined when the tree lacks it. */
  history(rev: string): RevHistory | undefined {
    const at = this.find(rev);
    if (!at) return undefined;
    const path: Node[] = [];
    for (let n: At | null = at; n; n = n.parent) path.push(n.node);
    return {
      start: at.pos,
      ids: path.map((n) => n[0]),
      status: path.map((n) =>
        n[1].status === 'missing' ? 'missing' : n[1].deleted ? 'deleted' : 'available',
      ),
    };
  }

  /** Every leaf, newest first (highest position, then highest hash, as CouchDB sorts them). */
  leaves(): string[] {
    const out: Array<[number, string]> = [];
    for (const { pos, node } of this.walk()) if (node[2].length === 0) out.push([pos, node[0]]);
    return sortNewest(out);
  }

  /**
   * The leaves that descend from `rev` (itself when it is one), newest first,
   * as couch_key_tree:get_key_leafs; empty when the tree lacks `rev`.
   */
  leavesUnder(rev: string): string[] {
    const at = this.find(rev);
    if (!at) return [];
    const out: Array<[number, string]> = [];
    const stack = [{ pos: at.pos, node: at.node }];
    while (stack.length > 0) {
      const { pos, node } = stack.pop()!;
      if (node[2].length === 0) out.push([pos, node[0]]);
      for (const child of node[2]) stack.push({ pos: pos + 1, node: child });
    }
    return sortNewest(out);
  }
}

type Callback<T> = (err: unknown, value?: T) => void;

/** The LevelDB adapter's internal readers, which the public API wraps in extra reads. */
function adapter(db: Db) {
  return db as unknown as {
    _getRevisionTree(id: string, cb: Callback<RevTree>): void;
    _get(id: string, opts: { rev: string }, cb: Callback<never>): void;
  };
}

/** Calls an internal reader once the database is open (they do not wait as public ones do); 404 is null. */
async function internal<T>(db: Db, call: (cb: Callback<T>) => void): Promise<T | null> {
  if (!(db as unknown as { taskqueue?: { isReady?: boolean } }).taskqueue?.isReady) {
    await db.info();
  }
  return new Promise<T | null>((resolve, reject) =>
    call((err, value) => {
      if (!err) resolve(value ?? null);
      else if ((err as { status?: number }).status === 404) resolve(null);
      else reject(err as Error);
    }),
  );
}

function splitRev(rev: string): [number, string] {
  const dash = rev.indexOf('-');
  return [Number(rev.slice(0, dash)), rev.slice(dash + 1)];
}

function sortNewest(revs: Array<[number, string]>): string[] {
  return revs
    .sort(([pa, ha], [pb, hb]) => pb - pa || (ha < hb ? 1 : ha > hb ? -1 : 0))
    .map(([pos, hash]) => `${pos}-${hash}`);
}
