import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import { syncErrors } from './errors.js';

/**
 * The gateway's HTTP client for CouchDB: keep-alive sockets, streaming both ways, and an
 * AbortSignal tied to the phone's connection. @fastify/reply-from was the obvious choice but
 * cannot abort an upstream request whose response headers have not arrived yet (a longpoll
 * `_changes` on a quiet database can wait a minute for them), and the write path needs the
 * body of CouchDB's answer to merge per-document results anyway.
 */
export interface UpstreamRequest {
  method: string;
  /** Path and query on CouchDB, e.g. `/userdb-61/_changes?since=0`. */
  path: string;
  headers: Record<string, string>;
  body?: Buffer | Readable;
  signal: AbortSignal;
  /**
   * A live feed (longpoll, continuous, eventsource `_changes`): it holds its connection as
   * long as it waits, so it does not take one of the bounded connections.
   */
  live?: boolean;
}

export interface UpstreamResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: IncomingMessage;
}

export interface Upstream {
  request(req: UpstreamRequest): Promise<UpstreamResponse>;
  close(): void;
}

// Longer than CouchDB's longest longpoll timeout (60 s) plus a heartbeat: a socket idle that
// long is a hung server, not a quiet feed.
const IDLE_TIMEOUT_MS = 5 * 60_000;
/** A kept-alive connection nobody has used this long is closed (a burst's leftovers). */
const FREE_SOCKET_MS = 30_000;

/**
 * `maxConnections` (SYNC_UPSTREAM_CONNECTIONS) bounds the connections, hence the requests in
 * flight, for everything but live feeds and streamed uploads; more wait their turn. A
 * thousand phones starting their live pull at once each ask for the database's info and
 * their checkpoint: unbounded, that was a connection, a request and an open database each
 * at the store, whose process ran out of file descriptors.
 */
export function createUpstream(baseUrl: string, maxConnections = Infinity): Upstream {
  const base = new URL(baseUrl);
  const secure = base.protocol === 'https:';
  const Agent = secure ? https.Agent : http.Agent;
  const opts = { keepAlive: true, scheduling: 'lifo' as const, timeout: FREE_SOCKET_MS };
  const bounded = new Agent({ ...opts, maxSockets: maxConnections });
  const unbounded = new Agent(opts);
  const prefix = base.pathname.replace(/\/$/, '');
  return {
    request: (req) =>
      new Promise((resolve, reject) => {
        const headers: Record<string, string | number> = { ...req.headers };
        if (Buffer.isBuffer(req.body)) headers['content-length'] = req.body.length;
        const outgoing = (secure ? https : http).request({
          protocol: base.protocol,
          hostname: base.hostname,
          port: base.port,
          method: req.method,
          path: prefix + req.path,
          headers,
          agent: req.live || (req.body && !Buffer.isBuffer(req.body)) ? unbounded : bounded,
          signal: req.signal,
          timeout: IDLE_TIMEOUT_MS,
        });
        outgoing.on('response', (res) =>
          resolve({ status: res.statusCode ?? 502, headers: res.headers, body: res }),
        );
        outgoing.on('timeout', () => outgoing.destroy(syncErrors.upstreamTimeout()));
        outgoing.on('error', (err) => reject(mapError(err, req.signal)));
        if (req.body === undefined) outgoing.end();
        else if (Buffer.isBuffer(req.body)) outgoing.end(req.body);
        else {
          const body = req.body;
          body.on('error', (err) => outgoing.destroy(err));
          body.pipe(outgoing);
        }
      }),
    close: () => {
      bounded.destroy();
      unbounded.destroy();
    },
  };
}

function mapError(err: Error, signal: AbortSignal): Error {
  if (signal.aborted) return err; // the phone left; nobody will read the answer
  if ((err as { statusCode?: number }).statusCode) return err; // ours (timeout, body limit)
  return syncErrors.unreachable();
}
