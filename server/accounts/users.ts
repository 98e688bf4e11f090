import type Nano from 'nano';
import { cleanCouchError, couchStatus, UserNotFound, UsernameTaken } from '../errors.js';
import { getDoc, upsert, type Stored } from '../couch/upsert.js';
import { authState, USER_PREFIX, userDocId, type UserDoc } from './records.js';
import { UserCache } from './user-cache.js';

/** Tries of one record in `updateMany` before it counts as not written. */
const MAX_ATTEMPTS = 10;

/** User records in the accounts database. Every change goes through the one upsert. */
export class UserStore {
  private readonly db: Nano.DocumentScope<unknown>;
  /** USER_CACHE_SIZE: the records requireUser reads, kept until their next change. */
  readonly cache: UserCache;

  constructor(
    private readonly nano: Nano.ServerScope,
    private readonly dbName: string,
    cacheSize = 0,
  ) {
    this.db = nano.use(dbName);
    this.cache = new UserCache(cacheSize, (name) => this.get(name));
  }

  /** The record as requireUser needs it: from the cache when the cache is following changes. */
  forAuth(name: string): Promise<Stored<UserDoc> | null> {
    return this.cache.get(name);
  }

  /**
   * Starts the cache's changes follower, even with a size of 0 (nothing kept): the gateway's
   * waiting phones are re-checked when their record changes.
   */
  followChanges(log: { warn(obj: object, msg: string): void }): void {
    this.cache.follow(this.nano, this.dbName, log);
  }

  get(name: string): Promise<Stored<UserDoc> | null> {
    return getDoc<UserDoc>(this.db, userDocId(name));
  }

  /** Creates the record; UsernameTaken when the name exists (or is still being deleted). */
  async create(doc: UserDoc): Promise<Stored<UserDoc>> {
    const res = await upsert<UserDoc>(this.db, userDocId(doc.name), (current) => {
      if (current) throw new UsernameTaken(JSON.stringify(doc.name));
      return doc;
    });
    this.cache.invalidate(doc.name);
    return res.doc as Stored<UserDoc>;
  }

  /**
   * Applies `change` to the current record (false: leave it); UserNotFound when absent. A
   * change to what `requireUser` reads drops the cache entry at once (the admin's disable
   * refuses the very next request); any other (a password re-hash) is left to the feed,
   * which keeps the entry.
   */
  async update(
    name: string,
    change: (doc: Stored<UserDoc>) => UserDoc | false,
  ): Promise<Stored<UserDoc>> {
    let before: Stored<UserDoc> | null = null;
    const res = await upsert<UserDoc>(this.db, userDocId(name), (current) => {
      if (!current) throw new UserNotFound(JSON.stringify(name));
      before = current;
      const next = change(current);
      if (next === false) return false;
      const { _id: _ignoredId, _rev: _ignoredRev, ...fields } = next as Stored<UserDoc>;
      return { ...fields, updated_at: new Date().toISOString() };
    });
    if (res.written && authState(before) !== authState(res.doc)) this.cache.invalidate(name);
    return res.doc as Stored<UserDoc>;
  }

  /**
   * Applies `change` to many records in one `_all_docs` read and one `_bulk_docs`; a record
   * written meanwhile (409) is read and decided again. Absent records are skipped. Only for
   * changes that leave alone everything `requireUser` reads (`authState`; anything else
   * throws), so no cache entry is dropped and no waiting phone re-checked: the sync times.
   * Returns the names that could not be written.
   */
  async updateMany(
    names: string[],
    change: (doc: Stored<UserDoc>) => UserDoc | false,
  ): Promise<string[]> {
    let ids = names.map(userDocId);
    const failed: string[] = [];
    for (let attempt = 1; ids.length; attempt++) {
      let rows: Array<{ doc?: Stored<UserDoc> | null }>;
      let results: Array<{ id: string; error?: string }>;
      const docs: Array<Stored<UserDoc>> = [];
      try {
        rows = (await this.db.fetch({ keys: ids })).rows as typeof rows;
        for (const { doc } of rows) {
          if (doc?.type !== 'user') continue;
          const next = change(doc);
          if (next === false) continue;
          if (authState(next) !== authState(doc)) throw new Error('updateMany changed access');
          docs.push({
            ...next,
            _id: doc._id,
            _rev: doc._rev,
            updated_at: new Date().toISOString(),
          });
        }
        if (!docs.length) break;
        results = (await this.db.bulk({ docs })) as typeof results;
      } catch (err) {
        throw cleanCouchError(err);
      }
      ids = [];
      for (const r of results) {
        if (r.error === 'conflict' && attempt < MAX_ATTEMPTS) ids.push(r.id);
        else if (r.error) failed.push(r.id.slice(USER_PREFIX.length));
      }
    }
    return failed;
  }

  /**
   * Removes the record for good: deleted, then purged, so the name (often a phone number,
   * personal data) does not linger in a tombstone's id.
   */
  async remove(name: string): Promise<void> {
    const id = userDocId(name);
    const res = await upsert<UserDoc & { _deleted?: boolean }>(this.db, id, (current) =>
      current ? { ...current, _deleted: true } : false,
    );
    this.cache.invalidate(name);
    if (!res.written || !res.doc) return;
    try {
      await this.nano.request({
        db: this.dbName,
        path: '_purge',
        method: 'POST',
        body: { [id]: [res.doc._rev] },
      });
    } catch (err) {
      // A CouchDB without purge (or a cluster refusing it) still has the user deleted.
      if (couchStatus(err) !== 501) throw cleanCouchError(err);
    }
  }

  /** Every user record in name order, fetched `batch` at a time, starting after `after`. */
  async *scan(opts: { after?: string; batch?: number } = {}): AsyncGenerator<Stored<UserDoc>> {
    const batch = opts.batch ?? 200;
    let startkey = opts.after === undefined ? USER_PREFIX : userDocId(opts.after) + '\u0000';
    for (;;) {
      let rows: Array<{ doc?: unknown }>;
      try {
        const res = await this.db.list({
          startkey,
          endkey: USER_PREFIX + '\ufff0',
          include_docs: true,
          limit: batch,
        });
        rows = res.rows;
      } catch (err) {
        throw cleanCouchError(err);
      }
      for (const row of rows) {
        const doc = row.doc as Stored<UserDoc> | undefined;
        if (doc?.type === 'user') yield doc;
      }
      if (rows.length < batch) return;
      const last = rows.at(-1)?.doc as Stored<UserDoc>;
      startkey = last._id + '\u0000';
    }
  }
}
