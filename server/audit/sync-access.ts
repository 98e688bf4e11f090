/**
 * Staff reading and writing other people's data through the sync gateway (a supervisor's
 * phone syncing a team database). A phone polls `_changes` and fetches documents all day:
 * an entry per request or per document would bury the log. Instead one entry opens a
 * window: the first successful request of one staff member to one database, for reading or
 * for writing, from one address and device, is recorded with the time; further requests
 * with the same key within `windowMs` are covered by it and write nothing. The next request
 * after the window writes the next entry. So the log says who touched which database, when
 * (to within the window), from where and whether they changed anything, at a cost of at most
 * one entry per key per window per instance.
 */
export interface SyncAccess {
  actor: string;
  roles: string[];
  db: string;
  access: 'read' | 'write';
  ip: string | null;
  device: string | null;
  /** The endpoint's route template of the request that opened the window. */
  route: string;
}

/** Windows kept in memory before the expired ones are dropped. */
const PRUNE_AT = 10_000;

export class SyncAccessWindows {
  private readonly opened = new Map<string, number>();

  constructor(
    private readonly windowMs: number,
    private readonly write: (access: SyncAccess, at: Date) => void,
    private readonly now: () => number = Date.now,
  ) {}

  /** Records the access unless a window for its key is open; true when it wrote an entry. */
  note(access: SyncAccess): boolean {
    const key = JSON.stringify([access.actor, access.db, access.access, access.ip, access.device]);
    const now = this.now();
    const since = this.opened.get(key);
    if (since !== undefined && now - since < this.windowMs) return false;
    if (this.opened.size >= PRUNE_AT) this.prune(now);
    this.opened.set(key, now);
    this.write(access, new Date(now));
    return true;
  }

  private prune(now: number): void {
    for (const [key, at] of this.opened) if (now - at >= this.windowMs) this.opened.delete(key);
  }
}
