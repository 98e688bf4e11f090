import t from 'tap';
import http from 'node:http';
import { once } from 'node:events';
import { testCouch, couch } from '../helpers/store.js';
import { testService } from '../helpers/service.js';
import { unique } from '../helpers/fixtures.js';

/**
 * Closing with a phone mid-request: the request is answered, its keep-alive connection is
 * closed with it (`Connection: close`), and close() does not wait out the keep-alive timeout
 * (72 s in Fastify; a test that waited it would hit tap's timeout instead of passing).
 */
t.test('a request in flight at close is answered and its connection closed', async (t) => {
  const store = await testCouch(t);
  const svc = await testService(t, store);
  const name = unique('drain');
  const signup = await couch(svc.url, 'POST', '/auth/signup', {
    body: { username: name, password: 'habari-za-asubuhi' },
  });
  t.equal(signup.status, 201);
  const { access_token: token, dbs } = signup.body as {
    access_token: string;
    dbs: { user: string };
  };

  const agent = new http.Agent({ keepAlive: true });
  t.teardown(() => agent.destroy());
  const arrived = once(svc.app.server, 'request');
  // A quiet longpoll is in flight for a second: close() is called while it waits.
  const req = http.get(
    `${svc.url}/sync/${dbs.user}/_changes?feed=longpoll&since=now&timeout=1000`,
    {
      agent,
      headers: { authorization: `Bearer ${token}` },
    },
  );
  const answered = once(req, 'response') as Promise<[http.IncomingMessage]>;
  await arrived;
  const closed = svc.app.close();

  const [res] = await answered;
  const socket = res.socket;
  const body: Buffer[] = [];
  for await (const chunk of res) body.push(chunk as Buffer);
  t.equal(res.statusCode, 200, 'the longpoll is answered');
  t.match(JSON.parse(Buffer.concat(body).toString()), { results: [] });
  t.equal(res.headers.connection, 'close', 'the answer tells the phone to reconnect');
  await closed;
  t.ok(socket.destroyed || socket.readableEnded, 'the keep-alive connection is gone');
  t.equal(svc.app.server.listening, false, 'the service closed');
});
