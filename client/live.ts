import { backoffMs, sleep, type Platform } from './backoff.js';
import { SawaError } from './errors.js';
import type { LocalDb } from './local.js';
import { pull, type PullResult } from './pull.js';
import type { Session } from './session.js';
import type { SyncResult, SyncState } from './types.js';

/** A longpoll answered empty faster than this was not held by the server. */
const QUICK_EMPTY_MS = 1000;

export interface LiveDeps {
  round(): Promise<SyncResult>;
  dbs(): LocalDb[];
  session: Session;
  state(): SyncState;
  setState(state: SyncState, error?: Error): void;
  carry(db: string, pulled: PullResult): void;
  pushDelayMs: number;
}

/**
 * Live sync: a round, then a longpoll on every database until the server has a change or
 * the phone writes one, then another round. After a failed round, or a failed longpoll, it
 * waits with backoff and jitter (cut short when the platform says it is back online or the
 * phone writes); a signed-out session stops it.
 */
export class LiveSync {
  private readonly stopped = new AbortController();
  private wake: AbortController = new AbortController();
  private readonly cleanups: (() => void)[] = [];

  constructor(private readonly deps: LiveDeps) {}

  start(): void {
    const target = globalThis as Platform;
    const online = () => this.wake.abort();
    if (typeof target.addEventListener === 'function') {
      target.addEventListener('online', online);
      this.cleanups.push(() => target.removeEventListener?.('online', online));
    }
    void this.loop();
  }

  stop(): void {
    this.stopped.abort();
    this.wake.abort();
    for (const fn of this.cleanups.splice(0)) fn();
  }

  private watchLocal(): void {
    let timer: ReturnType<typeof setTimeout> | undefined;
    for (const local of this.deps.dbs()) {
      const feed = local.db.changes({ since: 'now', live: true });
      // Pulled documents show up here too; the round they trigger finds nothing to push
      // (the push checkpoint was seeded) and costs no request.
      feed.on('change', () => {
        clearTimeout(timer);
        timer = setTimeout(() => this.wake.abort(), this.deps.pushDelayMs);
      });
      this.cleanups.push(() => feed.cancel());
    }
    this.cleanups.push(() => clearTimeout(timer));
  }

  private async loop(): Promise<void> {
    this.watchLocal();
    // Rounds that failed in a row, and longpolls that failed in a row: either backs the loop
    // off, so an answer the phone cannot use (a 400, a proxy's error page) never spins it
    // from round to longpoll and back.
    let failures = 0;
    let pollFailures = 0;
    while (!this.stopped.signal.aborted) {
      this.wake = new AbortController();
      try {
        const result = await this.deps.round();
        failures = result.complete ? 0 : failures + 1;
      } catch (err) {
        if (err instanceof SawaError && err.code === 'signed-out') return this.stop();
        failures++;
      }
      if (this.stopped.signal.aborted) return;
      if (failures > 0) {
        await sleep(backoffMs(failures, 1000), this.wake.signal);
        continue;
      }
      if (await this.waitForChange()) {
        pollFailures = 0;
        continue;
      }
      pollFailures++;
      this.wake = new AbortController();
      await sleep(backoffMs(pollFailures, 1000), this.wake.signal);
    }
  }

  /**
   * Longpolls every database until one has pulled something, the phone wrote or came back
   * online (true), or a longpoll failed (false).
   */
  private async waitForChange(): Promise<boolean> {
    const wake = this.wake;
    let failed = false;
    const polls = this.deps.dbs().map(async (local) => {
      try {
        // An empty longpoll (the server's timeout) just asks again: no round in between. One
        // answered empty at once, again and again, is a server or proxy that does not hold
        // longpolls: asked again only after a backoff, never in a loop.
        for (let quick = 0; !wake.signal.aborted;) {
          const asked = Date.now();
          const got = await pull(this.deps.session, local, {
            longpoll: true,
            signal: wake.signal,
            attempts: 1,
          });
          if (got.pulled > 0) {
            this.deps.carry(local.name, got);
            wake.abort();
          } else if (Date.now() - asked < QUICK_EMPTY_MS) {
            quick++;
            if (quick > 1) await sleep(backoffMs(quick - 1, 1000), wake.signal);
          } else quick = 0;
        }
      } catch (err) {
        if (wake.signal.aborted) return;
        failed = true;
        if (err instanceof SawaError && err.code === 'signed-out') this.stop();
        else this.deps.setState('offline', err as Error);
        wake.abort();
      }
    });
    await Promise.all(polls);
    return !failed;
  }
}
