import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { openPouch, type Db } from './pouch.js';
import { OpenPool } from './open-pool.js';
import { errors } from './errors.js';
import { assertDbName, dirNameFor } from './names.js';
import { ADMIN_ONLY, type SecurityObject } from './security.js';
import { DbUpdates } from './db-updates.js';
import { Mutex } from './mutex.js';

/** What the store remembers about one database, kept in the internal meta database. */
export interface DbRecord {
  /** `db:` + name: PouchDB refuses ids like `_users` that start with an underscore. */
  _id: string;
  name: string;
  _rev?: string;
  dir: string;
  created_at: string;
  /** Added to PouchDB's sequence numbers so that a purge rebuild never makes a sequence go backwards. */
  seq_offset: number;
  /** How many purges the database has had: CouchDB's `purge_seq`, which jobs watch to notice erasures. */
  purge_seq?: number;
  security: SecurityObject;
}

export interface Handle {
  readonly name: string;
  readonly db: Db;
  readonly record: DbRecord;
  /** Ends a long-lived reader (a continuous feed) if the database goes away under it. */
  onClose(cb: () => void): void;
  /** Announces a successful write on `_db_updates`. */
  changed(): void;
  release(): void;
}

const META_DIR = '_meta';
const DBS_DIR = 'dbs';

/**
 * Owns every database of the store: which exist (the meta database is the truth,
 * so a crash between creating files and recording them leaves only an orphan to
 * sweep), their security objects, and (through its OpenPool) which are open.
 */
export class Registry {
  private readonly records = new Map<string, DbRecord>();
  private readonly locks = new Map<string, Mutex>();
  private readonly pool: OpenPool;
  /** Server-level live feeds (`_db_updates`), ended by `endFeeds`. */
  private readonly serverFeeds = new Set<() => void>();
  private generation = Date.now();

  private constructor(
    readonly dataDir: string,
    private readonly meta: Db,
    readonly updates: DbUpdates,
    readonly serverUuid: string,
    maxOpen: number,
  ) {
    this.pool = new OpenPool(maxOpen);
  }

  static async open(
    dataDir: string,
    opts: { maxOpen?: number; dbUpdatesDelayMs?: number } = {},
  ): Promise<Registry> {
    await mkdir(join(dataDir, DBS_DIR), { recursive: true });
    const meta = openPouch(join(dataDir, META_DIR));
    const server = await upsertLocal(meta, '_local/server', (doc) => ({
      uuid: (doc?.uuid as string | undefined) ?? randomUUID().replace(/-/g, ''),
      clean_shutdown: false,
    }));
    const crashed = server.previous !== null && server.previous.clean_shutdown !== true;
    const updates = await DbUpdates.open(join(dataDir, '_db_updates'), opts.dbUpdatesDelayMs);
    const registry = new Registry(
      dataDir,
      meta,
      updates,
      server.doc.uuid as string,
      opts.maxOpen ?? 500,
    );
    const all = await meta.allDocs({ include_docs: true });
    for (const row of all.rows) {
      const rec = row.doc as DbRecord | undefined;
      if (rec?.name !== undefined) registry.records.set(rec.name, rec);
    }
    await registry.sweepOrphans();
    // After a crash, writes may have landed whose _db_updates notice was still being batched.
    if (crashed) for (const name of registry.records.keys()) updates.notify(name, 'updated');
    return registry;
  }

  list(): string[] {
    return [...this.records.keys()].sort();
  }

  /** How many databases are open now (held or idle). */
  openCount(): number {
    return this.pool.size;
  }

  exists(name: string): boolean {
    return this.records.has(name);
  }

  record(name: string): DbRecord {
    const rec = this.records.get(name);
    if (!rec) throw errors.noDb();
    return rec;
  }

  async create(name: string, security: SecurityObject = ADMIN_ONLY): Promise<void> {
    assertDbName(name);
    await this.lock(name).run(async () => {
      if (this.records.has(name)) throw errors.fileExists();
      const dir = dirNameFor(name, this.nextGeneration());
      const db = openPouch(this.path(dir));
      await db.info();
      await db.close();
      const rec: DbRecord = {
        _id: `db:${name}`,
        name,
        dir,
        created_at: new Date().toISOString(),
        seq_offset: 0,
        security,
      };
      const res = await this.meta.put(rec as never);
      this.records.set(name, { ...rec, _rev: res.rev });
    });
    this.updates.notify(name, 'created');
  }

  async delete(name: string): Promise<void> {
    await this.lock(name).run(async () => {
      const rec = this.record(name);
      await this.meta.remove(rec._id, rec._rev as string);
      this.records.delete(name);
      await this.pool.waitIdle(name);
      await this.pool.close(name);
      await openPouch(this.path(rec.dir)).destroy();
    });
    this.updates.notify(name, 'deleted');
  }

