import fp from 'fastify-plugin';
import Nano from 'nano';
import type { Socket } from 'node:net';
import { Agent, buildConnector } from 'undici';
import type { FastifyInstance } from 'fastify';

export interface CouchConnection {
  /** Base URL without credentials (safe to log). */
  url: string;
  admin: { name: string; password: string };
  /** Secret for CouchDB proxy authentication, to act as a user. */
  proxySecret: string;
}

export interface Couch {
  conn: CouchConnection;
  /** nano as server admin. */
  nano: Nano.ServerScope;
  /** True when CouchDB answers `GET /_up`. */
  up(): Promise<boolean>;
  /**
   * Lets requests in flight finish for up to `graceMs` (default 2 s), then closes every
   * connection to CouchDB, cutting whatever is still running.
   */
  close(graceMs?: number): Promise<void>;
}

declare module 'fastify' {
  interface FastifyInstance {
    couch: Couch;
  }
}

const CLOSE_GRACE_MS = 2000;

/**
 * nano's connection pool to CouchDB, with a `close` that cannot hang. undici's own `close()`
 * waits for every request in flight, and an aborted fetch is not always taken off its
 * connection (a changes follower stopped under load as its longpoll went out held the
 * service's shutdown until CouchDB ended that longpoll, a minute later); `destroy()` after
 * `close()` does not cut anything. So the pool keeps its sockets, and at close whatever is
 * still running after the grace period (background work whose owner has stopped) has its
 * socket destroyed.
 */
function connectionPool(): { agent: Agent; close(graceMs: number): Promise<void> } {
  const sockets = new Set<Socket>();
  const connect = buildConnector({});
  const agent = new Agent({
    keepAliveTimeout: 10_000,
    connect: (opts, callback) =>
      connect(opts, (err, socket) => {
        if (socket) {
          sockets.add(socket);
          socket.once('close', () => sockets.delete(socket));
        }
        (callback as (e: Error | null, s: Socket | null) => void)(err, socket);
      }),
  });
  return {
    agent,
    async close(graceMs) {
      const closed = agent.close();
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), graceMs);
      });
      if (await Promise.race([closed.then(() => false), late])) {
        for (const socket of sockets) socket.destroy();
        await closed;
      }
      clearTimeout(timer);
    },
  };
}

export function createCouch(conn: CouchConnection): Couch {
  const url = new URL(conn.url);
  url.username = encodeURIComponent(conn.admin.name);
  url.password = encodeURIComponent(conn.admin.password);
  // nano's own connection pool, so closing it touches nothing else in the process (the
  // global fetch dispatcher is shared with everything else).
  const pool = connectionPool();
  // nano's types ask for the Agent class, but it passes the value on as fetch's dispatcher,
  // which is an instance.
  const agentOptions = pool.agent as unknown as Nano.Configuration['agentOptions'];
  const nano = Nano({ url: url.toString(), agentOptions });
  return {
    conn,
    nano,
    close: (graceMs = CLOSE_GRACE_MS) => pool.close(graceMs),
    async up() {
      try {
        const res = await nano.request({ path: '_up' });
        return (res as { status?: string }).status === 'ok';
      } catch {
        return false;
      }
    },
  };
}

/**
 * The CouchDB client every other part uses: one nano instance, as server admin. Registered
 * first, so its onClose runs last: the other plugins' own onClose (sync times, jobs) still
 * reach CouchDB.
 */
export default fp(
  async function couchPlugin(app: FastifyInstance, opts: { conn: CouchConnection }) {
    const couch = createCouch(opts.conn);
    app.decorate('couch', couch);
    app.addHook('onClose', async () => couch.close());
  },
  { name: 'couch' },
);
