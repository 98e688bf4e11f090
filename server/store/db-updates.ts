import { openPouch, type Db } from './pouch.js';

export type DbUpdateType = 'created' | 'updated' | 'deleted';

export interface DbUpdate {
  db_name: string;
  type: DbUpdateType;
  seq: string;
}

const FLUSH_MS = 25;

/** PouchDB refuses ids that start with `_` (like `_users`), so each database's notice lives under `db:`. */
const docIdFor = (name: string) => `db:${name}`;

/**
 * The `_db_updates` feed: one document per database in an internal PouchDB, so
 * its changes feed lists each database once, at the sequence of its last event.
 * Notices are batched for a few milliseconds; a crash inside that window is
 * covered by the registry, which re-announces every database after an unclean stop.
 */
export class DbUpdates {
  private pending = new Map<string, DbUpdateType>();
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();

  /**
   * `lagMs` 0: a read of the feed lists every write acknowledged before it (notices are
   * written at once). Above 0: a write is listed only `lagMs` later, as CouchDB's
   * `_global_changes` lists one 200-500 ms late (tests set it to catch code that assumes
   * otherwise).
   */
  private constructor(
    readonly db: Db,
    readonly lagMs: number,
  ) {}

  static async open(path: string, lagMs = 0): Promise<DbUpdates> {
    const db = openPouch(path);
    await db.info();
    return new DbUpdates(db, lagMs);
  }

  notify(name: string, type: DbUpdateType): void {
    const prev = this.pending.get(name);
    // 'created' followed by writes is still news of a creation; a deletion wins over all.
    if (!(prev === 'created' && type === 'updated')) this.pending.set(name, type);
    if (!this.timer) this.timer = setTimeout(() => void this.flush(), this.lagMs || FLUSH_MS);
  }

  /** Before a read of the feed: what a reader may already see (everything, unless lagging). */
  settle(): Promise<void> {
    return this.lagMs ? this.flushing : this.flush();
  }

  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const batch = this.pending;
    this.pending = new Map();
    this.flushing = this.flushing.then(() => this.write(batch)).catch(() => undefined);
    return this.flushing;
  }

  private async write(batch: Map<string, DbUpdateType>): Promise<void> {
    if (batch.size === 0) return;
    const names = [...batch.keys()];
    const existing = await this.db.allDocs({ keys: names.map(docIdFor) });
    const docs = existing.rows.map((row: { value?: { rev: string } }, i: number) => {
      const name = names[i] as string;
      const rev = row.value?.rev;
      return { _id: docIdFor(name), ...(rev ? { _rev: rev } : {}), name, type: batch.get(name) };
    });
    await this.db.bulkDocs(docs as never);
  }

  async close(): Promise<void> {
    await this.flush();
    await this.db.close();
  }
}
