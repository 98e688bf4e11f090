import fp from 'fastify-plugin';
import Nano from 'nano';
import { Agent } from 'undici';
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
  /** Lets requests in flight finish, then closes the kept-alive connections to CouchDB. */
  close(): Promise<void>;
}

declare module 'fastify' {
  interface FastifyInstance {
    couch: Couch;
  }
}

export function createCouch(conn: CouchConnection): Couch {
  const url = new URL(conn.url);
  url.username = encodeURIComponent(conn.admin.name);
  url.password = encodeURIComponent(conn.admin.password);
  // nano's own connection pool, so closing it touches nothing else in the process (the
  // global fetch dispatcher is shared with everything else).
  const agent = new Agent({ keepAliveTimeout: 10_000 });
  // nano's types ask for the Agent class, but it passes the value on as fetch's dispatcher,
  // which is an instance.
  const agentOptions = agent as unknown as Nano.Configuration['agentOptions'];
  const nano = Nano({ url: url.toString(), agentOptions });
  return {
    conn,
    nano,
    close: () => agent.close(),
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
