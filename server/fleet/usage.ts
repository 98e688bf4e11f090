import type Nano from 'nano';
import { cleanCouchError, couchStatus } from '../errors.js';
import { ensureDb } from '../provisioning/steps.js';
import { upsert } from '../couch/upsert.js';

/**
 * Each user's use of the sync service per UTC day, kept in CouchDB so that `GET
 * /admin/sync-health` can say what the last 7 days cost, whatever instance served them and
 * across restarts: bytes on the wire in and out (the metering of server/metrics/wire.ts) and
 * writes the gateway refused under the sync rules. Counts gather in memory and go to one
 * document per user (`usage:<name>` in JOBS_DB) every `intervalMs`, added to what is there
 * (so instances add up), keeping the last `DAYS_KEPT` days: a bounded document per user and at
 * most one write per active user per interval. Reads add this instance's unwritten counts.
 */
export interface DayUsage {
  in: number;
  out: number;
  rejected: number;
}

interface UsageDoc {
  type: 'usage';
  user: string;
  /** UTC day (YYYY-MM-DD) → counts. */
  days: Record<string, DayUsage>;
}

/** What sync health shows: the window's totals. */
export interface RecentUsage {
  bytes_in: number;
  bytes_out: number;
  rejected: number;
}

export const WINDOW_DAYS = 7;
const DAYS_KEPT = WINDOW_DAYS + 1;
const DAY = 86_400_000;

export const usageId = (user: string) => `usage:${user}`;
const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);

export class UsageMeter {
  private pending = new Map<string, Record<string, DayUsage>>();
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly nano: Nano.ServerScope,
    private readonly db: string,
    private readonly intervalMs: number,
    private readonly onError: (err: unknown) => void,
    private readonly now: () => number = Date.now,
  ) {}

  add(user: string, counts: Partial<DayUsage>): void {
    const days = this.pending.get(user) ?? {};
    const day = (days[dayOf(this.now())] ??= { in: 0, out: 0, rejected: 0 });
    day.in += counts.in ?? 0;
    day.out += counts.out ?? 0;
    day.rejected += counts.rejected ?? 0;
    this.pending.set(user, days);
    if (!this.timer) {
      this.timer = setTimeout(() => void this.flush().catch(this.onError), this.intervalMs);
      this.timer.unref();
    }
  }

  /** Writes what gathered; one flush at a time. A failed user's counts wait for the next. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const batch = this.pending;
    this.pending = new Map();
    this.writing = this.writing.then(() => this.write(batch));
    return this.writing;
  }

  private async write(batch: Map<string, Record<string, DayUsage>>): Promise<void> {
    if (!batch.size) return;
    await ensureDb(this.nano, this.db);
    const db = this.nano.use(this.db);
    const oldest = dayOf(this.now() - (DAYS_KEPT - 1) * DAY);
    let failure: unknown = null;
    for (const [user, days] of batch) {
      try {
        await upsert<UsageDoc>(db, usageId(user), (cur) => {
          const merged: Record<string, DayUsage> = {};
          for (const source of [cur?.days ?? {}, days]) {
            for (const [day, c] of Object.entries(source)) {
              if (day < oldest) continue;
              const m = (merged[day] ??= { in: 0, out: 0, rejected: 0 });
              m.in += c.in;
              m.out += c.out;
              m.rejected += c.rejected;
            }
          }
          return { type: 'usage', user, days: merged };
        });
      } catch (err) {
        failure = err;
        for (const [day, c] of Object.entries(days)) this.addDay(user, day, c);
      }
    }
    if (failure) throw failure;
  }

  private addDay(user: string, day: string, c: DayUsage): void {
    const days = this.pending.get(user) ?? {};
    const m = (days[day] ??= { in: 0, out: 0, rejected: 0 });
    m.in += c.in;
    m.out += c.out;
    m.rejected += c.rejected;
    this.pending.set(user, days);
  }

  /** The last `WINDOW_DAYS` days (today included) of each user: stored plus unwritten. */
  async recent(users: string[]): Promise<Map<string, RecentUsage>> {
    const first = dayOf(this.now() - (WINDOW_DAYS - 1) * DAY);
    const out = new Map<string, RecentUsage>();
    const add = (user: string, days: Record<string, DayUsage>) => {
      const r = out.get(user) ?? { bytes_in: 0, bytes_out: 0, rejected: 0 };
      for (const [day, c] of Object.entries(days)) {
        if (day < first) continue;
        r.bytes_in += c.in;
        r.bytes_out += c.out;
        r.rejected += c.rejected;
      }
      out.set(user, r);
    };
    for (const user of users) add(user, {});
    if (users.length) {
      try {
        const res = await this.nano.use(this.db).fetch({ keys: users.map(usageId) });
        for (const row of res.rows) {
          const doc = 'doc' in row ? (row.doc as unknown as UsageDoc | null) : null;
          if (doc?.type === 'usage') add(doc.user, doc.days);
        }
      } catch (err) {
        if (couchStatus(err) !== 404) throw cleanCouchError(err);
      }
    }
    for (const user of users) {
      const days = this.pending.get(user);
      if (days) add(user, days);
    }
    return out;
  }

  close(): Promise<void> {
    return this.flush();
  }
}
