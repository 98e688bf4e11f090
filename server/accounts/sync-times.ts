import type { UserStore } from './users.js';

type Direction = 'pull' | 'push';

/**
 * Records each user's last successful pull and push. The gateway calls `record` on every
 * sync request, far too often to write each time, so writes are coalesced: the first event
 * for a user is written at once, later ones wait until `intervalMs` has passed since the
 * last write, then go in one write carrying the latest times. The times written are when
 * the syncs happened, not when the write did.
 */
export class SyncTimes {
  private readonly pending = new Map<string, Partial<Record<Direction, string>>>();
  /** Users written within the interval: the timer that ends their cool-down. */
  private readonly cooling = new Map<string, NodeJS.Timeout>();
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly users: UserStore,
    private readonly intervalMs: number,
    private readonly onError: (err: unknown, name: string) => void,
  ) {}

  record(name: string, direction: Direction): void {
    const times = this.pending.get(name) ?? {};
    times[direction] = new Date().toISOString();
    this.pending.set(name, times);
    if (!this.cooling.has(name)) this.write(name);
  }

  private write(name: string): void {
    const times = this.pending.get(name);
    if (!times) return;
    this.pending.delete(name);
    const timer = setTimeout(() => {
      this.cooling.delete(name);
      this.write(name);
    }, this.intervalMs);
    timer.unref();
    this.cooling.set(name, timer);
    const done = this.save(name, times)
      .catch((err) => this.onError(err, name))
      .finally(() => this.inFlight.delete(done));
    this.inFlight.add(done);
  }

  private async save(name: string, times: Partial<Record<Direction, string>>): Promise<void> {
    const later = (a: string | null, b: string | undefined) => (b && (!a || b > a) ? b : a);
    await this.users.update(name, (doc) => {
      const last_pull_at = later(doc.last_pull_at, times.pull);
      const last_push_at = later(doc.last_push_at, times.push);
      if (last_pull_at === doc.last_pull_at && last_push_at === doc.last_push_at) return false;
      return { ...doc, last_pull_at, last_push_at };
    });
  }

  /**
   * Writes everything pending now, without waiting for the interval, and waits for all
   * writes (at close). Cool-downs restart from here; their timers do not keep the process up.
   */
  async flush(): Promise<void> {
    for (const name of [...this.pending.keys()]) {
      clearTimeout(this.cooling.get(name));
      this.cooling.delete(name);
      this.write(name);
    }
    await Promise.all([...this.inFlight]);
  }
}
