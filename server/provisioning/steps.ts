import type Nano from 'nano';
import { cleanCouchError, couchStatus } from '../errors.js';
import { upsert } from '../couch/upsert.js';
import { designDocVersion, type DesignDoc } from '../rules/index.js';
import { sameSecurity, type Security } from './security.js';

/**
 * The steps of provisioning, each of which checks and repairs one thing and says what it
 * changed (nothing, on a second run). Each is safe to repeat and to run concurrently.
 */

/** Creates the database unless it exists. */
export async function ensureDb(nano: Nano.ServerScope, db: string): Promise<string[]> {
  try {
    await nano.db.create(db);
    return [`created ${db}`];
  } catch (err) {
    if (couchStatus(err) === 412) return [];
    throw cleanCouchError(err);
  }
}

/** Sets `_security` unless it already grants exactly `expected`. */
export async function ensureSecurity(
  nano: Nano.ServerScope,
  db: string,
  expected: Security,
): Promise<string[]> {
  try {
    const actual = await nano.request({ db, path: '_security' });
    if (sameSecurity(actual, expected)) return [];
    await nano.request({ db, path: '_security', method: 'PUT', body: expected });
    return [`set ${db}/_security`];
  } catch (err) {
    throw cleanCouchError(err);
  }
}

/**
 * Installs each design document unless the stored one is at the same version. The content is
 * re-hashed too, so a document edited by hand (same `version`, other code) is replaced.
 */
export async function ensureDesignDocs(
  nano: Nano.ServerScope,
  db: string,
  ddocs: readonly DesignDoc[],
): Promise<string[]> {
  const changes: string[] = [];
  const scope = nano.use(db);
  for (const ddoc of ddocs) {
    const { _id, ...content } = ddoc;
    const res = await upsert<Omit<DesignDoc, '_id'>>(scope, _id, (current) =>
      current && current.version === ddoc.version && designDocVersion(current) === ddoc.version
        ? false
        : content,
    );
    if (res.written) changes.push(`installed ${db}/${_id} ${ddoc.version.slice(0, 12)}`);
  }
  return changes;
}

/** Deletes the database; a missing one is fine. */
export async function dropDb(nano: Nano.ServerScope, db: string): Promise<string[]> {
  try {
    await nano.db.destroy(db);
    return [`deleted ${db}`];
  } catch (err) {
    if (couchStatus(err) === 404) return [];
    throw cleanCouchError(err);
  }
}
