import type Nano from 'nano';
import { withRequestSignal } from '../util/request-signal.js';
import type { UserChanges } from '../accounts/types.js';
import type { UserDoc } from '../accounts/records.js';
import type { Stored } from '../couch/upsert.js';
import { couchStatus } from '../errors.js';

/**
 * One feed of database updates for the whole process, so a phone waiting on a longpoll
 * `_changes` costs the gateway a socket and a few objects instead of an upstream request:
 * the hub follows `_db_updates` (CouchDB's `_global_changes`, or the embedded store's), from
 * the end it found at start-up and then from each `last_seq` it saw, and wakes the waiters of
 * every database it names. Waking is only a hint (read again): the phone's answer always
 * comes from its own `_changes` read, as its user, with its own query.
 *
 * While the feed is not current (start-up, CouchDB away, an error, no `_global_changes`) the
 * hub is not `live`, every waiter is told it was `lost` (it answers what it has, so its
 * phone asks again), and the gateway forwards longpolls as before.
 */

export interface Waiter {
  readonly db: string;
  /** The user, as the accounts database's record id names them. */
  readonly userId: string;
  /** Its database was written (or deleted). */
  changed(): void;
  /** The hub stopped being current: notices may have been missed. */
  lost(): void;
  /**
   * Its user's record changed in what it admits: check the access decision again, against
   * `doc` (the version the accounts feed brought; null: deleted) or, when undefined, a read.
   */
  userChanged(doc?: Stored<UserDoc> | null): void;
}

interface DbUpdatesAnswer {
  results?: Array<{ db_name?: string }>;
  last_seq: string | number;
}

const LONGPOLL_MS = 55_000;
/**
 * Parked phones' reads go upstream at most this many at a time: a write to every database at
 * once, or 10,000 phones arriving, must not open a connection (and a database) per phone.
 */
const MAX_WAKE_READS = 32;
const MAX_BACKOFF_MS = 30_000;
/** Answers remembered for the phones' next longpolls (each is taken by that longpoll). */
const MAX_ANSWERED = 100_000;
/** Without `_global_changes`: look again now and then (an operator may create it). */
const ABSENT_RETRY_MS = 5 * 60_000;

export class ChangeHub {
  private readonly byDb = new Map<string, Set<Waiter>>();
  private readonly byUser = new Map<string, Set<Waiter>>();
  private readonly abort = new AbortController();
  private feedLive = false;
  private started = false;
  private unwatch: () => void = () => undefined;
  /** Upstream `_db_updates` requests made (tests and the benchmark count them). */
  requests = 0;
  private wakeReads = 0;
  private readonly wakeQueue: Array<() => Promise<void>> = [];
  /** Per database, the count of the last notice that named it (see `stamp`). */
  private readonly lastNotice = new Map<string, number>();
  private notices = 0;
  /** Answers with nothing pending, by phone query (see `remember`). */
  private readonly answered = new Map<string, { lastSeq: unknown; stamp: number }>();

  constructor(
    private readonly nano: Nano.ServerScope,
    private readonly users: UserChanges,
    private readonly log: {
      warn(obj: object, msg: string): void;
      info(obj: object, msg: string): void;
    },
  ) {}

  /** True while both the database-updates feed and the accounts feed are current. */
  get live(): boolean {
    return this.feedLive && this.users.live && !this.abort.signal.aborted;
  }

  get waiting(): number {
    let n = 0;
    for (const set of this.byDb.values()) n += set.size;
    return n;
  }

  /** Phones' reads running or waiting for a slot (tests wait for them to settle). */
  get reading(): number {
    return this.wakeReads + this.wakeQueue.length;
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.unwatch = this.users.watch((id, doc) => {
      if (id === null) return this.loseAll();
      for (const w of [...(this.byUser.get(id) ?? [])]) w.userChanged(doc);
    });
    void this.follow();
  }

  stop(): void {
    this.abort.abort();
    this.unwatch();
    this.loseAll();
  }

  /** Registers `w` until the returned function is called. */
  add(w: Waiter): () => void {
    setAdd(this.byDb, w.db, w);
    setAdd(this.byUser, w.userId, w);
    return () => {
      setDelete(this.byDb, w.db, w);
      setDelete(this.byUser, w.userId, w);
    };
  }

  /** Runs a parked phone's read when one of the MAX_WAKE_READS slots is free. */
  wakeRead(read: () => Promise<void>): void {
    if (this.wakeReads >= MAX_WAKE_READS) {
      this.wakeQueue.push(read);
      return;
    }
    this.wakeReads++;
    void read().finally(() => {
      this.wakeReads--;
      const next = this.wakeQueue.shift();
      if (next) this.wakeRead(next);
    });
  }

