import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Test } from 'tap';
import type { TestCouch } from '../helpers/store.js';

/**
 * An HTTP proxy in front of a test CouchDB that can answer some requests differently, to
 * show what only a real cluster (or a CouchDB without `_global_changes`) would show:
 * stale view reads, a missing `_db_updates`, opaque sequences. `handle` gets each request
 * and `forward`, which sends it (or a changed copy) on and returns the answer.
 */

export interface ProxyRequest {
  method: string;
  /** Path and query, as received: `/db/_changes?since=0`. */
  url: string;
  headers: Record<string, string>;
  body: Buffer;
}

export interface ProxyResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

export type Forward = (req?: Partial<ProxyRequest>) => Promise<ProxyResponse>;
export type Handler = (req: ProxyRequest, forward: Forward) => Promise<ProxyResponse>;

/** Drops hop-by-hop and encoding headers that no longer describe a re-sent body. */
const DROP = new Set(['host', 'connection', 'content-length', 'transfer-encoding', 'keep-alive']);

function headersOf(msg: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(msg.headers)) {
    if (!DROP.has(k) && v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v;
  }
  // Plain bodies, so a handler can read and rewrite them.
  delete out['accept-encoding'];
  return out;
}

export async function faultProxy(t: Test, target: TestCouch, handle: Handler): Promise<TestCouch> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const request: ProxyRequest = {
        method: req.method ?? 'GET',
        url: req.url ?? '/',
        headers: headersOf(req),
        body: Buffer.concat(chunks),
      };
      const forward: Forward = async (change = {}) => {
        const r = { ...request, ...change };
        const got = await fetch(target.url + r.url, {
          method: r.method,
          headers: r.headers,
          body: r.method === 'GET' || r.method === 'HEAD' ? undefined : new Uint8Array(r.body),
        });
        const headers: Record<string, string> = {};
        got.headers.forEach((v, k) => {
          if (!DROP.has(k) && k !== 'content-encoding') headers[k] = v;
        });
        return { status: got.status, headers, body: Buffer.from(await got.arrayBuffer()) };
      };
      handle(request, forward).then(
        (out) => {
          res.writeHead(out.status, { ...out.headers, 'content-length': out.body.length });
          res.end(out.body);
        },
        (err: unknown) => {
          res.writeHead(502, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: 'proxy', reason: String(err) }));
        },
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  const { port } = server.address() as AddressInfo;
  return { ...target, url: `http://127.0.0.1:${port}` };
}

export function json(status: number, body: unknown): ProxyResponse {
  return {
    status,
    headers: { 'content-type': 'application/json' },
    body: Buffer.from(JSON.stringify(body)),
  };
}

/** The path of a request without its query, its segments decoded. */
export function segments(url: string): string[] {
  return (url.split('?')[0] as string)
    .split('/')
    .filter(Boolean)
    .map((s) => decodeURIComponent(s));
}
