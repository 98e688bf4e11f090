import { readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fsyncDir, fsyncFile } from './ndjson.js';
import { BackupInvalid } from '../errors.js';
import type { BackupScope } from './scope.js';

/**
 * A backup directory holds a chain of sets, one directory each, named
 * `<UTC time>-full` or `<UTC time>-incr`. A set is complete once its `manifest.json` exists:
 * the manifest is written last (to a temporary name, then renamed), so a backup cut short
 * leaves a directory without one, which restore ignores and the next backup removes.
 */

export const FORMAT = 'sawa-backup/1';
export const MANIFEST = 'manifest.json';
export const PARTIAL_PREFIX = '.partial-';

export interface DbEntry {
  /** full: this set holds every document; incremental: those changed since `since`. */
  mode: 'full' | 'incremental';
  /** The `_changes` sequence this set starts after ("0" for full). */
  since: string;
  /** The `_changes` sequence this set reaches: the next incremental starts here. */
  seq: string;
  /** The database's purge_seq when read; more purges in a shard range force a full copy. */
  purge_seq: string;
  /** Documents with a live winning revision (CouchDB's doc_count). */
  docs: number;
  /** Documents whose winning revision is a deletion (doc_del_count). */
  deleted: number;
  /** Leaf revisions in all, conflicts and deleted branches included. */
  leaves: number;
  /** Documents written to this set's data file. */
  written: number;
  /** Over the canonical listing of the database as of this set (see listing.ts). */
  checksum: string;
  security: Record<string, unknown>;
  /**
   * Documents this set could not read or write (dump.ts), with why: they are not in its data
   * file and the listing keeps what an earlier set of the chain had of them, if anything.
   * The next backup tries them again. Absent when there were none.
   */
  skipped?: SkippedDoc[];
  files: {
    /** gzip NDJSON, one line per document: {id, leaves: [full revisions]}; null when nothing changed. */
    data: string | null;
    /** gzip NDJSON canonical listing (listing.ts) as of this set. */
    listing: string;
  };
}

export interface SkippedDoc {
  id: string;
  reason: string;
}

export interface Manifest {
  format: typeof FORMAT;
  id: string;
  kind: 'full' | 'incremental';
  /** The set this one continues (null for a full backup). */
  parent: string | null;
  created_at: string;
  finished_at: string;
  /** The CouchDB backed up, without credentials. */
  source: string;
  /** Which databases the set covers (scope.ts); absent in sets older than scopes. */
  scope?: BackupScope;
  databases: Record<string, DbEntry>;
  /** Present when the set's files are encrypted (crypto.ts); the key itself is never stored. */
  encryption?: { algorithm: 'aes-256-gcm'; key_id: string };
}

/** File names safe for any CouchDB database name (which may contain `/`, `$`, `(`, `+`…). */
export function dbFileBase(db: string): string {
  return encodeURIComponent(db).replace(
    /[()$+]/g,
    (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase(),
  );
}

export function setId(kind: 'full' | 'incremental', at: Date): string {
  const stamp = at.toISOString().replace(/[-:]/g, '').replace('.', '');
  return `${stamp}-${kind === 'full' ? 'full' : 'incr'}`;
}

export async function writeManifest(dir: string, manifest: Manifest): Promise<void> {
  const tmp = join(dir, `${MANIFEST}.tmp`);
  await writeFile(tmp, JSON.stringify(manifest, null, 2) + '\n');
  await fsyncFile(tmp);
  await rename(tmp, join(dir, MANIFEST));
  await fsyncDir(dir);
}

export async function readManifest(dir: string): Promise<Manifest | null> {
  let text: string;
  try {
    text = await readFile(join(dir, MANIFEST), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  const m = JSON.parse(text) as Manifest;
  if (m.format !== FORMAT)
    throw new BackupInvalid(`${dir}: not a ${FORMAT} backup (format ${String(m.format)})`);
  return m;
}

/** The complete sets in `root`, oldest first, and the names of incomplete ones. */
export async function listSets(root: string): Promise<{ sets: Manifest[]; incomplete: string[] }> {
  let names: string[];
  try {
    names = (await readdir(root, { withFileTypes: true }))
      .filter((d) => d.isDirectory())
      .map((d) => d.name);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { sets: [], incomplete: [] };
    throw err;
  }
  const sets: Manifest[] = [];
  const incomplete: string[] = [];
  for (const name of names.sort()) {
    const m = name.startsWith(PARTIAL_PREFIX) ? null : await readManifest(join(root, name));
    if (m) sets.push(m);
    else incomplete.push(name);
  }
  return { sets, incomplete };
}

/** The chain ending at `target`: the full set it starts from, then each incremental in order. */
export function chainTo(sets: Manifest[], target: Manifest): Manifest[] {
  const byId = new Map(sets.map((s) => [s.id, s]));
  const chain: Manifest[] = [];
  for (let s: Manifest | undefined = target; s; s = s.parent ? byId.get(s.parent) : undefined) {
    chain.unshift(s);
    if (s.parent && !byId.has(s.parent)) {
      throw new BackupInvalid(
        `backup set ${s.id} continues ${s.parent}, which is missing or incomplete`,
      );
    }
  }
  if (chain[0]?.kind !== 'full')
    throw new BackupInvalid(`no full backup starts the chain of ${target.id}`);
  return chain;
}
