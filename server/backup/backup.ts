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
import { inScope, sameScope, scopeOf, type BackupScope } from './scope.js';

export interface BackupOptions {
  nano: Nano.ServerScope;
  /** The CouchDB's URL without credentials, recorded in the manifest. */
  source: string;
  /** The backup directory: a chain of sets (manifest.ts). */
  out: string;
  /**
   * Only these databases: names and name prefixes ending in `*` (config BACKUP_DATABASES,
   * `--db`); default every one.
   */
  databases?: string[];
  /** User and team databases outside this fleet are left out (config FLEET_NAME_PREFIX). */
  fleetPrefix?: string;
  /** A full backup even when a previous set exists. */
  full?: boolean;
  /** Databases copied at once. */
  concurrency?: number;
  signal?: AbortSignal;
  onDatabase?: (db: string, entry: DbEntry, done: number, total: number) => void;
  /** Why an incremental backup became a full one. */
  onNote?: (note: string) => void;
  now?: () => Date;
  /** BACKUP_ENCRYPTION_KEY: needed to encrypt, and to read an encrypted parent set. */
  key?: BackupKey;
  /** Encrypt this set's files with `key`. An incremental set on an encrypted one always is. */
  encrypt?: boolean;
}

/**
 * Backs up every database of the scope (`_users` and `_replicator` included; scope.ts) into a
 * new set under `out`: a full one the first time (or with `full`, or when the newest set
 * covers another scope), else an incremental one on top of the newest complete set. Documents
 * that cannot be read are skipped and listed in the manifest (dump.ts). Everything is
 * written under a temporary name; the set becomes visible when its directory is renamed into
 * place, and complete when its manifest is written, last.
 */
export async function backup(opts: BackupOptions): Promise<Manifest> {
  const { nano } = opts;
  const started = (opts.now ?? (() => new Date()))();
  await mkdir(opts.out, { recursive: true });
  const { sets, incomplete } = await listSets(opts.out);
  // Leftovers of a backup that did not finish: never part of any chain.
  for (const name of incomplete) await rm(join(opts.out, name), { recursive: true, force: true });
  const scope: BackupScope = {
    databases: opts.databases?.length ? [...new Set(opts.databases)].sort() : null,
    fleet_prefix: opts.fleetPrefix ?? '',
  };
  const newest = opts.full ? null : (sets.at(-1) ?? null);
  // A chain covers one scope: an incremental set of other databases than its parent's would
  // be a full copy of some and miss others.
  const parent = newest && sameScope(scopeOf(newest, scope.fleet_prefix), scope) ? newest : null;
  if (newest && !parent) {
    opts.onNote?.(`the newest set ${newest.id} covers other databases: this one is full`);
  }
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
    dbs = ((await nano.db.list()) as string[]).filter((db) => inScope(scope, db)).sort();
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
    scope,
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
