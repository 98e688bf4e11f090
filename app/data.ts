/**
 * The user's local database as the screens see it: every document in memory (a field agent's
 * database is small: retention keeps it to what the agent needs), refreshed from the
 * database's own changes feed, so a write from this page, a pull from the server or a
 * forged write all show the same way.
 */

export interface Doc {
  _id: string;
  _rev?: string;
  _conflicts?: string[];
  type?: string;
  [field: string]: unknown;
}

/** The part of a PouchDB database this app uses. */
export interface LocalDb {
  allDocs(opts: Record<string, unknown>): Promise<{ rows: { doc?: Doc }[] }>;
  put(doc: Doc): Promise<{ id: string; rev: string }>;
  get(id: string, opts?: Record<string, unknown>): Promise<Doc>;
  changes(opts: Record<string, unknown>): {
    on(
      event: 'change',
      fn: (change: { id: string; deleted?: boolean; doc?: Doc }) => void,
    ): unknown;
    cancel(): void;
  };
}

export class DocIndex {
  private docs = new Map<string, Doc>();
  private listeners = new Set<() => void>();
  private feed?: { cancel(): void };

  constructor(readonly db: LocalDb) {}

  async open(): Promise<void> {
    const { rows } = await this.db.allDocs({ include_docs: true, conflicts: true });
    for (const row of rows) if (row.doc && !row.doc._id.startsWith('_design/')) this.set(row.doc);
    this.feed = this.db.changes({ live: true, since: 'now', include_docs: true, conflicts: true });
    (this.feed as ReturnType<LocalDb['changes']>).on('change', (change) => {
      if (change.deleted) this.docs.delete(change.id);
      else if (change.doc && !change.id.startsWith('_design/')) this.set(change.doc);
      this.notify();
    });
    this.notify();
  }

  close(): void {
    this.feed?.cancel();
    this.listeners.clear();
  }

  private set(doc: Doc): void {
    this.docs.set(doc._id, doc);
  }

  get(id: string): Doc | undefined {
    return this.docs.get(id);
  }

  ofType(type: string): Doc[] {
    return [...this.docs.values()].filter((d) => d.type === type);
  }

  conflicted(): Doc[] {
    return [...this.docs.values()].filter((d) => d._conflicts && d._conflicts.length > 0);
  }

  /** Calls `fn` after every change; returns the unsubscribe. */
  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private notify(): void {
    for (const fn of this.listeners) fn();
  }
}

/** A random id part that needs no secure context (crypto.randomUUID does). */
export function newId(type: string): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return `${type}-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}
