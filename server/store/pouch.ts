import { createRequire } from 'node:module';
import PouchDB, { type Database } from 'pouchdb';
import PouchFind from 'pouchdb-find';

/**
 * The PouchDB constructor the store uses: Node's LevelDB adapter plus pouchdb-find
 * for `_find`/`_index`. Design-document JavaScript is never evaluated by PouchDB
 * here: views, filters and validation go through the sandbox instead.
 */
PouchDB.plugin(PouchFind);

export type Db = Database;

/** The part of a LevelDOWN store the store reads directly (`_local_docs`, which PouchDB cannot list). */
export interface RawLevel {
  iterator(opts: Record<string, unknown>): {
    next(cb: (err: Error | null, key?: Buffer, value?: Buffer) => void): void;
    end(cb: (err?: Error | null) => void): void;
  };
}

type LevelDown = ((location: string) => RawLevel) & {
  destroy: (location: string, cb: (err?: Error | null) => void) => void;
};

const leveldown = createRequire(import.meta.url)('leveldown') as LevelDown;
const raw = new Map<string, RawLevel>();

/** PouchDB's own LevelDOWN, remembered per directory so the store can read what PouchDB does not expose. */
function sawaLeveldown(location: string): RawLevel {
  const db = leveldown(location);
  raw.set(location, db);
  return db;
}
sawaLeveldown.destroy = (location: string, cb: (err?: Error | null) => void) => {
  raw.delete(location);
  leveldown.destroy(location, cb);
};

export function openPouch(path: string): Db {
  return new PouchDB(path, { adapter: 'leveldb', db: sawaLeveldown } as never);
}

/** Drops the remembered LevelDOWN of a closed database, so closing one frees its memory. */
export function forgetRawLevel(path: string): void {
  raw.delete(path);
}

/**
 * Whether the database failed to open (LevelDB refused: too many open files, a held lock, a
 * damaged file). PouchDB keeps the failure and fails every later call with it, so a handle
 * kept after a failed open answers errors for as long as it is kept.
 */
export function openFailed(db: Db): unknown {
  return (db as unknown as { taskqueue?: { failed?: unknown } }).taskqueue?.failed || null;
}

/** LevelDB's (or the system's) "out of file descriptors". */
export function outOfFiles(err: unknown): boolean {
  return /too many open files|EMFILE|ENFILE/i.test(String((err as Error | null)?.message ?? err));
}

/** The LevelDOWN under an open database (by its directory), if PouchDB has opened it. */
export function rawLevel(path: string): RawLevel | undefined {
  return raw.get(path);
}

export { PouchDB };
