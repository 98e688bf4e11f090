import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { forgetRawLevel, openFailed, openPouch, outOfFiles, type Db } from './pouch.js';
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

interface OpenDb {
  db: Db;
  refs: number;
  lastUsed: number;
  /** Called when the database is closed under a long-lived reader (delete, purge). */
  closers: Set<() => void>;
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
 * sweep), their security objects, and a bounded pool of open LevelDB handles.
 */
export class Registry {
  private readonly records = new Map<string, DbRecord>();
  private readonly open = new Map<string, OpenDb>();
  private readonly locks = new Map<string, Mutex>();
  /** Databases whose LevelDB is being closed: reopening waits for it. */
  private readonly closing = new Map<string, Promise<void>>();
  /** Server-level live feeds (`_db_updates`), ended by `endFeeds`. */
  private readonly serverFeeds = new Set<() => void>();
  private generation = Date.now();

  private constructor(
    readonly dataDir: string,
    private readonly meta: Db,
    readonly updates: DbUpdates,
    readonly serverUuid: string,
    private readonly maxOpen: number,
  ) {}

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
      await this.waitIdle(name);
      await this.closeOpen(name);
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
      await this.waitIdle(name);
      await this.closeOpen(name);
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
    const rec = this.record(name);
    if (!entry) {
      entry = { db: openPouch(this.path(rec.dir)), refs: 0, lastUsed: 0, closers: new Set() };
      this.open.set(name, entry);
    }
    const e = entry;
    e.refs++;
    e.lastUsed = Date.now();
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
        e.refs--;
        e.lastUsed = Date.now();
        if (openFailed(e.db)) this.forgetFailed(name, e);
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
    for (const entry of this.open.values()) {
      for (const cb of entry.closers) cb();
      entry.closers.clear();
    }
    for (const end of this.serverFeeds) end();
    this.serverFeeds.clear();
  }

  async close(): Promise<void> {
    for (const name of [...this.open.keys()]) await this.closeOpen(name);
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

  /** Waits for in-flight requests to finish and ends long-lived readers. */
  /**
   * Ends the database's live feeds and waits until no request holds it. A feed registers
   * its closer a moment after it acquired the database (after its first read), so closers
   * are called again on every turn: one that registered late would otherwise hold the wait
   * (a purge, a deletion) until its longpoll timed out, up to a minute.
   */
  private async waitIdle(name: string): Promise<void> {
    const entry = this.open.get(name);
    if (!entry) return;
    for (;;) {
      for (const cb of entry.closers) cb();
      entry.closers.clear();
      if (entry.refs === 0) return;
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /**
   * Drops a database whose LevelDB never opened: there is nothing to close. If the process
   * ran out of file descriptors, a quarter of the idle databases are closed too, so the
   * next open finds some, rather than every open failing while the bound is not reached.
   */
  private forgetFailed(name: string, entry: OpenDb): void {
    if (this.open.get(name) !== entry) return;
    this.open.delete(name);
    const rec = this.records.get(name);
    if (rec) forgetRawLevel(this.path(rec.dir));
    if (!outOfFiles(openFailed(entry.db))) return;
    const idle = this.idleByAge();
    for (const [victim] of idle.slice(0, Math.ceil(idle.length / 4))) void this.closeOpen(victim);
  }

  /** Open databases nobody holds, least recently used first. */
  private idleByAge(): Array<[string, OpenDb]> {
    return [...this.open.entries()]
      .filter(([, e]) => e.refs === 0)
      .sort((a, b) => a[1].lastUsed - b[1].lastUsed);
  }

  private async closeOpen(name: string): Promise<void> {
    const entry = this.open.get(name);
    if (!entry) return this.closing.get(name);
    this.open.delete(name);
    for (const cb of entry.closers) cb();
    const rec = this.records.get(name);
    const done = entry.db
      .close()
      .catch(() => undefined)
      .then(() => {
        if (rec) forgetRawLevel(this.path(rec.dir));
        this.closing.delete(name);
      });
    this.closing.set(name, done);
    await done;
  }

  /**
   * Past STORE_MAX_DBS_OPEN, closes the least recently used databases nobody holds: no
   * request in flight, no live feed (a feed holds its handle until it ends).
   */
  private async evict(): Promise<void> {
    if (this.open.size < this.maxOpen) return;
    const idle = this.idleByAge();
    const excess = Math.max(1, this.open.size - this.maxOpen + 1);
    const victims = idle.slice(0, excess).map(([name]) => name);
    await Promise.all(
      victims.map((name) => (this.open.get(name)?.refs === 0 ? this.closeOpen(name) : undefined)),
    );
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
