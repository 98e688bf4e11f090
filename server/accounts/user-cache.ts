import type Nano from 'nano';
import { followChanges, type Follower } from '../couch/feed-follow.js';
import type { Stored } from '../couch/upsert.js';
import { authState, USER_PREFIX, userDocId, type UserDoc } from './records.js';

type Read = (name: string) => Promise<Stored<UserDoc> | null>;

/**
 * Told of a record that may admit other tokens or rights now: its id and the version the
 * accounts feed brought (null: deleted), or `undefined` when only a read can tell (a write by
 * this process). A null id: any record may have changed (the feed was lost).
 */
export type UserChangeListener = (id: string | null, doc?: Stored<UserDoc> | null) => void;

/**
 * The user records `requireUser` reads on every request, kept for the next one (least
 * recently used out past `size`). Correctness over hits: an entry is dropped as soon as
 * the accounts database's `_changes` names it (a disable, a role change, a password reset
 * on any instance) and at once when this process writes the record; while the feed is not
 * live (start-up, CouchDB away) nothing is cached or served from the cache. A read that
 * started before an invalidation is not cached.
 *
 * The feed carries each changed record (`include_docs`). A version that leaves everything
 * `requireUser` reads as the entry has it (`authState`: a sync-time write) keeps the entry
 * and tells nobody: it admits the same tokens with the same rights.
 */
export class UserCache {
  private readonly entries = new Map<string, Stored<UserDoc> | null>();
  /** Reads in flight: a read is cached only if its token is still here when it answers. */
  private readonly reading = new Map<string, object>();
  private follower: Follower | null = null;
  /** Told of every record dropped (null: all of them): the gateway's waiting phones. */
  private readonly listeners = new Set<UserChangeListener>();
  /** Records the feed named (tests count them to know a write was heard). */
  heard = 0;

  constructor(
    private readonly size: number,
    private readonly read: Read,
  ) {}

  /** Starts following `db`'s changes; until then (and after stop) every read goes through. */
  follow(nano: Nano.ServerScope, db: string, log: { warn(obj: object, msg: string): void }) {
    this.follower ??= followChanges(
      nano,
      db,
      {
        changes: (rows) => {
          for (const row of rows) {
            if (!row.id.startsWith(USER_PREFIX)) continue;
            this.heard++;
            const doc = row.deleted || !row.doc ? null : (row.doc as Stored<UserDoc>);
            this.changed(row.id, doc);
          }
        },
        gap: () => this.clear(),
      },
      log,
      { includeDocs: true },
    );
  }

  stop(): void {
    this.follower?.stop();
    this.follower = null;
    this.clear();
  }

  async get(name: string): Promise<Stored<UserDoc> | null> {
    const id = userDocId(name);
    if (!this.follower?.live) return this.read(name);
    if (this.entries.has(id)) {
      const doc = this.entries.get(id) as Stored<UserDoc> | null;
      this.entries.delete(id);
      this.entries.set(id, doc);
      return doc;
    }
    const token = {};
    this.reading.set(id, token);
    const doc = await this.read(name);
    if (this.reading.get(id) === token) {
      this.reading.delete(id);
      if (this.follower?.live) this.remember(id, doc);
    }
    return doc;
  }

  /** Drops what is known of `name`: called after this process writes the record. */
  invalidate(name: string): void {
    this.invalidateId(userDocId(name));
  }

  /** True while the accounts database's changes are followed: a change will be heard. */
  get live(): boolean {
    return this.follower?.live ?? false;
  }

  /** Calls `listener` with each record dropped (see UserChangeListener). */
  watch(listener: UserChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Whether `name`'s record is kept now. */
  has(name: string): boolean {
    return this.entries.has(userDocId(name));
  }

  get cached(): number {
    return this.entries.size;
  }

  /** The feed's version of a record: keeps the entry if it admits the same as before. */
  private changed(id: string, doc: Stored<UserDoc> | null): void {
    const entry = this.entries.get(id);
    if (entry !== undefined && authState(entry) === authState(doc)) return;
    this.invalidateId(id, doc);
  }

  private invalidateId(id: string, doc?: Stored<UserDoc> | null): void {
    this.entries.delete(id);
    this.reading.delete(id);
    for (const listener of this.listeners) listener(id, doc);
  }

  private clear(): void {
    this.entries.clear();
    this.reading.clear();
    for (const listener of this.listeners) listener(null);
  }

  private remember(id: string, doc: Stored<UserDoc> | null): void {
    this.entries.set(id, doc);
    while (this.entries.size > this.size) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }
}