  async setSecurity(name: string, security: SecurityObject): Promise<void> {
    await this.lock(name).run(async () => {
      const rec = this.record(name);
      await this.saveRecord({ ...rec, security });
    });
  }

  /**
   * Runs `fn` with the database to itself (no other reader or writer), then
   * points the record at the directory `fn` returns. Used by purge: the new
   * directory is complete before the record switches, so a crash leaves the old one.
   */
  async rebuild(
    name: string,
    fn: (old: Db, newDb: Db, rec: DbRecord) => Promise<{ seqOffset: number }>,
  ): Promise<void> {
    await this.lock(name).run(async () => {
      const rec = this.record(name);
      await this.pool.waitIdle(name);
      await this.pool.close(name);
      const old = openPouch(this.path(rec.dir));
      const dir = dirNameFor(name, this.nextGeneration());
      const fresh = openPouch(this.path(dir));
      try {
        const { seqOffset } = await fn(old, fresh, rec);
        await fresh.close();
        await this.saveRecord({
          ...rec,
          dir,
          seq_offset: seqOffset,
          purge_seq: (rec.purge_seq ?? 0) + 1,
        });
      } catch (err) {
        await fresh.destroy().catch(() => undefined);
        await old.close().catch(() => undefined);
        throw err;
      }
      await old.destroy();
    });
    this.updates.notify(name, 'updated');
  }

  /** Opens (or reuses) the database's PouchDB; callers must release() the handle. */
  async acquire(name: string): Promise<Handle> {
    await this.lock(name).idle();
    let rec!: DbRecord;
    const e = await this.pool.hold(name, () => {
      rec = this.record(name);
      return this.path(rec.dir);
    });
    let released = false;
    return {
      name,
      db: e.db,
      record: rec,
      onClose: (cb) => e.closers.add(cb),
      changed: () => this.updates.notify(name, 'updated'),
      release: () => {
        if (released) return;
        released = true;
        this.pool.release(name, e);
      },
    };
  }

  async use<T>(name: string, fn: (h: Handle) => Promise<T>): Promise<T> {
    const h = await this.acquire(name);
    try {
      return await fn(h);
    } finally {
      h.release();
    }
  }

  /** Registers a server-level live feed to end at shutdown; returns its removal. */
  onShutdown(end: () => void): () => void {
    this.serverFeeds.add(end);
    return () => this.serverFeeds.delete(end);
  }

  /**
   * Ends every live feed, each answering what it has (as CouchDB does when it stops), so a
   * shutdown does not wait out their timeouts: closing waits for in-flight requests first.
   */
  endFeeds(): void {
    this.pool.endReaders();
    for (const end of this.serverFeeds) end();
    this.serverFeeds.clear();
  }

  async close(): Promise<void> {
    await this.pool.closeAll();
    await this.updates.close();
    await upsertLocal(this.meta, '_local/server', (doc) => ({ ...doc, clean_shutdown: true }));
    await this.meta.close();
  }

  /** The directory of a database's files, from its record's `dir`. */
  path(dir: string): string {
    return join(this.dataDir, DBS_DIR, dir);
  }

  private nextGeneration(): number {
    this.generation = Math.max(this.generation + 1, Date.now());
    return this.generation;
  }

  private lock(name: string): Mutex {
    let m = this.locks.get(name);
    if (!m) {
      m = new Mutex();
      this.locks.set(name, m);
    }
    return m;
  }

  private async saveRecord(rec: DbRecord): Promise<void> {
    const res = await this.meta.put(rec as never);
    this.records.set(rec.name, { ...rec, _rev: res.rev });
  }

  /** Removes database directories no record points at: leftovers of a crash mid-create, -delete or -purge. */
  private async sweepOrphans(): Promise<void> {
    const live = new Set([...this.records.values()].map((r) => r.dir));
    for (const entry of await readdir(join(this.dataDir, DBS_DIR))) {
      const base = entry.replace(/-mrview-.*$/, '');
      if (!live.has(base))
        await rm(join(this.dataDir, DBS_DIR, entry), { recursive: true, force: true });
    }
  }
}

async function upsertLocal(
  db: Db,
  id: string,
  fn: (doc: Record<string, unknown> | null) => Record<string, unknown>,
): Promise<{ doc: Record<string, unknown>; previous: Record<string, unknown> | null }> {
  const previous = (await db.get(id).catch(() => null)) as Record<string, unknown> | null;
  const doc = { ...fn(previous), _id: id, ...(previous ? { _rev: previous._rev } : {}) };
  await db.put(doc as never);
  return { doc, previous };
}
