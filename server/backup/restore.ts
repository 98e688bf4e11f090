import { join } from 'node:path';
import type Nano from 'nano';
import {
  BackupNotFound,
  cleanCouchError,
  couchStatus,
  CouchWriteFailed,
  Interrupted,
  BackupKeyInvalid,
} from '../errors.js';
import type { DocLine, Leaf } from './fetch-leaves.js';
import { chainTo, listSets, type Manifest } from './manifest.js';
import { readGzipLines } from './ndjson.js';
import type { BackupKey } from './crypto.js';
import { sameSecurityMeaning } from './security.js';
import { matchesPatterns } from './scope.js';

export interface RestoreOptions {
  nano: Nano.ServerScope;
  /** The backup directory. */
  from: string;
  /** The set to restore to (default: the newest complete one). */
  at?: string;
  /** Only these databases: names, or prefixes ending in `*` (default: every one of the set). */
  only?: string[];
  /** The name to restore each database under (a drill into other names); default its own. */
  rename?: (db: string) => string;
  concurrency?: number;
  signal?: AbortSignal;
  onDatabase?: (db: string, stats: RestoredDb, done: number, total: number) => void;
  /** BACKUP_ENCRYPTION_KEY, for sets whose files are encrypted. */
  key?: BackupKey;
}

export interface RestoredDb {
  /** The database restored into (its own name unless renamed). */
  into: string;
  docs: number;
  leaves: number;
  /** True when the database existed before the restore (a resumed or repeated restore). */
  existed: boolean;
  /** Documents the backup could not read when it was made (manifest `skipped`): not restored. */
  skipped: number;
}

/** Bytes of JSON per `_bulk_docs` request; well under CouchDB's default max_http_request_size. */
const BATCH_BYTES = 4 * 1024 * 1024;
const BATCH_DOCS = 500;

/** The set a restore targets and the chain leading to it. */
export async function resolveChain(from: string, at?: string): Promise<Manifest[]> {
  const { sets } = await listSets(from);
  const target = at ? sets.find((s) => s.id === at) : sets.at(-1);
  if (!target)
    throw new BackupNotFound(
      at ? `no complete backup set ${at} in ${from}` : `no complete backup in ${from}`,
    );
  return chainTo(sets, target);
}

/**
 * Restores each database of the target set: the set where its last full copy is, then every
 * later set that changed it, in order, each leaf written with `new_edits: false` and its
 * `_revisions`, so ids, revisions, conflicts and deletions come back exactly; design
 * documents after the data (their validation must not judge restored history), `_security`
 * last. Writes are idempotent, so a restore cut short is finished by running it again.
 */
export async function restore(opts: RestoreOptions): Promise<Record<string, RestoredDb>> {
  const chain = await resolveChain(opts.from, opts.at);
  const target = chain.at(-1)!;
  const dbs = Object.keys(target.databases).filter(
    (db) => !opts.only || matchesPatterns(opts.only, db),
  );
  checkKey(chain, opts.key);
  const result: Record<string, RestoredDb> = {};
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < dbs.length) {
      if (opts.signal?.aborted) throw new Interrupted('restore');
      const db = dbs[next++] as string;
      const into = opts.rename?.(db) ?? db;
      const stats = await restoreDatabase(opts.nano, opts.from, chain, db, into, opts.key);
      result[db] = stats;
      opts.onDatabase?.(db, stats, ++done, dbs.length);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.concurrency ?? 4) }, worker));
  return result;
}

/** Before anything is written: every encrypted set of the chain needs the key it was made with. */
export function checkKey(chain: Manifest[], key: BackupKey | undefined): void {
  for (const set of chain) {
    if (!set.encryption) continue;
    if (!key) {
      throw new BackupKeyInvalid(
        `backup set ${set.id} is encrypted: set BACKUP_ENCRYPTION_KEY to the key it was made with`,
      );
    }
    if (key.id !== set.encryption.key_id) {
      throw new BackupKeyInvalid(
        `BACKUP_ENCRYPTION_KEY is not the key backup set ${set.id} was encrypted with (key id ${set.encryption.key_id}, given ${key.id})`,
      );
    }
  }
}

/** The sets that rebuild `db`: from its last full copy up to the target, where it is listed. */
export function setsFor(chain: Manifest[], db: string): Manifest[] {
  let start = -1;
  for (let i = 0; i < chain.length; i++) {
    const e = chain[i]!.databases[db];
    if (!e) start = -1;
    else if (e.mode === 'full' || start === -1) start = i;
  }
  return start === -1 ? [] : chain.slice(start).filter((s) => s.databases[db]);
}

async function restoreDatabase(
  nano: Nano.ServerScope,
  root: string,
  chain: Manifest[],
  db: string,
  into: string,
  key: BackupKey | undefined,
): Promise<RestoredDb> {
  let existed = false;
  try {
    await nano.db.create(into);
  } catch (err) {
    if (couchStatus(err) !== 412) throw cleanCouchError(err);
    existed = true;
  }
  const designs: Leaf[] = [];
  const writer = batchWriter(nano, into);
  const ids = new Set<string>();
  for (const set of setsFor(chain, db)) {
    const file = set.databases[db]!.files.data;
    if (!file) continue;
    for await (const line of readGzipLines<DocLine>(join(root, set.id, file), key)) {
      ids.add(line.id);
      for (const leaf of line.leaves) {
        if (line.id.startsWith('_design/')) designs.push(leaf);
        else await writer.add(leaf);
      }
    }
  }
  for (const leaf of designs) await writer.add(leaf);
  await writer.flush();
  await restoreSecurity(nano, into, chain.at(-1)!.databases[db]!.security);
  const skipped = chain.at(-1)!.databases[db]!.skipped?.length ?? 0;
  return { into, docs: ids.size, leaves: writer.count(), existed, skipped };
}

/**
 * Sets `_security` unless it already grants what the backup says (compared by meaning: the
 * engines write the same grants differently). `_users` keeps its own: CouchDB refuses any
 * edit of it by default (users_db_security_editable = false), and each engine's is admin-only.
 */
async function restoreSecurity(
  nano: Nano.ServerScope,
  db: string,
  security: Record<string, unknown>,
) {
  if (db === '_users') return;
  try {
    const current = await nano.request({ db, path: '_security' });
    if (sameSecurityMeaning(current, security)) return;
    await nano.request({ db, path: '_security', method: 'PUT', body: security });
  } catch (err) {
    throw cleanCouchError(err);
  }
}

function batchWriter(nano: Nano.ServerScope, db: string) {
  let docs: Leaf[] = [];
  let bytes = 0;
  let count = 0;
  const flush = async () => {
    if (docs.length === 0) return;
    const body = { docs, new_edits: false };
    docs = [];
    bytes = 0;
    let res: Array<{ id: string; error?: string; reason?: string }>;
    try {
      res = (await nano.request({ db, path: '_bulk_docs', method: 'POST', body })) as typeof res;
    } catch (err) {
      throw cleanCouchError(err);
    }
    // With new_edits=false CouchDB lists only the documents it could not write.
    const failed = res.filter((r) => r.error);
    if (failed.length) {
      const f = failed[0]!;
      throw new CouchWriteFailed(
        `${db}: ${failed.length} documents not restored, first ${f.id}: ${f.error} ${f.reason ?? ''}`,
      );
    }
  };
  return {
    async add(leaf: Leaf) {
      const size = JSON.stringify(leaf).length;
      if (docs.length && (bytes + size > BATCH_BYTES || docs.length >= BATCH_DOCS)) await flush();
      docs.push(leaf);
      bytes += size;
      count++;
    },
    flush,
    count: () => count,
  };
}
