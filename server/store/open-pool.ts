import { forgetRawLevel, openFailed, openPouch, outOfFiles, type Db } from './pouch.js';

/** One database's open PouchDB and who holds it. */
export interface OpenDb {
  db: Db;
  /** The directory it was opened from (a purge moves a database to a new one). */
  path: string;
  refs: number;
  /** Called when the database is closed under a long-lived reader (delete, purge). */
  closers: Set<() => void>;
}

/**
 * The store's open LevelDB databases, at most `maxOpen` of them (CouchDB's `max_dbs_open`):
 * past it the least recently used database nobody holds is closed. A database under a
 * request or a live feed is held, so it is never closed under a reader; the bound is soft
 * when more databases than that are held at once. Reopening a database waits for its close.
 */
export class OpenPool {
  /** In order of last use, least recent first: an entry moves to the end when held or let go. */
  private readonly open = new Map<string, OpenDb>();
  /** Databases whose LevelDB is being closed: reopening waits for it. */
  private readonly closing = new Map<string, Promise<void>>();

  constructor(private readonly maxOpen: number) {}

  /** How many databases are open now. */
  get size(): number {
    return this.open.size;
  }

  /**
   * Holds `name` open (opening it if need be); `release` lets it go. `locate` gives its
   * directory and is asked after any wait here, so a purge or deletion meanwhile is seen
   * (it throws for a database that is gone, and then nothing is held).
   */
  async hold(name: string, locate: () => string): Promise<OpenDb> {
    let entry = this.open.get(name);
    // An open that failed (out of file descriptors under a burst, say) is not kept: the next
    // request opens it again. Kept, the database answered that error until it was evicted,
    // which never happened while its phone kept asking (each request made it the most
    // recently used).
    if (entry && openFailed(entry.db)) this.forgetFailed(name, entry);
    entry = this.open.get(name);
    if (!entry) {
      await this.evict();
      // A database being closed (evicted a moment ago) must be shut before LevelDB opens it again.
      await this.closing.get(name);
      entry = this.open.get(name);
    }
    const path = locate();
    if (!entry) {
      entry = { db: openPouch(path), path, refs: 0, closers: new Set() };
    }
    entry.refs++;
    this.touch(name, entry);
    return entry;
  }

  release(name: string, entry: OpenDb): void {
    entry.refs--;
    // Closed meanwhile (a deletion, a purge): not put back.
    if (this.open.get(name) === entry) this.touch(name, entry);
    if (openFailed(entry.db)) this.forgetFailed(name, entry);
  }

  /** Makes `entry` the most recently used. */
  private touch(name: string, entry: OpenDb): void {
    this.open.delete(name);
    this.open.set(name, entry);
  }

  /** Ends every live reader of every open database. */
  endReaders(): void {
    for (const entry of this.open.values()) {
      for (const cb of entry.closers) cb();
      entry.closers.clear();
    }
  }

  /**
   * Ends the database's live feeds and waits until no request holds it. A feed registers
   * its closer a moment after it acquired the database (after its first read), so closers
   * are called again on every turn: one that registered late would otherwise hold the wait
   * (a purge, a deletion) until its longpoll timed out, up to a minute.
   */
  async waitIdle(name: string): Promise<void> {
    const entry = this.open.get(name);
    if (!entry) return;
    for (;;) {
      for (const cb of entry.closers) cb();
      entry.closers.clear();
      if (entry.refs === 0) return;
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Closes the database (ending its live readers); resolves once LevelDB has let it go. */
  async close(name: string): Promise<void> {
    const entry = this.open.get(name);
    if (!entry) return this.closing.get(name);
    this.open.delete(name);
    for (const cb of entry.closers) cb();
    const done = entry.db
      .close()
      .catch(() => undefined)
      .then(() => {
        forgetRawLevel(entry.path);
        this.closing.delete(name);
      });
    this.closing.set(name, done);
    await done;
  }

  async closeAll(): Promise<void> {
    for (const name of [...this.open.keys()]) await this.close(name);
  }

  /**
   * Drops a database whose LevelDB never opened: there is nothing to close. If the process
   * ran out of file descriptors, a quarter of the idle databases are closed too, so the
   * next open finds some, rather than every open failing while the bound is not reached.
   */
  private forgetFailed(name: string, entry: OpenDb): void {
    if (this.open.get(name) !== entry) return;
    this.open.delete(name);
    forgetRawLevel(entry.path);
    if (!outOfFiles(openFailed(entry.db))) return;
    const idle = this.idleByAge(Infinity);
    for (const victim of idle.slice(0, Math.ceil(idle.length / 4))) void this.close(victim);
  }

  /** Up to `n` open databases nobody holds, least recently used first (the map's order). */
  private idleByAge(n: number): string[] {
    const idle: string[] = [];
    for (const [name, entry] of this.open) {
      if (idle.length >= n) break;
      if (entry.refs === 0) idle.push(name);
    }
    return idle;
  }

  /** Past the bound, closes the least recently used databases nobody holds. */
  private async evict(): Promise<void> {
    if (this.open.size < this.maxOpen) return;
    const excess = Math.max(1, this.open.size - this.maxOpen + 1);
    const victims = this.idleByAge(excess);
    await Promise.all(
      victims.map((name) => (this.open.get(name)?.refs === 0 ? this.close(name) : undefined)),
    );
  }
}
