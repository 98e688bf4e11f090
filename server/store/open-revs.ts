import { toCouchError } from './errors.js';
import type { Db } from './pouch.js';
import { Revisions } from './rev-tree.js';
import { revPath } from './revs.js';

type Doc = Record<string, unknown>;
export type Leaf = { ok?: Doc; missing?: string };

export interface OpenRevsOptions {
  revs: boolean;
  attachments: boolean;
  latest: boolean;
  /** Revisions the client has: attachments no newer than them come as stubs. */
  attsSince?: string[];
}

/**
 * The revisions of one document, for `open_revs` and `_bulk_get`: the tree is
 * read once and every revision body at most once per reader, so asking for
 * all 200 leaves of a conflicted document costs 200 reads, not 200 × 200.
 */
export class DocRevs {
  private readonly bodies = new Map<string, Promise<Doc | null>>();

  private constructor(
    private readonly db: Db,
    private readonly id: string,
    private readonly attachments: boolean,
    readonly tree: Revisions | null,
  ) {}

  /**
   * `first`: the revision the caller will ask for first (a `_bulk_get` entry names one): read
   * with the tree in one go when attachment bytes are not wanted.
   */
  static async open(db: Db, id: string, attachments: boolean, first?: string): Promise<DocRevs> {
    if (first !== undefined && !attachments) {
      const got = await Revisions.readWith(db, id, first);
      if (got) {
        const reader = new DocRevs(db, id, attachments, got.revisions);
        reader.bodies.set(first, Promise.resolve(reader.finish(first, got.body)));
        return reader;
      }
    }
    return new DocRevs(db, id, attachments, await Revisions.read(db, id));
  }

  /** A revision's body with its own `_revisions`, or null when its body is not on disk. */
  private body(rev: string): Promise<Doc | null> {
    let got = this.bodies.get(rev);
    if (!got) {
      got = this.db
        .get(this.id, { rev, attachments: this.attachments } as never)
        .then((d) => this.finish(rev, d as unknown as Doc))
        .catch((err) => {
          const e = toCouchError(err);
          if (e.status === 404) return null;
          throw e;
        });
      this.bodies.set(rev, got);
    }
    return got;
  }

  /** A body as PouchDB's `get` gives it (deletion and attachment stubs marked), with `_revisions`. */
  private finish(rev: string, doc: Doc): Doc {
    if (this.tree?.deleted(rev)) doc._deleted = true;
    const atts = doc._attachments as Record<string, Record<string, unknown>> | undefined;
    if (atts && !this.attachments) for (const att of Object.values(atts)) att.stub = true;
    const h = this.tree?.history(rev);
    if (h) doc._revisions = { start: h.start, ids: h.ids };
    return doc;
  }

  /**
   * The named leaves (or all). With `latest`, every leaf descending from a
   * named revision, as couch_key_tree:get_key_leafs. A document that does not
   * exist has no leaves: `[]` for `all`.
   */
  async read(wanted: 'all' | string[], o: OpenRevsOptions): Promise<Leaf[]> {
    const tree = this.tree;
    if (!tree) return wanted === 'all' ? [] : wanted.map((r) => ({ missing: r }));
    // Each entry: a revision to read, or one the document lacks.
    const plan: Array<{ read: string } | { missing: string }> = [];
    if (wanted === 'all') plan.push(...tree.leaves().map((read) => ({ read })));
    else if (o.latest) {
      const seen = new Set<string>();
      for (const rev of wanted) {
        const below = tree.leavesUnder(rev);
        if (below.length === 0) plan.push({ missing: rev });
        for (const leaf of below) {
          if (!seen.has(leaf)) plan.push({ read: leaf });
          seen.add(leaf);
        }
      }
    } else plan.push(...wanted.map((rev) => (tree.has(rev) ? { read: rev } : { missing: rev })));
    const result: Leaf[] = [];
    for (const step of plan) {
      if ('missing' in step) {
        result.push({ missing: step.missing });
        continue;
      }
      const doc = await this.body(step.read);
      if (!doc) {
        result.push({ missing: step.read });
        continue;
      }
      // A copy: another request entry for the same revision may want other stubs. Without
      // attachments nothing below the top level is changed, and a shallow copy is enough.
      const copy = doc._attachments ? structuredClone(doc) : { ...doc };
      if (o.attsSince) stubOlderAttachments(copy, o.attsSince);
      if (!o.revs) delete copy._revisions;
      result.push({ ok: copy });
    }
    return result;
  }
}

/** With `atts_since`, attachments the client already has (revpos at or below a revision it knows) come as stubs. */
export function stubOlderAttachments(doc: Doc, known: string[]): void {
  const path = revPath(doc._revisions as { start: number; ids: string[] } | undefined);
  const atts = doc._attachments as Record<string, Record<string, unknown>> | undefined;
  if (!atts) return;
  const ancestor = path.find((r) => known.includes(r));
  const threshold = ancestor ? Number(ancestor.split('-')[0]) : 0;
  for (const [k, att] of Object.entries(atts)) {
    if (Number(att.revpos) <= threshold) {
      const { data: _d, ...rest } = att;
      atts[k] = { ...rest, stub: true };
    }
  }
}
