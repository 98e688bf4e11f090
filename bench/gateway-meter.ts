import { Agent } from 'node:http';
import type { Socket } from 'node:net';
import { gzipSync } from 'node:zlib';
import PouchDB from 'pouchdb';

/** Bodies a lean client gzips before sending: below this gzip saves too little. */
const GZIP_BODIES_FROM = 1024;

/**
 * A phone's connection to a server, metered at the socket: every byte the phone sends and
 * receives (request lines, headers, bodies as sent, chunk framing) and every round trip.
 */
export class Meter {
  private readonly sockets: Socket[] = [];
  private readonly agent: Agent;
  requests = 0;

  constructor() {
    const sockets = this.sockets;
    this.agent = new (class extends Agent {
      override createConnection(...args: Parameters<Agent['createConnection']>) {
        const socket = super.createConnection(...args) as Socket;
        sockets.push(socket);
        return socket;
      }
    })({ keepAlive: true, maxSockets: 8 });
  }

  get bytes(): number {
    return this.sockets.reduce((sum, s) => sum + s.bytesRead + s.bytesWritten, 0);
  }

  /**
   * A remote database as a stock PouchDB whose requests carry `headers` and go through the
   * meter. `gzipBodies`: the lean client's fetch wrapper, which gzips what it sends.
   */
  db(url: string, headers: Record<string, string>, gzipBodies = false) {
    return new PouchDB(url, {
      skip_setup: true,
      fetch: (u: string | Request, o: RequestInit = {}) => {
        this.requests++;
        const h = new Headers(o.headers);
        for (const [k, v] of Object.entries(headers)) h.set(k, v);
        let body = o.body;
        if (gzipBodies && typeof body === 'string' && body.length >= GZIP_BODIES_FROM) {
          body = gzipSync(body);
          h.set('content-encoding', 'gzip');
        }
        return PouchDB.fetch(u, { ...o, body, headers: h, agent: this.agent } as RequestInit);
      },
    });
  }

  /**
   * Closes the meter's connections once no request is in flight. PouchDB's replication asks
   * for the source's info after each batch without waiting for it (for its active-tasks
   * count) and leaves a failure of that request unhandled: destroying the connections as the
   * replication resolved cut that request ("socket hang up") and crashed the benchmark.
   */
  async close(): Promise<void> {
    const until = performance.now() + 10_000;
    while (Object.keys(this.agent.sockets).length > 0 && performance.now() < until) {
      await new Promise((r) => setTimeout(r, 10));
    }
    this.agent.destroy();
  }
}
