import t from 'tap';
import http from 'node:http';
import zlib from 'node:zlib';
import { unique } from '../helpers/fixtures.js';
import { testCouch } from '../helpers/store.js';
import { gateway } from './helper.js';
import { tcpProxy } from './tcp-proxy.js';

// _changes feeds stream: heartbeats reach the phone through compression, and a phone that
// goes away takes the upstream request with it.

const store = await testCouch(t);
const upstream = await tcpProxy(t, store.url);
const gw = await gateway(t, { store, couchUrl: upstream.url });
const amina = unique('amina');
const auth = await gw.signup(amina);
const DB = auth.dbs.user;
const base = new URL(gw.url);

/** A streaming GET that stays open; resolves once the response headers arrive. */
function open(path: string, headers: Record<string, string> = {}) {
  return new Promise<{ req: http.ClientRequest; res: http.IncomingMessage }>((resolve, reject) => {
    const req = http.request({
      host: base.hostname,
      port: base.port,
      path,
      agent: false,
      headers: { authorization: `Bearer ${auth.access_token}`, ...headers },
    });
    req.on('response', (res) => resolve({ req, res }));
    req.on('error', reject);
    req.end();
  });
}

/** Resolves with what the decoded body has said once it contains `want`. */
function readUntil(body: NodeJS.ReadableStream, want: string) {
  return new Promise<string>((resolve, reject) => {
    let seen = '';
    body.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      if (seen.includes(want)) resolve(seen);
    });
    body.on('error', reject);
  });
}

/** `promise`, or a failure after a generous bound: a hang must fail the test, not stall it. */
function within<T>(promise: Promise<T>, what: string, ms = 15_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<T>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen`)), ms);
  });
  return Promise.race([promise, bound]).finally(() => clearTimeout(timer));
}

for (const [feed, encoding] of [
  ['longpoll', 'identity'],
  ['continuous', 'identity'],
  ['longpoll', 'gzip'],
] as const) {
  t.test(
    `a phone that leaves a ${feed} feed (${encoding}) closes the upstream request`,
    async (t) => {
      const carried = upstream.connectionFor(new RegExp(`^GET /${DB}/_changes\\?feed=${feed}`));
      const { req, res } = await open(
        `/sync/${DB}/_changes?feed=${feed}&since=now&heartbeat=1000`,
        {
          'accept-encoding': encoding,
        },
      );
      t.equal(res.statusCode, 200);
      await within(
        readUntil(encoding === 'gzip' ? res.pipe(zlib.createGunzip()) : res, '\n'),
        'a first heartbeat',
      );
      const conn = await carried;
      req.destroy();
      await within(conn.closed, 'the upstream connection closing');
      t.pass('the upstream connection closed');
    },
  );
}

for (const [encoding, inflate] of [
  ['gzip', () => zlib.createGunzip()],
  ['br', () => zlib.createBrotliDecompress()],
] as const) {
  t.test(`longpoll heartbeats flush through ${encoding}`, async (t) => {
    const { req, res } = await open(`/sync/${DB}/_changes?feed=longpoll&since=now&heartbeat=1000`, {
      'accept-encoding': encoding,
    });
    t.equal(res.headers['content-encoding'], encoding);
    const body = res.pipe(inflate());
    const seen = await within(readUntil(body, '\n'), `a heartbeat through ${encoding}`);
    // CouchDB 3.5's longpoll opens its array at once, then sends newlines as heartbeats.
    t.match(seen, /^(\{"results":\[)?\n+$/, 'only heartbeats so far: nothing changed');
    req.destroy();
  });
}

t.test('a longpoll answers when a change arrives, compressed', async (t) => {
  const { res } = await open(`/sync/${DB}/_changes?feed=longpoll&since=now&heartbeat=1000`, {
    'accept-encoding': 'gzip',
  });
  const body = res.pipe(zlib.createGunzip());
  const done = within(readUntil(body, 'last_seq'), 'the feed answering');
  const put = await gw.call('PUT', `/sync/${DB}/_local/poke`, {
    auth: `Bearer ${auth.access_token}`,
    body: { n: 1 },
  });
  t.equal(put.status, 201);
  const write = await gw.call('POST', `/sync/${DB}/_bulk_docs`, {
    auth: `Bearer ${auth.access_token}`,
    body: { docs: [{ _id: '_design/x' }] },
  });
  t.equal(write.status, 201, 'refused per document, nothing written');
  const farmer = {
    _id: 'farmer-1',
    type: 'farmer',
    owner: amina,
    created_at: '2024-05-01T09:30:00+03:00',
    updated_at: '2024-05-01T09:30:00+03:00',
    name: 'Asha',
    village: 'Kilosa',
    district: 'Morogoro',
  };
  t.equal(
    (
      await gw.call('POST', `/sync/${DB}/_bulk_docs`, {
        auth: `Bearer ${auth.access_token}`,
        body: { docs: [farmer] },
      })
    ).status,
    201,
  );
  const seen = await done;
  t.match(JSON.parse(seen.trim()), { results: [{ id: 'farmer-1' }] });
});
