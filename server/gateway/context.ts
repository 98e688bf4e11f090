import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Readable } from 'node:stream';
import type { AccountsService } from '../accounts/types.js';
import type { RecheckUser, RequireUser } from '../accounts/authenticate.js';
import { proxyAuthHeaders } from '../couch/proxy-auth.js';
import { userDocId } from '../accounts/records.js';
import type { WriteChecker } from '../rules/index.js';
import type { Metrics } from '../metrics/index.js';
import { couchRoles } from './couch-user.js';
import type { Endpoint } from './endpoints.js';
import { syncErrors } from './errors.js';
import type { Upstream, UpstreamResponse } from './upstream.js';
import type { ChangeHub } from './change-hub.js';
import type { UserNotices } from './user-notices.js';

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
  /** Changes to user records, for requests the token check alone does not cover. */
  userNotices: UserNotices;
  /** The token and user-record check, run again when a parked phone's user record changes. */
  requireUser: RequireUser;
  /** The same check against the record version the accounts feed brought (no read). */
  recheckUser: RecheckUser;
}

const LIVE_FEED = /(?:^|&)feed=(?:longpoll|continuous|eventsource)(?:&|$)/;

/** Client headers CouchDB may see. Everything else (Authorization, cookies, and above all any
 * X-Auth-CouchDB-* a client made up) stays here: the gateway alone says who the user is.
 * Last-Event-ID is where a reconnecting EventSource resumes its `_changes` feed. */
const CLIENT_HEADERS = [
  'accept',
  'content-type',
  'if-match',
  'if-none-match',
  'range',
  'last-event-id',
];

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
      if (live) endLiveFeed(gw, reply, req);
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
 * When a live feed's connection is cut. At shutdown, as CouchDB cuts its own: it would hold
 * the shutdown until its timeout (a minute); the phone reconnects (to another instance) and
 * resumes from its checkpoint. And, for a feed forwarded to CouchDB (`forwardedFor`), when its
 * user's record changes (below).
 */
export function endLiveFeed(gw: Gateway, reply: FastifyReply, forwardedFor?: FastifyRequest): void {
  const end = () => void reply.raw.destroy();
  // Each part of a live feed's answer listens for its close (Fastify, compression, metrics,
  // the upstream call, the hub's waiter, this): a dozen, not a leak; Node warns past ten.
  reply.raw.setMaxListeners(Math.max(reply.raw.getMaxListeners(), 20));
  // Authenticated while the shutdown began: it would start a feed nobody ends.
  if (gw.liveFeeds.closing) return end();
  gw.liveFeeds.ends.add(end);
  // A feed forwarded to CouchDB goes with the roles its user had when it began: it ends when
  // the user's record changes (disabled, roles or teams, password), also if it did while the
  // request was checked, and the phone's reconnection is checked afresh.
  const unwatch = forwardedFor
    ? gw.userNotices.endOnChange(
        userDocId(forwardedFor.sawaUser.name),
        forwardedFor.syncUserStamp,
        end,
      )
    : () => undefined;
  reply.raw.once('close', () => {
    gw.liveFeeds.ends.delete(end);
    unwatch();
  });
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The sync endpoint this request asks for, set by the gateway's first hook. */
    syncEndpoint: Endpoint | null;
    /** Where the gateway's user notices stood before the token check (UserNotices.stamp). */
    syncUserStamp: number;
  }
}
