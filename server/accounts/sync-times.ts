import type { UserStore } from './users.js';

type Direction = 'pull' | 'push';
type Times = Partial<Record<Direction, string>>;

/** How long a user's first sync waits for others to share its write. */
export const SYNC_TIMES_BATCH_MS = 1000;

/**
 * Records each user's last successful pull and push. The gateway calls `record` on every
 * sync request, far too often to write each time, so writes are coalesced: a user's first
 * event is written within `batchMs`, in one `_bulk_docs` with every other user's due then (a
 * fleet opening the app at once is a few writes, not one per phone); later ones wait until
 * `intervalMs` has passed since that user's last write, then go in the next batch carrying
 * the latest times. The times written are when the syncs happened, not when the write did.
 * A batch that fails keeps its times for the next (a time is never lost while the process
 * runs). Writing the times changes nothing `requireUser` reads: no user cache entry is
 * dropped and no waiting phone is re-checked (UserStore.updateMany).
 */
export class SyncTimes {
  private readonly pending = new Map<string, Times>();
  /** Users written within the interval: the timer that ends their cool-down. */
  private readonly cooling = new Map<string, NodeJS.Timeout>();
  /** Users whose times go in the next batch. */
  private readonly due = new Set<string>();
  private batch: NodeJS.Timeout | undefined;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly users: UserStore,
    private readonly intervalMs: number,
    private readonly onError: (err: unknown, names: string[]) => void,
    private readonly batchMs = SYNC_TIMES_BATCH_MS,
  ) {}

  record(name: string, direction: Direction): void {
    this.keep(name, { [direction]: new Date().toISOString() });
    if (!this.cooling.has(name)) this.enqueue(name);
  }

  /** Merges `times` into what is pending for `name`, the later of each. */
  private keep(name: string, times: Times): void {
    const held = this.pending.get(name) ?? {};
    for (const dir of ['pull', 'push'] as const) held[dir] = later(held[dir], times[dir]);
    this.pending.set(name, held);
  }

  private enqueue(name: string): void {
    this.due.add(name);
    if (this.batch) return;
    this.batch = setTimeout(() => this.writeDue(), this.batchMs);
    this.batch.unref();
  }

  private writeDue(): void {
    clearTimeout(this.batch);
    this.batch = undefined;
    const batch = new Map<string, Times>();
    for (const name of this.due) {
      const times = this.pending.get(name);
      if (!times) continue;
      this.pending.delete(name);
      batch.set(name, times);
      this.coolDown(name);
    }
    this.due.clear();
    if (!batch.size) return;
    const done = this.save(batch).finally(() => this.inFlight.delete(done));
    this.inFlight.add(done);
  }

  /** No write for `name` until `intervalMs` from now; what came meanwhile goes then. */
  private coolDown(name: string): void {
    clearTimeout(this.cooling.get(name));
    const timer = setTimeout(() => {
      this.cooling.delete(name);
      if (this.pending.has(name)) this.enqueue(name);
    }, this.intervalMs);
    timer.unref();
    this.cooling.set(name, timer);
  }

  private async save(batch: Map<string, Times>): Promise<void> {
    let failed: string[];
    try {
      failed = await this.users.updateMany([...batch.keys()], (doc) => {
        const times = batch.get(doc.name);
        const last_pull_at = later(doc.last_pull_at, times?.pull) ?? null;
        const last_push_at = later(doc.last_push_at, times?.push) ?? null;
        if (last_pull_at === doc.last_pull_at && last_push_at === doc.last_push_at) return false;
        return { ...doc, last_pull_at, last_push_at };
      });
      if (failed.length) this.onError(new Error('written by others too often'), failed);
    } catch (err) {
      failed = [...batch.keys()];
      this.onError(err, failed);
    }
    // Kept for the user's next write, when their cool-down ends.
    for (const name of failed) this.keep(name, batch.get(name) ?? {});
  }

  /**
   * Writes everything pending now, without waiting for the batch or the interval, and waits
   * for all writes (at close). Cool-downs restart from here; their timers do not keep the
   * process up.
   */
  async flush(): Promise<void> {
    for (const name of this.pending.keys()) this.due.add(name);
    this.writeDue();
    await Promise.all([...this.inFlight]);
  }
}

/** The later of two ISO times (either may be missing). */
function later(a: string | null | undefined, b: string | undefined): string | undefined {
  if (!b) return a ?? undefined;
  return !a || b > a ? b : a;
}
