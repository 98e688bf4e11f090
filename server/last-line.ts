import type { FastifyBaseLogger } from 'fastify';

/** The events close-with-grace must leave to `keepServing`. */
export const STRAY_ERROR_EVENTS: ('uncaughtException' | 'unhandledRejection')[] = [
  'uncaughtException',
  'unhandledRejection',
];

/**
 * The last line, not the fix: every request has its own error path, and a bad input that
 * escaped one (a throw in a library callback, a promise nobody awaited) is a bug to close
 * there. Until then one phone's request must not end the process for every other user: the
 * error is logged (no request data: it may hold personal data) and the process keeps serving.
 */
export function keepServing(log: Pick<FastifyBaseLogger, 'error'>): void {
  process.on('uncaughtException', (err) => {
    log.error(
      { err: { name: err.name, message: err.message, stack: err.stack } },
      'stray error, still serving',
    );
  });
  process.on('unhandledRejection', (reason) => {
    const err = reason instanceof Error ? reason : new Error(String(reason));
    log.error(
      { err: { name: err.name, message: err.message, stack: err.stack } },
      'stray rejection, still serving',
    );
  });
}
