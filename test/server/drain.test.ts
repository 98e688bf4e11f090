import t from 'tap';
import http from 'node:http';
import net from 'node:net';
import { once } from 'node:events';
import { testCouch, couch } from '../helpers/store.js';
import { testService } from '../helpers/service.js';
import { unique } from '../helpers/fixtures.js';

/**
 * Shutting down with phones connected. An answer in flight is finished and its keep-alive
 * connection closed with it (`Connection: close`), instead of holding close() for Fastify's
 * 72 s keep-alive timeout; a live feed in flight is cut at once instead of holding close()
 * until its own timeout. Either way the phone reconnects, to another instance.
 */

/** Waits for `p`, failing after `ms` (a close that waits out a timeout takes a minute). */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

t.test('an answer in flight at shutdown closes its keep-alive connection', async (t) => {
  const svc = await testService(t, await testCouch(t));
  const agent = new http.Agent({ keepAlive: true });
  t.teardown(() => agent.destroy());
  const arrived = once(svc.app.server, 'request');
  // Half a body: the request cannot be answered before close() has begun.
  const req = http.request(`${svc.url}/auth/login`, {
    method: 'POST',
    agent,
    headers: { 'content-type': 'application/json' },
  });
  req.write('{"username":"nobody-here",');
  await arrived;
  const closed = svc.app.close();
  req.end('"password":"not-the-password"}');

  const [res] = (await once(req, 'response')) as [http.IncomingMessage];
  res.resume();
  await once(res, 'end');
  t.equal(res.statusCode, 401, 'answered as usual');
  t.equal(res.headers.connection, 'close', 'the answer tells the phone to reconnect');
  await within(closed, 20_000, 'close()');
  t.equal(svc.app.server.listening, false, 'the service closed');
});

t.test('a live feed in flight at shutdown is cut at once', async (t) => {
  const svc = await testService(t, await testCouch(t));
  const signup = await couch(svc.url, 'POST', '/auth/signup', {
    body: { username: unique('drain'), password: 'habari-za-asubuhi' },
  });
  t.equal(signup.status, 201);
  const { access_token: token, dbs } = signup.body as {
    access_token: string;
    dbs: { user: string };
  };
  const arrived = once(svc.app.server, 'request');
  // A quiet database: this longpoll would wait its full minute.
  const req = http.get(
    `${svc.url}/sync/${dbs.user}/_changes?feed=longpoll&since=now&timeout=60000`,
    { headers: { authorization: `Bearer ${token}` } },
  );
  const ended = new Promise<string>((resolve) => {
    req.on('error', (err) => resolve(`cut (${(err as NodeJS.ErrnoException).code})`));
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve(`answered ${res.statusCode}`));
      res.on('error', () => resolve('cut mid-answer'));
    });
  });
  await arrived;
  await within(svc.app.close(), 20_000, 'close() with a longpoll in flight');
  t.match(await within(ended, 5_000, 'the longpoll'), /^cut/, 'the phone sees the feed cut');
});

t.test('a connection that never sent a request does not hold the shutdown', async (t) => {
  const svc = await testService(t, await testCouch(t));
  // A phone's fetch aborted while connecting: Node counts it neither idle nor busy and
  // would keep it, and close() with it, for its 60 s headers timeout.
  const accepted = once(svc.app.server, 'connection');
  const socket = net.connect(Number(new URL(svc.url).port), '127.0.0.1');
  socket.on('error', () => {});
  await accepted;
  const ended = once(socket, 'close');
  await within(svc.app.close(), 10_000, 'close()');
  await within(ended, 10_000, 'the quiet connection ended');
  t.ok(socket.destroyed, 'the server ended the connection that carried no request');
});
