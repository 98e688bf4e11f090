import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { CouchRequestError, CouchUnavailable } from '../errors.js';

/**
 * Errors of the accounts routes as Fastify-style JSON. Client errors (our own SAWA_* list,
 * Fastify's validation, body and content-type errors) go out as they are; anything else is
 * logged in a safe summary and answered without details: 503 when CouchDB failed (retry
 * later), 500 otherwise. Never a stack trace, never CouchDB's words.
 */
export function accountsErrorHandler(
  err: FastifyError,
  req: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  const status = err.statusCode ?? 500;
  const known = typeof err.code === 'string' && /^(SAWA|FST)_/.test(err.code);
  if (status < 500 && (known || err.validation)) {
    return send(reply, status, err.code ?? 'FST_ERR_VALIDATION', err.message);
  }
  if (known && status === 503) return send(reply, status, err.code, err.message);
  const couch = err instanceof CouchRequestError || (err as { scope?: unknown }).scope === 'couch';
  req.log.error(
    {
      error: {
        name: err.name,
        message: couch ? err.message : undefined,
        code: err.code,
        status: err.statusCode,
        stack: couch ? undefined : err.stack,
      },
    },
    couch ? 'CouchDB request failed' : 'unexpected error',
  );
  if (couch) {
    const unavailable = new CouchUnavailable();
    return send(reply, 503, unavailable.code, unavailable.message);
  }
  return send(reply, 500, 'SAWA_INTERNAL', 'internal error: retry, and report it if it persists');
}

function send(reply: FastifyReply, statusCode: number, code: string, message: string) {
  return reply.code(statusCode).send({
    statusCode,
    code,
    error: STATUS_CODES[statusCode] ?? 'Error',
    message,
  });
}
