import type { UserChanges } from '../accounts/types.js';

/**
 * What the gateway hears of user records that may now admit other tokens or rights (a
 * disable, a password change, roles, teams; accounts/types.ts `UserChanges`), for the
 * requests its token check does not cover on its own:
 *
 * - a stamp taken before a request's token check tells, once the request is registered to
 *   hear such changes, whether one came in between and reached no one (`changedSince`);
 * - a feed forwarded to CouchDB (continuous, eventsource, a longpoll the hub does not hold)
 *   carries the user's roles as they were when it began, so it is ended when its user's
 *   record changes, or when the accounts feed is lost; the phone reconnects and is checked
 *   again (`endOnChange`).
 */
export class UserNotices {
  private count = 0;
  /** The count of the last change per user id (`user:…`). */
  private readonly last = new Map<string, number>();
  /** The count when the accounts feed was last lost: any record may have changed. */
  private lostAt = 0;
  private readonly feeds = new Map<string, Set<() => void>>();
  private unwatch: () => void = () => undefined;

  constructor(private readonly users: UserChanges) {}

  start(): void {
    this.unwatch = this.users.watch((id) => this.heard(id));
  }

  stop(): void {
    this.unwatch();
    this.unwatch = () => undefined;
  }

  stamp(): number {
    return this.count;
  }

  changedSince(userId: string, stamp: number): boolean {
    return Math.max(this.last.get(userId) ?? 0, this.lostAt) > stamp;
  }

  /**
   * Calls `end` when the user's record changes after `stamp` (at once if it already has),
   * until the returned function is called.
   */
  endOnChange(userId: string, stamp: number, end: () => void): () => void {
    if (this.changedSince(userId, stamp)) {
      end();
      return () => undefined;
    }
    let set = this.feeds.get(userId);
    if (!set) this.feeds.set(userId, (set = new Set()));
    set.add(end);
    return () => {
      set.delete(end);
      if (set.size === 0 && this.feeds.get(userId) === set) this.feeds.delete(userId);
    };
  }

  private heard(id: string | null): void {
    this.count++;
    const ended = id === null ? [...this.feeds.values()] : [this.feeds.get(id) ?? new Set()];
    if (id === null) {
      this.lostAt = this.count;
      this.feeds.clear();
    } else {
      this.last.set(id, this.count);
      this.feeds.delete(id);
    }
    for (const set of ended) for (const end of set) end();
  }
}
