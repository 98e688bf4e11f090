import { isUserOrTeamDb, type FleetScope } from '../provisioning/names.js';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type Nano from 'nano';
import { BackupExists, BackupKeyInvalid, cleanCouchError, Interrupted } from '../errors.js';
import type { BackupKey } from './crypto.js';
import { dumpDatabase, type Previous } from './dump.js';
import {
  FORMAT,
  listSets,
  PARTIAL_PREFIX,
  setId,
  writeManifest,
  type DbEntry,
  type Manifest,
} from './manifest.js';
import { fsyncDir } from './ndjson.js';

export interface BackupOptions {
  nano: Nano.ServerScope;
  /** The CouchDB's URL without credentials, recorded in the manifest. */
  source: string;
  /** The backup directory: a chain of sets (manifest.ts). */
  out: string;
  /**
   * User and team databases outside this fleet are left out (config FLEET_NAME_PREFIX); every
   * other database is kept as without it.
   */
  scope?: FleetScope;
  /** A full backup even when a previous set exists. */
  full?: boolean;
  /** Databases copied at once. */
  concurrency?: number;
  signal?: AbortSignal;
  onDatabase?: (db: string, entry: DbEntry, done: number, total: number) => void;
  now?: () => Date;
  /** BACKUP_ENCRYPTION_KEY: needed to encrypt, and to read an encrypted parent set. */
  key?: BackupKey;
  /** Encrypt this set's files with `key`. An incremental set on an encrypted one always is. */
  encrypt?: boolean;
}

/**
 * CouchDB's own databases other than `_users` and `_replicator` (`_global_changes` and the
 * like) hold only what CouchDB derives and rebuilds itself: never backed up.
 */
export const keptDb = (db: string) =>
  !db.startsWith('_') || db === '_users' || db === '_replicator';

/**
 * Backs up every database (`_users` and `_replicator` included) into a new set under `out`: a full
 * one the first time (or with `full`), else an incremental one on top of the newest complete
 * set. Everything is written under a temporary name; the set becomes visible when its
 * directory is renamed into place, and complete when its manifest is written, last.
 */
export async function backup(opts: BackupOptions): Promise<Manifest> {
  const { nano } = opts;
  const started = (opts.now ?? (() => new Date()))();
  await mkdir(opts.out, { recursive: true });
  const { sets, incomplete } = await listSets(opts.out);
  // Leftovers of a backup that did not finish: never part of any chain.
  for (const name of incomplete) await rm(join(opts.out, name), { recursive: true, force: true });
  const parent = opts.full ? null : (sets.at(-1) ?? null);
  const kind = parent ? 'incremental' : 'full';
  // Never a plain set on top of an encrypted one: it would hold the same data unprotected.
  const encrypt = Boolean(opts.encrypt || parent?.encryption);
  if (encrypt && !opts.key) {
    throw new BackupKeyInvalid(
      `${parent?.encryption ? `the newest set ${parent.id} is encrypted, so this one is too: ` : ''}set BACKUP_ENCRYPTION_KEY`,
    );
  }
  const id = setId(kind, started);
  if (sets.some((s) => s.id === id)) throw new BackupExists(id);
  const partial = join(opts.out, PARTIAL_PREFIX + id);
  await mkdir(partial);

  let dbs: string[];
  try {
    dbs = ((await nano.db.list()) as string[])
      .filter((db) => keptDb(db) && (!opts.scope || !isUserOrTeamDb(db) || opts.scope.has(db)))
      .sort();
  } catch (err) {
    throw cleanCouchError(err);
  }
  const databases: Record<string, DbEntry> = {};
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < dbs.length) {
      if (opts.signal?.aborted) throw new Interrupted('backup');
      const db = dbs[next++] as string;
      const prevEntry = parent?.databases[db];
      const prev: Previous | null = prevEntry
        ? { entry: prevEntry, dir: join(opts.out, parent.id) }
        : null;
      const entry = await dumpDatabase(nano, db, partial, prev, { key: opts.key, encrypt });
      if (entry) databases[db] = entry;
      ++done;
      if (entry) opts.onDatabase?.(db, entry, done, dbs.length);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.concurrency ?? 4) }, worker));

  const manifest: Manifest = {
    format: FORMAT,
    id,
    kind,
    parent: parent?.id ?? null,
    created_at: started.toISOString(),
    finished_at: new Date().toISOString(),
    source: opts.source,
    databases: Object.fromEntries(Object.entries(databases).sort(([a], [b]) => (a < b ? -1 : 1))),
    ...(encrypt && opts.key && { encryption: { algorithm: 'aes-256-gcm', key_id: opts.key.id } }),
  };
  const final = join(opts.out, id);
  await fsyncDir(partial);
  await rename(partial, final);
  await fsyncDir(opts.out);
  await writeManifest(final, manifest);
  return manifest;
}
