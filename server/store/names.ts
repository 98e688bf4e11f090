import { errors } from './errors.js';

/** CouchDB's database name rule; system databases (`_users`, `_replicator`, …) are the exceptions below. */
const DB_NAME = /^[a-z][a-z0-9_$()+/-]*$/;
const SYSTEM_DBS = new Set(['_users', '_replicator', '_global_changes']);
const MAX_DB_NAME = 238;

export function isValidDbName(name: string): boolean {
  return name.length <= MAX_DB_NAME && (DB_NAME.test(name) || SYSTEM_DBS.has(name));
}

export function assertDbName(name: string): void {
  // CouchDB checks the length first: the name becomes a file name with a shard suffix.
  if (name.length > MAX_DB_NAME) throw errors.dbNameTooLong(name);
  if (!isValidDbName(name)) throw errors.illegalDbName(name);
}

/**
 * A file-system-safe directory name for a database: letters, digits, `_` and `-`
 * stay, every other byte becomes `%xx`, so distinct names never share a directory.
 */
export function dirNameFor(name: string, generation: number): string {
  const safe = name.replace(
    /[^a-z0-9_-]/g,
    (c) => '%' + c.charCodeAt(0).toString(16).padStart(2, '0'),
  );
  return `${safe}.${generation}`;
}
