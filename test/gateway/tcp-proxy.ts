import net from 'node:net';
import type { Test } from 'tap';

export interface Upstream {
  url: string;
  /** Resolves with a connection once a request whose first line matches `pattern` goes through it. */
  connectionFor(pattern: RegExp): Promise<{ closed: Promise<void> }>;
  /** The first line of every request that went through, in order. */
  requests: string[];
  /**
   * Holds back the answer to the next request whose first line matches `pattern` until
   * `release` (resolves once such a request went through).
   */
  holdAnswer(pattern: RegExp): Promise<{ release(): void }>;
  /** Cuts the connections that carried a request matching `pattern`. */
  cut(pattern: RegExp): void;
}

/**
 * A TCP relay between the gateway and CouchDB, so a test can watch the gateway's upstream
 * connections open, carry a request and close.
 */
export async function tcpProxy(t: Test, target: string): Promise<Upstream> {
  const to = new URL(target);
  const waiting: { pattern: RegExp; resolve: (c: { closed: Promise<void> }) => void }[] = [];
  const holds: { pattern: RegExp; resolve: (h: { release(): void }) => void }[] = [];
  const sockets = new Set<net.Socket>();
  const requests: string[] = [];
  const carried: { line: string; end: () => void }[] = [];
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(to.port), to.hostname);
    sockets.add(client).add(upstream);
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    client.on('data', (chunk: Buffer) => {
      const line = chunk.toString('latin1').split('\r\n')[0] ?? '';
      if (/^[A-Z]+ \S+ HTTP\/1\.1$/.test(line)) {
        requests.push(line);
        carried.push({ line, end });
      }
      const hold = holds.find((h) => h.pattern.test(line));
      if (hold) {
        holds.splice(holds.indexOf(hold), 1);
        upstream.unpipe(client);
        hold.resolve({ release: () => void upstream.pipe(client) });
      }
      for (const w of [...waiting]) {
        if (w.pattern.test(line)) {
          waiting.splice(waiting.indexOf(w), 1);
          w.resolve({ closed });
        }
      }
    });
    client.pipe(upstream);
    upstream.pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    connectionFor: (pattern) => new Promise((resolve) => waiting.push({ pattern, resolve })),
    requests,
    holdAnswer: (pattern) => new Promise((resolve) => holds.push({ pattern, resolve })),
    cut(pattern) {
      for (const c of carried) if (pattern.test(c.line)) c.end();
    },
  };
}