  /** Which notice last named `db`: a read taken now holds until this moves. */
  stamp(db: string): number {
    return this.lastNotice.get(db) ?? 0;
  }

  /**
   * A phone was answered with changes and nothing pending, from a read begun at `stamp`. Its
   * next longpoll, from that answer's `last_seq`, may park without a read of its own as long
   * as no notice has named the database since: nothing was written after the read (a write
   * whose notice is still on its way wakes the parked phone, as for any parked phone). That
   * read was one request to CouchDB in three for every change delivered.
   */
  remember(key: string, lastSeq: unknown, stamp: number): void {
    if (!this.live) return;
    this.answered.delete(key);
    this.answered.set(key, { lastSeq, stamp });
    if (this.answered.size > MAX_ANSWERED) {
      this.answered.delete(this.answered.keys().next().value as string);
    }
  }

  /**
   * Whether a longpoll from `since` can park at once (see `remember`): the remembered
   * `last_seq` as CouchDB wrote it, else undefined. Forgets the answer either way.
   */
  recall(key: string, db: string, since: string | null): unknown {
    const got = this.answered.get(key);
    if (!got) return undefined;
    this.answered.delete(key);
    const same = since !== null && seqText(got.lastSeq) === since;
    return this.live && same && got.stamp === this.stamp(db) ? got.lastSeq : undefined;
  }

  private loseAll(): void {
    this.answered.clear();
    for (const set of [...this.byDb.values()]) for (const w of [...set]) w.lost();
  }

  private notify(names: Iterable<string>): void {
    for (const db of new Set(names)) {
      this.lastNotice.set(db, ++this.notices);
      for (const w of [...(this.byDb.get(db) ?? [])]) w.changed();
    }
  }

  private async ask(qs: Record<string, string | number>): Promise<DbUpdatesAnswer> {
    this.requests++;
    return withRequestSignal(
      this.abort.signal,
      (signal) =>
        this.nano.request({ path: '_db_updates', qs, signal } as never) as Promise<DbUpdatesAnswer>,
    );
  }

  private async follow(): Promise<void> {
    let since: string | number | null = null;
    let backoff = 1000;
    let absentLogged = false;
    while (!this.abort.signal.aborted) {
      try {
        // Start at the end; after a failure catch up at once from the same sequence.
        const res: DbUpdatesAnswer =
          since === null
            ? await this.ask({ since: 'now' })
            : await this.ask(
                this.feedLive ? { feed: 'longpoll', since, timeout: LONGPOLL_MS } : { since },
              );
        // A connection cut mid-answer can come back as an empty body, not as an error.
        if (res?.last_seq === undefined) throw new Error('_db_updates answered without last_seq');
        if (since !== null) this.notify((res.results ?? []).flatMap((r) => r.db_name ?? []));
        since = res.last_seq;
        if (!this.feedLive) this.log.info({}, 'change hub following _db_updates');
        this.feedLive = true;
        backoff = 1000;
      } catch (err) {
        if (this.abort.signal.aborted) return;
        const wasLive = this.feedLive;
        this.feedLive = false;
        this.loseAll();
        if (couchStatus(err) === 404) {
          // CouchDB without `_global_changes`: longpolls are forwarded one by one, as before.
          if (!absentLogged) {
            this.log.warn(
              {},
              '_db_updates answered 404 (no _global_changes database): each waiting phone keeps its own longpoll to CouchDB',
            );
            absentLogged = true;
          }
          since = null;
          await pause(ABSENT_RETRY_MS);
          continue;
        }
        if (wasLive) this.log.warn({ err: String(err) }, 'lost _db_updates; retrying');
        await pause(backoff);
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
      }
    }
  }
}

/** A `last_seq` as the next request's `since` carries it. */
export const seqText = (seq: unknown): string =>
  typeof seq === 'string' ? seq : JSON.stringify(seq);

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms).unref());

function setAdd<K, V>(map: Map<K, Set<V>>, key: K, value: V): void {
  const set = map.get(key);
  if (set) set.add(value);
  else map.set(key, new Set([value]));
}

function setDelete<K, V>(map: Map<K, Set<V>>, key: K, value: V): void {
  const set = map.get(key);
  if (!set) return;
  set.delete(value);
  if (set.size === 0) map.delete(key);
}
