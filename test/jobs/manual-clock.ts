import type { Clock } from '../../server/jobs/clock.js';

/**
 * A clock a test moves by hand: `tick(at)` fires the cron tasks as their scheduled time `at`
 * comes (every task: a test schedules only the jobs it fires) and resolves once their runs
 * end; `advance(ms)` moves the time and fires repeating timers that came due.
 */
export interface ManualClock extends Clock {
  tick(at: Date): Promise<void>;
  advance(ms: number): Promise<void>;
  set(at: number): void;
}

export function manualClock(start = Date.parse('2026-12-01T08:00:00Z')): ManualClock {
  let now = start;
  const crons = new Set<(at: Date) => unknown>();
  const timers = new Set<{ every: number; next: number; fn: () => unknown }>();
  return {
    now: () => now,
    cron(_expression, _name, onTick) {
      crons.add(onTick);
      return { stop: () => void crons.delete(onTick) };
    },
    every(ms, fn) {
      const timer = { every: ms, next: now + ms, fn };
      timers.add(timer);
      return { stop: () => void timers.delete(timer) };
    },
    async tick(at) {
      now = Math.max(now, at.getTime());
      await Promise.all([...crons].map((fire) => fire(at)));
    },
    async advance(ms) {
      now += ms;
      for (const timer of timers) {
        while (timer.next <= now && timers.has(timer)) {
          timer.next += timer.every;
          await timer.fn();
        }
      }
    },
    set(at) {
      now = at;
    },
  };
}
