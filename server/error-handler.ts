import { STATUS_CODES } from 'node:http';
import { Type, type TSchema } from '@sinclair/typebox';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { CouchRequestError, CouchUnavailable } from './errors.js';

/**
 * The one error handler of Sawa's own routes (accounts, reports, /health, /ready, /metrics,
 * /docs): Fastify-shaped JSON `{statusCode, code, error, message}`. The CouchDB paths (the
 * gateway) answer CouchDB-shaped bodies from their own handler instead.
 *
 * Client errors from our own list (SAWA_…) and Fastify's (FST_…, validation, body and
 * content-type) go out as they are. Any other client error keeps its status with only the
 * status's name, since its words may be a library's internals. Anything else is logged in
 * a safe summary and answered without details: 503 when CouchDB failed (retry later), 500
 * otherwise. Never a stack trace, never CouchDB's words.
 */
export function errorHandler(
  err: FastifyError,
  req: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  const status = err.statusCode ?? 500;
  const known = typeof err.code === 'string' && /^(SAWA|FST)_/.test(err.code);
  const couch = err instanceof CouchRequestError || (err as { scope?: unknown }).scope === 'couch';
  if (status >= 400 && status < 500 && (known || err.validation)) {
    return send(reply, status, err.code ?? 'FST_ERR_VALIDATION', err.message);
  }
  if (known && status === 503) return send(reply, status, err.code, err.message);
  if (status >= 400 && status < 500 && !couch) {
    return send(reply, status, 'SAWA_CLIENT_ERROR', STATUS_CODES[status] ?? 'client error');
  }
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

/** What the handler answers, for the routes' OpenAPI schemas. */
export const ErrorResponse = Type.Object(
  {
    statusCode: Type.Integer(),
    code: Type.String({ description: 'stable error code, e.g. SAWA_BAD_CREDENTIALS' }),
    error: Type.String(),
    message: Type.String(),
  },
  { description: 'Fastify-style error' },
);

/** The error responses a route can give, each documented with the same body. */
export function errors(...codes: number[]): Record<number, TSchema> {
  return Object.fromEntries(codes.map((c) => [c, ErrorResponse]));
}

function send(reply: FastifyReply, statusCode: number, code: string, message: string) {
  return reply.code(statusCode).send({
    statusCode,
    code,
    error: STATUS_CODES[statusCode] ?? 'Error',
    message,
  });
}
