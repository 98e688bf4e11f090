import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Readable } from 'node:stream';
import type { AccountsService } from '../accounts/types.js';
import type { RecheckUser, RequireUser } from '../accounts/authenticate.js';
import { proxyAuthHeaders } from '../couch/proxy-auth.js';
import type { WriteChecker } from '../rules/index.js';
import type { Metrics } from '../metrics/index.js';
import { couchRoles } from './couch-user.js';
import type { Endpoint } from './endpoints.js';
import { syncErrors } from './errors.js';
import type { Upstream, UpstreamResponse } from './upstream.js';
import type { ChangeHub } from './change-hub.js';

/** What every gateway handler works with, built once at start-up. */
export interface Gateway {
  upstream: Upstream;
  checker: WriteChecker;
  proxySecret: string;
  bodyLimit: number;
  /** SYNC_MAX_DOCS_PER_REQUEST: most documents one `_bulk_docs` may carry. */
  maxDocs: number;
  accounts: AccountsService;
  metrics: Metrics;
  /** The phones' live feeds in flight, cut when the service shuts down (then `closing`). */
  liveFeeds: { closing: boolean; ends: Set<() => void> };
  /** One `_db_updates` feed waking the phones parked on a longpoll (live-changes.ts). */
  hub: ChangeHub;
  /** The token and user-record check, run again when a parked phone's user record changes. */
  requireUser: RequireUser;
  /** The same check against the record version the accounts feed brought (no read). */
  recheckUser: RecheckUser;
}

const LIVE_FEED = /(?:^|&)feed=(?:longpoll|continuous|eventsource)(?:&|$)/;

/** Client headers CouchDB may see. Everything else (Authorization, cookies, and above all any
 * X-Auth-CouchDB-* a client made up) stays here: the gateway alone says who the user is. */
const CLIENT_HEADERS = ['accept', 'content-type', 'if-match', 'if-none-match', 'range'];

export interface SendOptions {
  method?: string;
  /** Defaults to the endpoint's own path. */
  path?: string;
  query?: string;
  body?: Buffer | Readable;
  /** A JSON body the gateway made (not the client's). */
  json?: unknown;
  /** Pass the client's Accept, Content-Type, If-Match, If-None-Match and Range on (forwarded requests only). */
  clientHeaders?: boolean;
}

/** One phone request's way to CouchDB: as its user, cancelled when the phone goes away. */
export interface UpstreamCall {
  endpoint: Endpoint;
  send(opts: SendOptions): Promise<UpstreamResponse>;
}

export function upstreamCall(gw: Gateway, req: FastifyRequest, reply: FastifyReply): UpstreamCall {
  const endpoint = req.syncEndpoint as Endpoint;
  const user = req.sawaUser;
  const proxy = proxyAuthHeaders({
    name: user.name,
    roles: couchRoles(user),
    secret: gw.proxySecret,
  });
  const abort = new AbortController();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) abort.abort();
  });

  return {
    endpoint,
    async send(opts) {
      const headers: Record<string, string> = { ...proxy, 'accept-encoding': 'identity' };
      if (opts.clientHeaders) {
        for (const name of CLIENT_HEADERS) {
          const value = req.headers[name];
          if (typeof value === 'string') headers[name] = value;
        }
        const length = req.headers['content-length'];
        // A streamed upload keeps its length unless we decoded it (then it goes chunked).
        if (
          opts.body &&
          !Buffer.isBuffer(opts.body) &&
          length &&
          !req.headers['content-encoding']
        ) {
          headers['content-length'] = length;
        }
      } else headers.accept = 'application/json';
      let body = opts.body;
      if (opts.json !== undefined) {
        body = Buffer.from(JSON.stringify(opts.json));
        headers['content-type'] = 'application/json';
      }
      const query = opts.query ?? '';
      const path = opts.path ?? endpoint.upstreamPath;
      const live = path.endsWith('/_changes') && LIVE_FEED.test(query);
      if (live) endAtShutdown(gw, reply);
      const res = await gw.upstream.request({
        method: opts.method ?? req.method,
        path: path + (query ? `?${query}` : ''),
        headers,
        body,
        signal: abort.signal,
        live,
      });
      if (res.status === 401) {
        // The phone's token was good (requireUser said so): CouchDB refusing us means the proxy
        // secret or CouchDB's proxy settings are wrong. Passing 401 on would send every phone
        // into a refresh-and-retry loop.
        res.body.resume();
        req.log.error(
          { db: endpoint.db },
          'CouchDB refused proxy authentication: check COUCHDB_PROXY_SECRET',
        );
        throw syncErrors.upstreamRefusedGateway();
      }
      return res;
    },
  };
}

/**
 * A live feed would hold a shutdown until its timeout (a minute): at shutdown its connection
 * is cut, as CouchDB cuts its own, and the phone reconnects (to another instance) and resumes
 * from its checkpoint.
 */
export function endAtShutdown(gw: Gateway, reply: FastifyReply): void {
  const end = () => void reply.raw.destroy();
  // Authenticated while the shutdown began: it would start a feed nobody ends.
  if (gw.liveFeeds.closing) return end();
  gw.liveFeeds.ends.add(end);
  reply.raw.once('close', () => gw.liveFeeds.ends.delete(end));
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The sync endpoint this request asks for, set by the gateway's first hook. */
    syncEndpoint: Endpoint | null;
  }
}
