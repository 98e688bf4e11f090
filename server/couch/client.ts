import fp from 'fastify-plugin';
import Nano from 'nano';
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
  const nano = Nano({ url: url.toString() });
  return {
    conn,
    nano,
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

/** The CouchDB client every other part uses: one nano instance, as server admin. */
export default fp(
  async function couchPlugin(app: FastifyInstance, opts: { conn: CouchConnection }) {
    app.decorate('couch', createCouch(opts.conn));
  },
  { name: 'couch' },
);
