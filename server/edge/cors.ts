import fp from 'fastify-plugin';
import cors from '@fastify/cors';
import type { FastifyInstance } from 'fastify';
import { splitList } from './trust-proxy.js';

/**
 * CORS for apps served from another origin: Capacitor, Cordova and Ionic shells
 * (`capacitor://localhost`, `ionic://localhost`, `http://localhost`) and web apps hosted
 * apart from the API. Only the origins in CORS_ORIGINS are answered; with none (the default)
 * the plugin is not registered and browsers refuse cross-origin calls, as before.
 *
 * @fastify/cors answers preflights in an onRequest hook registered at the root, so the
 * gateway's own OPTIONS handling (405) and every route's authentication never see them.
 */

/** Headers a PouchDB client and Sawa's client library send. */
export const ALLOWED_HEADERS = [
  'Authorization',
  'Content-Type',
  'Content-Encoding',
  'Accept',
  'X-Sawa-Device',
  'If-None-Match',
  'If-Match',
];

/** Headers a client reads beyond the CORS-safelisted ones (Content-Type, Content-Length…). */
export const EXPOSED_HEADERS = ['ETag', 'Retry-After', 'WWW-Authenticate', 'Content-Encoding'];

/** Browsers cache a preflight this long (Chromium caps it at 2 hours): fewer round trips on 2G. */
const PREFLIGHT_MAX_AGE_SEC = 7200;

/** `scheme://host[:port]` as a browser sends it in Origin: no path, no trailing slash. */
const ORIGIN = /^[a-z][a-z0-9+.-]*:\/\/[^/\s?#]+$/;

/** Problems with a CORS_ORIGINS value, for the configuration check (empty: fine). */
export function corsOriginsProblems(value: string | undefined, nodeEnv: string): string[] {
  if (value === undefined) return [];
  return splitList(value).flatMap((o) => {
    if (o === '*')
      return nodeEnv === 'production'
        ? ['"*" is refused in production: list the origins of your apps']
        : [];
    return ORIGIN.test(o)
      ? []
      : [`"${o}" is not an origin: scheme://host[:port], without a path or a trailing slash`];
  });
}

async function corsPlugin(app: FastifyInstance): Promise<void> {
  const origins = splitList(app.config.CORS_ORIGINS ?? '');
  if (origins.length === 0) return;
  await app.register(cors, {
    // `*` reflects the request's origin: a literal * is not allowed with credentials.
    origin: origins.includes('*') ? true : origins,
    methods: ['GET', 'HEAD', 'POST', 'PUT', 'DELETE'],
    allowedHeaders: ALLOWED_HEADERS,
    exposedHeaders: EXPOSED_HEADERS,
    // PouchDB's HTTP adapter fetches with credentials: 'include', which a browser only lets
    // through with this header. Sawa authenticates by Bearer token and sets no cookies, so
    // no ambient credential rides on it.
    credentials: true,
    maxAge: PREFLIGHT_MAX_AGE_SEC,
    strictPreflight: true,
  });
}

export default fp(corsPlugin, { name: 'cors' });
