/**
 * Failed password attempts, counted per user name *and* client address. After `perMinute`
 * failures for a name from one address within a minute, that address may not try that
 * name again for a minute; each further block of the same pair lasts twice as long as the
 * one before, up to an hour, until a day passes without a failure or the right password is
 * given from there. Other addresses are untouched: whoever guesses at a name cannot keep
 * its owner from logging in elsewhere (a per-name limit let anyone do that).
 *
 * Kept in memory, per instance, like the per-address limit; bounded in size (the oldest pairs
 * are forgotten first). See docs/accounts.md, "Login limits".
 */

const WINDOW_MS = 60_000;
const FIRST_BLOCK_MS = 60_000;
const MAX_BLOCK_MS = 3_600_000;
const FORGET_AFTER_MS = 86_400_000;
const MAX_PAIRS = 100_000;

interface Pair {
  windowStart: number;
  failures: number;
  /** Blocks so far: the next lasts FIRST_BLOCK_MS × 2^strikes. */
  strikes: number;
  blockedUntil: number;
  lastFailure: number;
}

export interface ThrottleOptions {
  perMinute: number;
  /** The clock, injectable for tests. */
  now?: () => number;
  maxPairs?: number;
}

export class LoginThrottle {
  private readonly pairs = new Map<string, Pair>();
  private readonly now: () => number;
  private readonly maxPairs: number;

  constructor(private readonly opts: ThrottleOptions) {
    this.now = opts.now ?? Date.now;
    this.maxPairs = opts.maxPairs ?? MAX_PAIRS;
  }

  private key(name: string, address: string): string {
    return `${address}\u0000${name}`;
  }

  /** Seconds `address` must wait before trying `name` again; 0 when it may try now. */
  wait(name: string, address: string): number {
    const pair = this.pairs.get(this.key(name, address));
    const left = pair ? pair.blockedUntil - this.now() : 0;
    return left > 0 ? Math.ceil(left / 1000) : 0;
  }

  /** A wrong password for `name` from `address`. */
  failed(name: string, address: string): void {
    const key = this.key(name, address);
    const now = this.now();
    let pair = this.pairs.get(key);
    if (!pair || now - pair.lastFailure > FORGET_AFTER_MS) {
      pair = { windowStart: now, failures: 0, strikes: 0, blockedUntil: 0, lastFailure: now };
    }
    if (now - pair.windowStart >= WINDOW_MS) {
      pair.windowStart = now;
      pair.failures = 0;
    }
    pair.failures += 1;
    pair.lastFailure = now;
    if (pair.failures >= this.opts.perMinute) {
      pair.blockedUntil = now + Math.min(MAX_BLOCK_MS, FIRST_BLOCK_MS * 2 ** pair.strikes);
      pair.strikes += 1;
      pair.failures = 0;
      pair.windowStart = now;
    }
    // Re-inserting keeps the Map in least-recently-failed order, so eviction drops the stalest.
    this.pairs.delete(key);
    this.pairs.set(key, pair);
    if (this.pairs.size > this.maxPairs) {
      this.pairs.delete(this.pairs.keys().next().value as string);
    }
  }

  /** The right password from `address`: its count for `name` starts again. */
  succeeded(name: string, address: string): void {
    this.pairs.delete(this.key(name, address));
  }
}
