import { AsyncLocalStorage } from 'node:async_hooks';
import type { FastifyBaseLogger, FastifyInstance, FastifyReply } from 'fastify';

/** The events close-with-grace must leave to `keepServing`. */
export const STRAY_ERROR_EVENTS: ('uncaughtException' | 'unhandledRejection')[] = [
  'uncaughtException',
  'unhandledRejection',
];

/** The reply of the request whose work is running now (callbacks and promises included). */
const inFlight = new AsyncLocalStorage<FastifyReply>();

/**
 * Ties everything a request starts to its reply, so that a stray error thrown in that work
 * answers that request (500, through the app's own error handler) instead of leaving it
 * hanging. Register on every Fastify app of the process.
 */
export function answerStrayErrors(fastify: FastifyInstance): void {
  fastify.addHook('onRequest', (_req, reply, done) => inFlight.run(reply, done));
}

/** Ends the request a stray error came from, if one did and it is still open. */
function failRequest(err: Error): void {
  const reply = inFlight.getStore();
  // A timer or feed can outlive its answer: the connection may serve someone else by now.
  if (!reply || reply.raw.writableEnded || reply.raw.destroyed) return;
  if (reply.raw.headersSent) reply.raw.destroy(err);
  else void reply.code(500).send(err);
}

/**
 * The last line, not the fix: every request has its own error path, and a bad input that
 * escaped one (a throw in a library callback, a promise nobody awaited) is a bug to close
 * there. Until then one phone's request must not end the process for every other user: the
 * error is logged (no request data: it may hold personal data), the request it came from is
 * answered 500 (see `answerStrayErrors`) and the process keeps serving.
 */
export function keepServing(log: Pick<FastifyBaseLogger, 'error'>): void {
  process.on('uncaughtException', (err) => {
    log.error(
      { err: { name: err.name, message: err.message, stack: err.stack } },
      'stray error, still serving',
    );
    failRequest(err);
  });
  process.on('unhandledRejection', (reason) => {
    const err = reason instanceof Error ? reason : new Error(String(reason));
    log.error(
      { err: { name: err.name, message: err.message, stack: err.stack } },
      'stray rejection, still serving',
    );
    failRequest(err);
  });
}
