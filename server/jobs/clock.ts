import cron from 'node-cron';
import type { FastifyBaseLogger } from 'fastify';

/**
 * Time as the scheduler sees it: the current time, cron ticks and a repeating timer. The
 * service uses the system clock (node-cron); tests pass one they move by hand, so a test of
 * ticks, leases and expiry takes no real seconds.
 */
export interface Clock {
  now(): number;
  /** Calls `onTick` with each scheduled time of the cron expression until stopped. */
  cron(expression: string, name: string, onTick: (at: Date) => unknown): Stoppable;
  /** Calls `fn` every `ms` until stopped. */
  every(ms: number, fn: () => unknown): Stoppable;
}

export interface Stoppable {
  stop(): void | Promise<void>;
}

export function systemClock(log: FastifyBaseLogger): Clock {
  const cronLog = log.child({ component: 'node-cron' });
  return {
    now: () => Date.now(),
    cron(expression, name, onTick) {
      const task = cron.schedule(expression, (ctx) => void onTick(ctx.date), {
        name,
        logger: {
          info: (m) => cronLog.info(m),
          warn: (m) => cronLog.warn(m),
          error: (m) => cronLog.error(String(m)),
          debug: (m) => cronLog.debug(String(m)),
        },
      });
      return { stop: async () => void (await task.destroy()) };
    },
    every(ms, fn) {
      const timer = setInterval(() => void fn(), ms);
      timer.unref();
      return { stop: () => clearInterval(timer) };
    },
  };
}
